"""Fields the official schemas accept and mlcycle does not act on: one warning each, so
that a spec written for Azure ML never loses a setting silently."""
from __future__ import annotations

import pytest

from shared.specs import load_spec
from shared.specs.ignored import gpu_warning
from tests.unit.spec_files import MINIMAL_JOB, write


@pytest.fixture
def no_gpu(tmp_path, monkeypatch):
    """A PATH without nvidia-smi, as on a machine without NVIDIA's driver."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_a_plain_job_has_no_warnings(tmp_path):
    assert load_spec(write(tmp_path, "job.yml", MINIMAL_JOB)).warnings == ()


def test_interactive_services_identity_and_resource_settings_are_named(tmp_path):
    spec = load_spec(write(tmp_path, "job.yml", MINIMAL_JOB + (
        "services:\n  my_vscode:\n    type: vs_code\n"
        "identity:\n  type: user_identity\n"
        "resources:\n  instance_count: 1\n  shm_size: 8g\n")))

    assert [w.split(":")[0] for w in spec.warnings] == [
        "services is ignored", "identity is ignored", "resources.shm_size is ignored"]
    assert all("\n" not in w for w in spec.warnings)


def test_environment_variables_are_honoured_not_warned_of(tmp_path):
    spec = load_spec(write(tmp_path, "job.yml", MINIMAL_JOB + (
        "environment_variables:\n  GREETING: hello\n  VERBOSE: true\n  RETRIES: 3\n")))

    assert spec.environment_variables == {"GREETING": "hello", "VERBOSE": "true", "RETRIES": "3"}
    assert spec.warnings == ()


def test_a_field_added_by_set_is_warned_of_too(tmp_path):
    path = write(tmp_path, "job.yml", MINIMAL_JOB)

    spec = load_spec(path, overrides=["services.my_vscode.type=vs_code"])

    assert spec.warnings[0].startswith("services is ignored: interactive services")


def test_compute_location_and_ssh_are_named(tmp_path):
    spec = load_spec(write(tmp_path, "compute.yml", (
        "$schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json\n"
        "name: cpu\ntype: amlcompute\nsize: Standard_DS3_v2\nlocation: westeurope\n"
        "ssh_settings:\n  admin_username: azureuser\n")))

    assert [w.split(":")[0] for w in spec.warnings] == ["location is ignored",
                                                          "ssh_settings is ignored"]


def test_a_gpu_size_without_a_gpu_here_says_it_runs_on_cpu(no_gpu):
    assert gpu_warning("Standard_NC6s_v3", "size") == (
        "size Standard_NC6s_v3 has GPUs, but none is visible where mlcycle runs: on the "
        "local host its work runs on CPU")


def test_a_gpu_compute_is_warned_of_at_intake(container, tmp_path, no_gpu):
    from shared.handlers.intake import accept_spec

    path = write(tmp_path, "compute.yml", (
        "$schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json\n"
        "name: gpu\ntype: amlcompute\nsize: Standard_NC6s_v3\n"))
    p = container.ports()

    _, body = accept_spec(path, root=tmp_path, key="k", blobs=p["blobs"],
                          registry=p["registry"], bus=p["bus"], clock=p["clock"])

    assert body["warnings"] == [gpu_warning("Standard_NC6s_v3", "size")]


def test_a_gpu_size_where_the_driver_is_installed_is_not_warned_of(tmp_path, monkeypatch):
    driver = tmp_path / "driver-bin"
    driver.mkdir()
    (driver / "nvidia-smi").write_text("#!/bin/sh\n")
    (driver / "nvidia-smi").chmod(0o755)
    monkeypatch.setenv("PATH", str(driver))

    assert gpu_warning("Standard_NC6s_v3", "size") is None


@pytest.mark.parametrize("size", ["Standard_DS3_v2", "Standard_F4s_v2", None])
def test_cpu_sizes_are_not_warned_of(size, no_gpu):
    assert gpu_warning(size, "size") is None


def test_endpoint_identity_and_traffic_are_named(tmp_path):
    spec = load_spec(write(tmp_path, "endpoint.yml", (
        "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json\n"
        "name: ep\nauth_mode: key\ntraffic:\n  blue: 100\n"
        "identity:\n  type: system_assigned\n")))

    assert [w.split(":")[0] for w in spec.warnings] == ["identity is ignored",
                                                          "traffic is ignored"]
