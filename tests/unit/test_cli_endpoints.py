"""`mlcycle online-endpoint ...` and `mlcycle online-deployment ...` against a fake API."""
from __future__ import annotations

import json

from shared.cli.main import main
from tests.unit.test_cli_fakeapi import Answer, api, snapshot_accepted  # noqa: F401


def endpoint(state: str, error=None) -> dict:
    return {"name": "iris-ep", "traffic": {"blue": 100},
            "deployments": [{"name": "blue", "model": "clf", "model_version": "1",
                             "state": state, "error": error}]}


def deployment_spec(tmp_path):
    path = tmp_path / "blue.yml"
    path.write_text("name: blue\nendpoint_name: iris-ep\nmodel: azureml:clf:1\n"
                    "instance_type: Standard_DS3_v2\ninstance_count: 1\n")
    return str(path)


class TestOnlineDeploymentCreate:
    def test_posts_under_the_endpoint_and_waits_for_succeeded(self, api, tmp_path, capsys):
        api.on("POST", "/api/snapshots", snapshot_accepted())
        api.on("POST", "/api/endpoints/iris-ep/deployments",
               Answer(202, {"name": "blue", "state": "Creating"}))
        api.on("GET", "/api/endpoints/iris-ep", Answer(200, endpoint("Creating")),
               Answer(200, endpoint("Succeeded")))
        assert main(["online-deployment", "create", "-f", deployment_spec(tmp_path),
                     "--all-traffic"]) == 0
        body = api.calls("POST", "/api/endpoints/iris-ep/deployments")[0].json()
        assert body["all_traffic"] is True and body["spec_path"] == "blue.yml"
        assert len(api.calls("GET", "/api/endpoints/iris-ep")) == 2
        assert json.loads(capsys.readouterr().out)["state"] == "Succeeded"

    def test_exits_1_with_the_message_when_it_failed(self, api, tmp_path, capsys):
        api.on("POST", "/api/snapshots", snapshot_accepted())
        api.on("POST", "/api/endpoints/other/deployments", Answer(202, {"name": "blue"}))
        api.on("GET", "/api/endpoints/other",
               Answer(200, endpoint("Failed", {"message": "health check timed out"})))
        code = main(["online-deployment", "create", "-f", deployment_spec(tmp_path),
                     "-e", "other"])
        assert code == 1
        err = capsys.readouterr().err
        assert err == "mlcycle: deployment blue failed: health check timed out\n"
        body = api.calls("POST", "/api/endpoints/other/deployments")[0].json()
        assert body["all_traffic"] is False and body["set"] == ["endpoint_name=other"]

    def test_no_wait_prints_the_accepted_deployment(self, api, tmp_path, capsys):
        api.on("POST", "/api/snapshots", snapshot_accepted())
        api.on("POST", "/api/endpoints/iris-ep/deployments",
               Answer(202, {"name": "blue", "state": "Creating"}))
        assert main(["online-deployment", "create", "-f", deployment_spec(tmp_path),
                     "--no-wait"]) == 0
        assert api.calls("GET", "/api/endpoints/iris-ep") == []


class TestOnlineEndpoint:
    def test_invoke_posts_the_request_file_and_prints_the_answer(self, api, tmp_path, capsys):
        request = tmp_path / "req.json"
        request.write_text('{"data": [[5.1, 3.5, 1.4, 0.2]]}')
        api.on("POST", "/api/endpoints/iris-ep/score", Answer(200, [0]))
        assert main(["online-endpoint", "invoke", "-n", "iris-ep", "--request-file",
                     str(request), "--deployment-name", "blue"]) == 0
        sent = api.calls("POST", "/api/endpoints/iris-ep/score")[0]
        assert sent.json() == {"data": [[5.1, 3.5, 1.4, 0.2]]}
        assert sent.headers["azureml-model-deployment"] == "blue"
        assert json.loads(capsys.readouterr().out) == [0]

    def test_create_posts_the_spec_with_the_name_override(self, api, tmp_path, capsys):
        (tmp_path / "ep.yml").write_text("name: iris-ep\nauth_mode: key\n")
        api.on("POST", "/api/snapshots", snapshot_accepted())
        api.on("POST", "/api/endpoints", Answer(201, {"name": "renamed"}))
        assert main(["online-endpoint", "create", "-f", str(tmp_path / "ep.yml"),
                     "-n", "renamed"]) == 0
        assert api.calls("POST", "/api/endpoints")[0].json()["set"] == ["name=renamed"]
