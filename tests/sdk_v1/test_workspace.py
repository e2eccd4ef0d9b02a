"""Workspace.from_config finds config.json as v1 does (the folder given, its parents,
their .azureml/), then $MLCYCLE_HOME/config.json; a config.json downloaded from Azure
(no mlcycle endpoint) or none at all is refused with what to do; Workspace.get reads the
CLI's configuration; the key never shows in a repr."""
import json
import os
import stat

import pytest
from azureml.core import Workspace
from azureml.exceptions import UserErrorException

MLCYCLE = {"endpoint": "http://127.0.0.1:8470/api", "key": "s3cret-key",
           "subscription_id": "sub", "resource_group": "rg", "workspace_name": "mlcycle"}


@pytest.fixture(autouse=True)
def no_mlcycle_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MLCYCLE_HOME", str(tmp_path / "empty-home"))
    for name in ("MLCYCLE_CONFIG", "MLCYCLE_ENDPOINT", "MLCYCLE_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_config_json_is_found_in_a_parents_azureml_folder(tmp_path, monkeypatch):
    (tmp_path / ".azureml").mkdir()
    (tmp_path / ".azureml" / "config.json").write_text(json.dumps(MLCYCLE))
    (tmp_path / "notebooks" / "deep").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "notebooks" / "deep")

    ws = Workspace.from_config()

    assert (ws.name, ws.subscription_id, ws.resource_group) == ("mlcycle", "sub", "rg")
    assert ws._conn.endpoint == "http://127.0.0.1:8470"  # the /api of a Functions URL dropped
    assert "s3cret-key" not in repr(ws) + repr(ws._conn)


def test_the_mlcycle_home_config_is_the_last_place_looked(tmp_path, monkeypatch):
    home = tmp_path / "empty-home"
    home.mkdir()
    (home / "config.json").write_text(json.dumps(MLCYCLE))
    monkeypatch.chdir(tmp_path)

    assert Workspace.from_config().name == "mlcycle"


def test_an_azure_config_json_is_refused_naming_the_file(tmp_path):
    azure = {"subscription_id": "x", "resource_group": "y", "workspace_name": "z"}
    (tmp_path / "config.json").write_text(json.dumps(azure))

    with pytest.raises(UserErrorException, match="config.json names no mlcycle endpoint"):
        Workspace.from_config(path=str(tmp_path / "config.json"))


def test_no_config_anywhere_is_refused_with_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserErrorException, match="could not find config.json.*mlcycle up"):
        Workspace.from_config()


def test_workspace_get_uses_the_clis_endpoint_and_refuses_another_workspace(tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv("MLCYCLE_ENDPOINT", "http://127.0.0.1:9999")
    monkeypatch.setenv("MLCYCLE_KEY", "k")
    assert Workspace.get("anything")._conn.endpoint == "http://127.0.0.1:9999"
    home = tmp_path / "empty-home"
    home.mkdir()
    (home / "config.json").write_text(json.dumps(MLCYCLE))
    with pytest.raises(UserErrorException, match="'other' is not served here"):
        Workspace.get("other")


def test_write_config_writes_a_file_its_owner_alone_reads(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(MLCYCLE))
    ws = Workspace.from_config(path=str(tmp_path / "config.json"))

    ws.write_config(path=str(tmp_path / "copy"))

    written = tmp_path / "copy" / ".azureml" / "config.json"
    assert stat.S_IMODE(os.stat(written).st_mode) == 0o600
    assert Workspace.from_config(path=str(written))._conn.key == "s3cret-key"
