"""What the studio's browser tests (and `make studio-screenshots`) look at: a real local
host with a dataset, two finished training runs, a model trained on that dataset,
converted and deployed behind an endpoint, a small sweep, and a compute pool."""
from __future__ import annotations

import contextlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from shared.localhost.host import LocalHost, write_config
from shared.settings import Settings
from tests.cli_runs import run_mlcycle

HERE = Path(__file__).parent
TERMINAL = ("Completed", "Failed", "Canceled")
ENV = "azureml:AzureML-sklearn-1.5@latest"


@dataclass
class World:
    host: LocalHost
    folder: Path
    runs: list[str] = field(default_factory=list)  # two finished training runs
    model: tuple[str, str] = ("", "")
    endpoint: str = ""
    sweep: str = ""
    pool: str = ""

    def cli(self, *argv) -> dict:
        code, out, err = run_mlcycle(*argv)
        assert code == 0, f"mlcycle {' '.join(map(str, argv))}: {err or out}"
        return json.loads(out) if out.strip().startswith(("{", "[")) else {"out": out}

    def job_spec(self, name: str, *, epochs: int = 5, lr: float = 0.01,
                 hold: Path | None = None, compute: str | None = None) -> Path:
        command = ("python train.py --data ${{inputs.iris}} --epochs ${{inputs.epochs}} "
                   "--lr ${{inputs.lr}}" + (f" --hold {hold}" if hold else ""))
        spec = self.folder / f"{name}.yml"
        spec.write_text(
            "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
            f"code: ./src\ncommand: {command}\n"
            f"inputs:\n  iris: {{type: uri_file, path: azureml:iris:1}}\n"
            f"  epochs: {epochs}\n  lr: {lr}\n"
            f"environment: {ENV}\nexperiment_name: studio-iris\ndisplay_name: {name}\n"
            + (f"compute: azureml:{compute}\n" if compute else "")
            + "tags: {team: studio}\n")
        return spec

    def submit(self, spec: Path) -> str:
        return self.cli("job", "create", "-f", spec)["name"]

    def wait(self, argv: list, done, timeout: float = 300.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            found = self.cli(*argv)
            if done(found):
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{argv} did not get there in {timeout} s: {found}")
            time.sleep(0.3)

    def ended(self, run: str) -> dict:
        return self.wait(["job", "show", "-n", run], lambda r: r["status"] in TERMINAL)


@contextlib.contextmanager
def studio_world(root: Path, monkeypatch=None):
    """Yield a World on a fresh host under root; MLCYCLE_HOME points the CLI at it."""
    import os

    from sklearn.datasets import load_iris

    folder = root / "work"
    shutil.copytree(HERE / "src", folder / "src")
    frame = load_iris(as_frame=True).frame.rename(columns={"target": "species"})
    frame.to_csv(folder / "iris.csv", index=False)
    saved = {k: os.environ.get(k) for k in ("MLCYCLE_HOME", "MLCYCLE_ENDPOINT", "MLCYCLE_KEY")}
    with LocalHost(Settings(root / "data", retry_backoff_s=0.2)) as host:
        write_config(host.url, host.key, root / "home")
        os.environ["MLCYCLE_HOME"] = str(root / "home")
        os.environ.pop("MLCYCLE_ENDPOINT", None)
        os.environ.pop("MLCYCLE_KEY", None)
        try:
            world = World(host, folder)
            _populate(world)
            yield world
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def _populate(world: World) -> None:
    cli = world.cli
    cli("data", "create", "--name", "iris", "--type", "uri_file",
        "--path", world.folder / "iris.csv", "--description", "scikit-learn's iris flowers")
    world.wait(["data", "show", "-n", "iris", "-v", "1"], lambda d: d["state"] != "Registering")
    world.pool = "cpu-pool"
    cli("compute", "create", "--name", world.pool, "--type", "amlcompute",
        "--max-instances", "4")
    world.runs = [world.submit(world.job_spec("slow-lr", lr=0.001, compute=world.pool)),
                  world.submit(world.job_spec("fast-lr", lr=0.1, compute=world.pool))]
    for run in world.runs:
        assert world.ended(run)["status"] == "Completed", run
    written = f"azureml://jobs/{world.runs[0]}/outputs/artifacts/paths/outputs/model.pkl"
    model = cli("model", "create", "--name", "iris-sgd", "--type", "custom_model",
                "--path", written,
                "--tags", "framework=ScikitLearn")
    world.model = ("iris-sgd", str(model["version"]))
    world.wait(["model", "show", "-n", "iris-sgd", "-v", world.model[1]],
               lambda m: m["state"] not in ("Registering", "Registered"))
    (world.folder / "endpoint.yml").write_text("name: iris-studio\nauth_mode: key\n")
    cli("online-endpoint", "create", "-f", world.folder / "endpoint.yml")
    (world.folder / "blue.yml").write_text(
        "name: blue\nendpoint_name: iris-studio\nmodel: azureml:iris-sgd@latest\n"
        "instance_type: Standard_DS2_v2\ninstance_count: 1\n")
    cli("online-deployment", "create", "-f", world.folder / "blue.yml", "--all-traffic")
    world.endpoint = "iris-studio"
    world.wait(["online-endpoint", "show", "-n", world.endpoint],
               lambda e: any(d.get("state") == "Succeeded" for d in e.get("deployments") or []))
    sweep = world.folder / "sweep.yml"
    sweep.write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json\n"
        "type: sweep\ntrial:\n"
        "  command: python train.py --data ${{inputs.iris}} --epochs ${{search_space.epochs}}"
        " --lr ${{search_space.lr}}\n"
        f"  code: ./src\n  environment: {ENV}\n"
        "inputs:\n  iris: {type: uri_file, path: azureml:iris:1}\n"
        f"compute: azureml:{world.pool}\nexperiment_name: studio-sweep\n"
        "sampling_algorithm: grid\n"
        "search_space:\n  lr: {type: choice, values: [0.001, 0.1]}\n"
        "  epochs: {type: choice, values: [2, 4]}\n"
        "objective: {goal: maximize, primary_metric: accuracy}\n"
        "limits: {max_total_trials: 4, max_concurrent_trials: 2}\n")
    world.sweep = world.submit(sweep)
    assert world.ended(world.sweep)["status"] == "Completed", world.sweep
