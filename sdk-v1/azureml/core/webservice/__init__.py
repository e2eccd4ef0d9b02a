"""Web services of SDK v1 (`azureml.core.webservice`): a no-code deployment of a model
behind an mlcycle online endpoint, scored over HTTP with mlcycle's key."""
from __future__ import annotations

import json
from typing import Any

from azureml.core._connection import quote
from azureml.exceptions import WebserviceException

ENDPOINT_SCHEMA = "https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json"
DEPLOYMENT_SCHEMA = ("https://azuremlschemas.azureedge.net/latest/"
                     "managedOnlineDeployment.schema.json")
DEPLOYMENT = "default"  # a v1 service is one deployment; this is its name in the endpoint
WAIT_S = 900.0
_STATES = {"Creating": "Transitioning", "Succeeded": "Healthy", "Failed": "Failed"}


class Webservice:
    """A deployed service: the online endpoint name and its deployment.

    Parameters:
        workspace: the Workspace.
        name: the service's name.
    Raises:
        WebserviceException: no such service.
    """

    def __init__(self, workspace: Any, name: str) -> None:
        record = workspace._conn.get_or_none(f"/api/endpoints/{quote(name)}",
                                             error=WebserviceException)
        if record is None:
            raise WebserviceException(f"WebserviceNotFound: Webservice with name {name} not "
                                      "found in provided workspace")
        self._bind(workspace, record)

    def _bind(self, workspace: Any, record: dict) -> None:
        self.workspace, self._record, self.name = workspace, record, record["name"]
        self.compute_type = "mlcycle"

    @property
    def scoring_uri(self) -> str:
        """The URL to POST requests to (with mlcycle's key as `x-functions-key`)."""
        return f"{self.workspace._conn.endpoint}/api/endpoints/{quote(self.name)}/score"

    @property
    def state(self) -> str:
        """Transitioning, Healthy or Failed, as last read."""
        deployment = _deployment(self._record)
        return _STATES.get((deployment or {}).get("state"), "Transitioning")

    @property
    def error(self) -> Any:
        """The deployment's error, if it failed."""
        return (_deployment(self._record) or {}).get("error")

    def wait_for_deployment(self, show_output: bool = False,
                            timeout_sec: float | None = None) -> None:
        """Wait until the service serves (or its deployment failed).

        Raises:
            WebserviceException: the deployment failed, or did not settle in time.
        """
        conn = self.workspace._conn
        self._record = conn.wait(lambda: conn.json("GET", f"/api/endpoints/{quote(self.name)}"),
                                 _settled, what=f"service {self.name}",
                                 timeout=timeout_sec or WAIT_S, error=WebserviceException)
        if self.state == "Failed":
            raise WebserviceException(
                "Service deployment polling reached non-successful terminal state, current "
                f"service state: Failed\nError:\n{json.dumps(self.error, indent=2)}")
        if show_output:
            print(f"{self.name}: service creation operation finished, operation \"Succeeded\"")

    def run(self, input_data: Any) -> Any:
        """Score input_data (a JSON string such as '{"data": [[...]]}', or an object sent
        as JSON); returns the parsed answer.

        Raises:
            WebserviceException: the service refused the request or failed on it.
        """
        data = input_data.encode() if isinstance(input_data, str) else input_data \
            if isinstance(input_data, bytes) else json.dumps(input_data).encode()
        resp = self.workspace._conn.request(
            "POST", f"/api/endpoints/{quote(self.name)}/score", data=data,
            content_type="application/json", error=WebserviceException)
        try:
            return json.loads(resp.body)
        except ValueError:
            return resp.body.decode("utf-8", "replace")

    def get_keys(self) -> tuple[str, str]:
        """(primary, secondary): both are mlcycle's key, which the scoring route takes."""
        key = self.workspace._conn.key
        return key, key

    def delete(self) -> None:
        """Delete the service: its endpoint and deployment."""
        self.workspace._conn.request("DELETE", f"/api/endpoints/{quote(self.name)}",
                                     error=WebserviceException)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Not offered: deploy again with Model.deploy(..., overwrite=True)."""
        raise WebserviceException("Webservice.update: deploy again with "
                                  "Model.deploy(..., overwrite=True)")

    @staticmethod
    def list(workspace: Any, **kwargs: Any) -> list:
        """Every service of the workspace."""
        services = []
        for record in workspace._conn.json("GET", "/api/endpoints").get("value", []):
            service = Webservice.__new__(Webservice)
            service._bind(workspace, record)
            services.append(service)
        return services

    def serialize(self) -> dict:
        """The service as v1 describes one."""
        return {"name": self.name, "scoringUri": self.scoring_uri, "state": self.state,
                "computeType": self.compute_type}

    @staticmethod
    def _deploy_no_code(workspace: Any, name: str, models: list, inference_config: Any,
                        overwrite: bool, show_output: bool) -> "Webservice":
        if inference_config is not None:
            raise WebserviceException(
                "Model.deploy with an inference_config (a scoring script) is not offered by "
                "this distribution: deploy the model with no code, or write an online "
                "deployment with code_configuration (mlcycle online-deployment create)")
        if len(models) != 1:
            raise WebserviceException(f"Model.deploy deploys one model with no code, not "
                                      f"{len(models)}")
        conn, model = workspace._conn, models[0]
        if conn.get_or_none(f"/api/endpoints/{quote(name)}") is not None and not overwrite:
            raise WebserviceException(f"Service {name} with the same name already exists, "
                                      "please use a different service name or delete the "
                                      "existing service.")
        _converted(conn, model)
        conn.submit("/api/endpoints", {"$schema": ENDPOINT_SCHEMA, "name": name,
                                       "auth_mode": "key"}, error=WebserviceException)
        deployment = {"$schema": DEPLOYMENT_SCHEMA, "name": DEPLOYMENT, "endpoint_name": name,
                      "model": f"azureml:{model.name}:{model.version}",
                      "instance_type": "Standard_DS2_v2", "instance_count": 1}
        conn.submit(f"/api/endpoints/{quote(name)}/deployments", deployment,
                    error=WebserviceException, all_traffic=True)
        service = Webservice(workspace, name)
        if show_output:
            print(f"Deploying {model.id} as service {name}")
        return service

    def __repr__(self) -> str:
        return (f"Webservice(workspace={self.workspace!r}, name={self.name}, "
                f"scoring_uri={self.scoring_uri})")


class AciWebservice(Webservice):
    """A service deployed as v1 deployed to Azure Container Instances; here, as any
    mlcycle endpoint."""

    @staticmethod
    def deploy_configuration(cpu_cores: float | None = None, memory_gb: float | None = None,
                             tags: dict | None = None, description: str | None = None,
                             **kwargs: Any) -> dict:
        """The deployment's resources (recorded, not enforced locally)."""
        return {"cpu_cores": cpu_cores, "memory_gb": memory_gb, "tags": tags or {},
                "description": description}


def _converted(conn: Any, model: Any) -> None:
    """Wait for the model's ONNX conversion, which a no-code deployment serves.

    Raises:
        WebserviceException: the conversion failed (its reason is the message).
    """
    route = f"/api/models/{quote(model.name)}/versions/{quote(str(model.version))}"
    final = conn.wait(lambda: conn.json("GET", route),
                      lambda m: m["state"] in ("Converted", "ConversionFailed", "Failed"),
                      what=f"model {model.id} to convert to ONNX", timeout=WAIT_S,
                      error=WebserviceException)
    if final["state"] != "Converted":
        raise WebserviceException(f"model {model.id} cannot be deployed without code: "
                                  f"{(final.get('error') or {}).get('message', final['state'])}")


def _deployment(record: dict) -> dict | None:
    for deployment in record.get("deployments") or []:
        if deployment.get("name") == DEPLOYMENT:
            return deployment
    return None


def _settled(record: dict) -> bool:
    deployment = _deployment(record)
    if deployment is None or deployment.get("state") not in ("Succeeded", "Failed"):
        return False
    # Traffic moves to the deployment just after it reports Succeeded.
    return deployment["state"] == "Failed" or (record.get("traffic") or {}).get(DEPLOYMENT) == 100
