"""Area 3, registration to a live endpoint: from `model create` of a new version to the
endpoint answering with that version, ONNX conversion and the parity gate included,
per framework. Each endpoint follows its model (`azureml:<name>@latest`), so a new
version is redeployed by itself, as DESIGN.md's automated deploy promises."""
from __future__ import annotations

import time

from bench import lifecycle
from bench.stats import summary
from shared.cli.client import Client


def endpoint_of(kind: str) -> str:
    return f"bench-{kind}"


def ensure_deployed(api: Client, models: dict, kinds, deployed: dict) -> dict:
    """Deploy each kind's first version behind its endpoint (once); returns the seconds
    each first deployment took, endpoint creation included."""
    first = {}
    for kind in kinds:
        if kind in deployed:
            continue
        start = time.perf_counter()
        version, name = lifecycle.deploy(api, models[kind], endpoint_of(kind))
        first[kind] = time.perf_counter() - start
        deployed[kind] = {"endpoint": endpoint_of(kind), "input": name, "version": version}
    return first


def run(plan, api: Client, models: dict, deployed: dict) -> dict:
    first = ensure_deployed(api, models, plan.registration_models, deployed)
    out = {}
    for kind in plan.registration_models:
        runs = [_new_version(api, models[kind], deployed[kind])
                for _ in range(plan.registration_repeats)]
        out[kind] = {"first_deploy_s": first.get(kind),
                     "to_converted_s": summary(r["converted"] for r in runs),
                     "to_live_s": summary(r["live"] for r in runs)}
    return {"frameworks": out, "poll_s": lifecycle.POLL_S}


def _new_version(api: Client, model, info: dict) -> dict:
    """Register the same files again (a new immutable version) and time the way to the
    endpoint answering with it."""
    body = lifecycle.oip_body(info["input"], [[0.0] * 64])
    start = time.perf_counter()
    version = lifecycle.register(api, model)["version"]
    lifecycle.converted(api, model.name, version)
    converted = time.perf_counter() - start
    live = lifecycle.serving(api, info["endpoint"], body, version) - start
    info["version"] = version
    return {"converted": converted, "live": live}
