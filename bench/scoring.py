"""Area 1, scoring: requests/s and p50/p99 latency of mlcycle's no-code endpoint, beside
the floor (onnxruntime in process on the very ONNX file the endpoint serves, and a
constant endpoint on the same HTTP stack) and the peers (MLflow, MLServer, BentoML:
bench/peers.py), for each model, batch size and number of clients.

Every configuration is measured once per round and the rounds are interleaved, so a
slow moment of the machine hits every server alike; ratios pair the same round."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bench import loadgen, servers
from bench.models import rows
from bench.peers import PEERS, answers
from bench.stats import per_call, ratio, rss_mib, summary


@dataclass(frozen=True)
class Target:
    server: str  # mlcycle | constant | a peer's name
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
    bodies = _bodies(work / "bodies", plan)
    constant = servers.start_constant()
    peers: dict = {}
    try:
        peers = _start_peers(plan, work, models, deployed)
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
        for server in peers.values():
            servers.stop_group(server)
    return {"loadgen": loadgen.available() if plan.loadgen is None else plan.loadgen,
            "rounds": plan.rounds, "duration_s": plan.duration_s,
            "peers": sorted({name for name, _ in peers}),
            "configs": {label: _figures(runs) for label, runs in rounds.items()},
            "onnxruntime_ms": floor,
            "peer_start_s": {f"{n}/{k}": p.started_s for (n, k), p in peers.items()},
            "rss_under_load_mib": summary(r for r in rss_under_load if r),
            "comparisons": _compare(rounds, floor, plan, sorted({n for n, _ in peers}))}


def _bodies(folder: Path, plan) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for batch in plan.batches:
        data = rows(batch).tolist()
        shapes = {"mlcycle": {"data": data}}
        shapes.update({name: PEERS[name].body(data) for name in plan.peers})
        for server, body in shapes.items():
            path = folder / f"{server}-b{batch}.json"
            path.write_text(json.dumps(body))
            files[server, batch] = path
    return files


def _start_peers(plan, work: Path, models: dict, deployed: dict) -> dict:
    """{(peer, kind): server}, each checked to answer what onnxruntime answers."""
    started = {}
    sample = rows(8).tolist()
    for name in plan.peers:
        peer = PEERS[name]
        for kind in plan.models:
            onnx = deployed[kind]["onnx"]
            server = started[name, kind] = peer.start(kind, models[kind], onnx, work)
            answers(server, peer, kind, sample, _expected(onnx, sample))
    return started


def _expected(onnx_path: Path, sample: list) -> list:
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    out = session.run(None, {session.get_inputs()[0].name: np.asarray(sample, np.float32)})[0]
    return (out.argmax(axis=1) if out.ndim == 2 else out).tolist()


def _targets(plan, host, constant, peers, deployed, bodies) -> list[Target]:
    targets = []
    for batch, clients in plan.grid:
        targets.append(Target("constant", "-", batch, clients,
                              f"{constant.url}/api/endpoints/constant/score",
                              bodies["mlcycle", batch], constant.key))
        for kind in plan.models:
            targets.append(Target("mlcycle", kind, batch, clients,
                                  f"{host.url}/api/endpoints/{deployed[kind]['endpoint']}"
                                  "/score", bodies["mlcycle", batch], host.key))
            for (name, peer_kind), server in peers.items():
                if peer_kind == kind:
                    targets.append(Target(name, kind, batch, clients,
                                          server.url + PEERS[name].path(kind),
                                          bodies[name, batch]))
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


def _compare(rounds: dict, floor: dict, plan, peers: list[str]) -> list[dict]:
    """Per model, batch and clients: throughput against the best peer of each round and
    against the constant endpoint, and p50 against the floor (constant p50 +
    onnxruntime's compute)."""
    out = []
    for kind in plan.models:
        for batch, clients in plan.grid:
            where = f"b{batch}/c{clients}"
            ours = rounds[f"mlcycle/{kind}/{where}"]
            const = rounds[f"constant/-/{where}"]
            compute_ms = floor[f"{kind}/b{batch}"]["median"]
            row = {"model": kind, "batch": batch, "clients": clients,
                   "p50_vs_floor": ratio([r["p50_ms"] for r in ours],
                                         [c["p50_ms"] + compute_ms for c in const]),
                   "rps_vs_constant": ratio([r["rps"] for r in ours], [c["rps"] for c in const])}
            theirs = {p: rounds[f"{p}/{kind}/{where}"] for p in peers
                      if f"{p}/{kind}/{where}" in rounds}
            for name, runs in theirs.items():
                row[f"rps_vs_{name}"] = ratio([r["rps"] for r in ours], [p["rps"] for p in runs])
            if theirs:
                best = [max(runs[i]["rps"] for runs in theirs.values())
                        for i in range(len(ours))]
                row["rps_vs_best_peer"] = ratio([r["rps"] for r in ours], best)
                row["best_peer"] = max(theirs, key=lambda p: summary(
                    r["rps"] for r in theirs[p])["median"])
            out.append(row)
    return out
