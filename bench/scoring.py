"""Area 1, scoring: requests/s and p50/p99 latency of mlcycle's no-code endpoint, beside
the floor (onnxruntime in process on the very ONNX file the endpoint serves, and a
constant endpoint on the same HTTP stack) and the peer (`mlflow models serve`).

Every configuration is measured once per round and the rounds are interleaved, so a
slow moment of the machine hits every server alike; ratios pair the same round."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bench import loadgen, mlflow_peer, servers
from bench.models import rows
from bench.stats import per_call, ratio, rss_mib, summary


@dataclass(frozen=True)
class Target:
    server: str  # mlcycle | constant | mlflow
    model: str  # sklearn | torch ("-" for the constant endpoint)
    batch: int
    clients: int
    url: str
    body_file: Path
    key: str = ""

    @property
    def label(self) -> str:
        return f"{self.server}/{self.model}/b{self.batch}/c{self.clients}"


def run(plan, host: servers.Server, deployed: dict, work: Path, models: dict) -> dict:
    """deployed: {kind: {"endpoint", "onnx"}} of endpoints already live on host."""
    bodies = _bodies(work / "bodies", plan.batches)
    constant = servers.start_constant()
    peers = _start_peers(plan, work, models) if plan.mlflow else {}
    try:
        targets = _targets(plan, host, constant, peers, deployed, bodies)
        for target in targets:  # warm-up: sessions built, code paths hot, not recorded
            loadgen.run(target.url, target.body_file, connections=target.clients,
                        duration=plan.warmup_s, key=target.key, tool=plan.loadgen)
        rounds: dict[str, list[dict]] = {t.label: [] for t in targets}
        rss_under_load = []
        for _ in range(plan.rounds):
            for target in targets:
                rounds[target.label].append(loadgen.run(
                    target.url, target.body_file, connections=target.clients,
                    duration=plan.duration_s, key=target.key, tool=plan.loadgen))
                if target.server == "mlcycle":
                    rss_under_load.append(rss_mib(host.process.pid))
        floor = {f"{kind}/b{batch}": _onnxruntime(info["onnx"], batch, plan)
                 for kind, info in deployed.items() for batch in plan.batches}
    finally:
        constant.stop()
        for peer in peers.values():
            servers.stop_group(peer)
    return {"loadgen": loadgen.available() if plan.loadgen is None else plan.loadgen,
            "rounds": plan.rounds, "duration_s": plan.duration_s,
            "configs": {label: _figures(runs) for label, runs in rounds.items()},
            "onnxruntime_ms": floor,
            "peer_start_s": {k: p.started_s for k, p in peers.items()},
            "rss_under_load_mib": summary(r for r in rss_under_load if r),
            "comparisons": _compare(rounds, floor, plan, deployed)}


def _bodies(folder: Path, batches) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for batch in batches:
        data = rows(batch).tolist()
        for server, body in (("mlcycle", {"data": data}), ("mlflow", mlflow_peer.body(data))):
            path = folder / f"{server}-b{batch}.json"
            path.write_text(json.dumps(body))
            files[server, batch] = path
    return files


def _start_peers(plan, work: Path, models: dict) -> dict:
    peers = {}
    for kind in plan.models:
        saved = mlflow_peer.save(kind, models[kind], work / f"mlflow-{kind}")
        peers[kind] = servers.start_mlflow(mlflow_peer.PYTHON, saved, work,
                                           servers.free_port())
    return peers


def _targets(plan, host, constant, peers, deployed, bodies) -> list[Target]:
    targets = []
    for batch in plan.batches:
        for clients in plan.clients:
            targets.append(Target("constant", "-", batch, clients,
                                  f"{constant.url}/api/endpoints/constant/score",
                                  bodies["mlcycle", batch], constant.key))
            for kind in plan.models:
                targets.append(Target("mlcycle", kind, batch, clients,
                                      f"{host.url}/api/endpoints/{deployed[kind]['endpoint']}"
                                      "/score", bodies["mlcycle", batch], host.key))
                if kind in peers:
                    targets.append(Target("mlflow", kind, batch, clients,
                                          f"{peers[kind].url}/invocations",
                                          bodies["mlflow", batch]))
    return targets


def _onnxruntime(onnx_path: Path, batch: int, plan) -> dict:
    """Per-call time of session.run on the same inputs, in this process: the model's
    own compute, with nothing around it."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    feeds = {name: rows(batch)}
    session.run(None, feeds)
    return summary(per_call(lambda: session.run(None, feeds), min_s=plan.ort_s) * 1e3
                   for _ in range(plan.rounds))


def _figures(runs: list[dict]) -> dict:
    return {"rps": summary(r["rps"] for r in runs), "p50_ms": summary(r["p50_ms"] for r in runs),
            "p99_ms": summary(r["p99_ms"] for r in runs),
            "errors": sum(r["errors"] + r["non2xx"] for r in runs)}


def _compare(rounds: dict, floor: dict, plan, deployed) -> list[dict]:
    """The goals, per model, batch and clients: throughput against MLflow (>= 3x), and
    p50 against the floor (<= 1.5x of constant p50 + onnxruntime compute)."""
    out = []
    for kind in plan.models:
        for batch in plan.batches:
            for clients in plan.clients:
                ours = rounds[f"mlcycle/{kind}/b{batch}/c{clients}"]
                const = rounds[f"constant/-/b{batch}/c{clients}"]
                compute_ms = floor[f"{kind}/b{batch}"]["median"]
                row = {"model": kind, "batch": batch, "clients": clients,
                       "p50_vs_floor": ratio([r["p50_ms"] for r in ours],
                                             [c["p50_ms"] + compute_ms for c in const])}
                peer = rounds.get(f"mlflow/{kind}/b{batch}/c{clients}")
                if peer:
                    row["rps_vs_mlflow"] = ratio([r["rps"] for r in ours],
                                                 [p["rps"] for p in peer])
                out.append(row)
    return out
