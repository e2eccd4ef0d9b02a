"""Scoring-script deployments for the tests: a score.py that reads its model the way Azure
ML lays it out, its spec, and how to score and watch its server processes."""
import json
import urllib.error
import urllib.request
from pathlib import Path

ENDPOINT = """$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json
name: {endpoint}
auth_mode: key
"""
DEPLOYMENT = """$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: {name}
endpoint_name: {endpoint}
model:
  path: ./model/
code_configuration:
  code: ./src/
  scoring_script: score.py
environment: azureml:AzureML-sklearn-1.5@latest
environment_variables:
  GREETING: hello
instance_type: Standard_DS3_v2
instance_count: 1
"""
# Reads its model as Azure ML lays it out: AZUREML_MODEL_DIR/<the model folder's name>/.
SCORE = """import json, os

def init():
    global scale, calls
    calls = 0
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "scale.json")) as f:
        scale = json.load(f)["scale"]

def run(raw_data):
    global calls
    calls += 1
    request = json.loads(raw_data)
    if request.get("explode"):
        raise ValueError("asked to explode")
    if request.get("die"):
        os._exit(3)
    return {"sums": [scale * sum(row) for row in request["data"]], "pid": os.getpid(),
            "greeting": os.environ.get("GREETING"), "calls": calls}
"""
HANGING_RUN = """import time

def init():
    pass

def run(raw_data):
    time.sleep(3600)
"""
BROKEN_INIT = """def init():
    raise RuntimeError("no model for you")

def run(raw_data):
    return "never"
"""


def deployment_folder(root: Path, *, endpoint: str, name: str = "blue", scale: float = 2.0,
                      score: str = SCORE, extra: str = "") -> Path:
    """A deployment spec (extra: more of its YAML) beside its ./model (scale.json) and
    ./src (score.py)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "model").mkdir(exist_ok=True)
    (root / "model" / "scale.json").write_text(json.dumps({"scale": scale}))
    (root / "src").mkdir(exist_ok=True)
    (root / "src" / "score.py").write_text(score)
    spec = root / f"{name}.yml"
    spec.write_text(DEPLOYMENT.format(name=name, endpoint=endpoint) + extra)
    return spec


def create_endpoint(cli, root: Path, endpoint: str) -> None:
    """`mlcycle online-endpoint create` of an endpoint spec written into root; cli is a
    `cli_for` runner, or anything with a .json of the same shape."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "endpoint.yml").write_text(ENDPOINT.format(endpoint=endpoint))
    cli.json("online-endpoint", "create", "-f", root / "endpoint.yml")


def scorer(url: str, key: str):
    """`score(endpoint, body, deployment=None)` against the host at url: (status, JSON)."""
    def score(endpoint: str, body: dict, deployment: str | None = None) -> tuple[int, dict]:
        headers = {"x-functions-key": key, "Content-Type": "application/json"}
        if deployment:
            headers["azureml-model-deployment"] = deployment
        request = urllib.request.Request(f"{url}/api/endpoints/{endpoint}/score",
                                         data=json.dumps(body).encode(), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
    return score


def is_alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
