"""Bundles over the limits, sent to a real local host whose limits are set small: a bomb
(a few KB that unpack to many MiB) and a bundle of too many files are refused with a
413 / 400 naming the limit, at upload and when a job names one already stored; and the
CLI tells its user the limit when the server refuses a bundle unread, instead of
"Broken pipe"."""
import functools
import hashlib
import io
import json
import os
import tarfile

import pytest

import shared.localhost.host as host_module
from shared.localhost.host import LocalHost, write_config
from shared.localhost.http_server import make_server
from shared.settings import Settings
from tests.reliability.ledger import record

MiB = 1 << 20
UPLOAD_LIMIT = 256 * 1024  # bodies of POST /api/snapshots, refused unread past it
MAX_MEMBERS = 30
JOB = ("$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
       "code: ./src\ncommand: python train.py\nenvironment: azureml:e@latest\n")


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    root = tmp_path_factory.mktemp("bundle-limits")
    settings = Settings(root / "data", retry_backoff_s=0.2, max_unpacked_bytes=MiB,
                        max_unpacked_members=MAX_MEMBERS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(host_module, "make_server",
                   functools.partial(make_server, max_upload=UPLOAD_LIMIT))
        local = LocalHost(settings)
    with local:
        local.home = root / "home"
        write_config(local.url, local.key, local.home)
        yield local


def bundle(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return raw.getvalue()


def bomb() -> bytes:
    data = bundle({"job.yml": JOB.encode(), "src/train.py": b"print(1)\n",
                   "src/zeros.bin": bytes(32 * MiB)})
    assert len(data) < 64 * 1024  # well under the upload limit: only unpacking is big
    return data


def stored(host) -> list[str]:
    return host.container.blobs.list("bundles")


def error_of(answer) -> dict:
    return answer.json()["error"]


def test_an_upload_that_unpacks_past_the_limit_is_a_413_naming_it(host, api):
    before = stored(host)
    answer = api("POST", "/api/snapshots", body=bomb())
    record("bad input", "bundle of 32 MiB of zeros packed in 32 KB (upload)", injected=1,
           lost=int(answer.status != 413 or stored(host) != before),
           checked="status, message, stored bundles")
    assert answer.status == 413, answer.body[:300]
    assert "1 MiB" in error_of(answer)["message"]
    assert "MLCYCLE_MAX_UNPACKED_BYTES" in error_of(answer)["message"]
    assert stored(host) == before


def test_an_upload_of_too_many_files_is_a_400_naming_the_limit(host, api):
    before = stored(host)
    many = bundle({f"src/f{i}.py": b"" for i in range(MAX_MEMBERS + 1)})
    answer = api("POST", "/api/snapshots", body=many)
    assert answer.status == 400, answer.body[:300]
    assert str(MAX_MEMBERS) in error_of(answer)["message"]
    assert stored(host) == before


def test_a_job_naming_a_stored_bomb_is_a_413_and_creates_nothing(host, api):
    """A bundle stored before the limits existed, or by another door, is checked again
    where it is unpacked."""
    data = bomb()
    digest = hashlib.sha256(data).hexdigest()
    host.container.blobs.put(f"bundles/{digest}.tar.gz", data)
    runs = host.container.registry.list("run")
    answer = api("POST", "/api/jobs", body=json.dumps(
        {"snapshot": digest, "spec_path": "job.yml"}).encode())
    record("bad input", "stored bundle of 32 MiB of zeros named by POST /api/jobs",
           injected=1, lost=int(answer.status != 413), checked="status, runs")
    assert answer.status == 413, answer.body[:300]
    assert "1 MiB" in error_of(answer)["message"]
    assert host.container.registry.list("run") == runs


def spec_with_code(folder, payload: bytes):
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "train.py").write_text("print(1)\n")
    (folder / "src" / "weights.bin").write_bytes(payload)
    (folder / "job.yml").write_text(JOB)
    return folder / "job.yml"


def test_the_cli_names_the_upload_limit_of_a_server_that_refuses_the_bundle_unread(
        host, cli, tmp_path):
    # Incompressible and far larger than the sockets' buffers: the server answers 413
    # and closes while the CLI is still sending.
    spec = spec_with_code(tmp_path, os.urandom(24 * MiB))
    code, out, err = cli("job", "create", "-f", spec)
    record("bad input", "CLI bundle of 24 MiB over a 256 KiB upload limit", injected=1,
           lost=int("Broken pipe" in err or str(UPLOAD_LIMIT) not in err),
           checked="exit code, message")
    assert code == 1, err
    assert f"body over {UPLOAD_LIMIT} bytes" in err
    assert "PayloadTooLarge" in err and "Broken pipe" not in err
    assert "Traceback" not in err


def test_the_cli_names_the_unpacked_limit_of_a_bundle_that_unpacks_past_it(
        host, cli, tmp_path):
    spec = spec_with_code(tmp_path, bytes(8 * MiB))
    code, out, err = cli("job", "create", "-f", spec)
    assert code == 1, err
    assert "1 MiB" in err and "MLCYCLE_MAX_UNPACKED_BYTES" in err
    assert "Traceback" not in err
