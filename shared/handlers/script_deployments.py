"""Scoring-script deployments in the registry: which server instance a deployment's record
stands for, which instances serve, what a host that starts up must start again, and
deleting a deployment with its servers."""
from __future__ import annotations

import logging

from shared.domain.records import require, update
from shared.ports import Registry
from shared.serving.script_instance import ScriptInstance

# A script needs the model's files, not its ONNX conversion: a version serves once stored.
SERVABLE = ("Registered", "Converted", "ConversionFailed")
# Azure ML's default is 5 s; a shared machine running training beside it needs more room.
DEFAULT_REQUEST_TIMEOUT_MS = 60_000
log = logging.getLogger("mlcycle.serving")


def is_script(dep: dict) -> bool:
    """Whether a deployment runs a scoring script (`code_configuration`)."""
    return bool(dep.get("code"))


def instance_of(dep: dict, model: dict) -> ScriptInstance:
    """The server instance that serves model (a registered version's body) with the
    deployment's code and environment."""
    return ScriptInstance(
        endpoint=dep["endpoint"], deployment=dep["name"], snapshot=dep["code"]["snapshot"],
        scoring_script=dep["code"]["scoring_script"], model=model["name"],
        model_version=str(model["version"]), model_path=model["path"],
        environment=dep.get("environment") or {},
        environment_variables=dep.get("environment_variables") or {})


def serving_record(dep: dict, instance: ScriptInstance) -> dict:
    """What a deployment's record keeps of the instance that serves it: all a host
    needs to start it again, whatever the record is changed to meanwhile."""
    timeout = dep.get("request_timeout_ms") or DEFAULT_REQUEST_TIMEOUT_MS
    return {**instance.to_record(), "request_timeout_ms": timeout}


def serving_instances(registry: Registry) -> dict[str, ScriptInstance]:
    """Instance id -> instance, for every deployment that a script serves now."""
    found = {}
    for record in registry.list("deployment"):
        serving = record.body.get("serving")
        if serving:
            found[serving["id"]] = ScriptInstance.from_record(serving)
    return found


def recover(*, registry: Registry, scripts) -> list[ScriptInstance]:
    """What a host that starts must do before it takes messages: stop and remove the
    instances no deployment serves (a roll-out or a delete that a crash cut short left
    them). Returns the instances that serve, to start again or adopt."""
    serving = serving_instances(registry)
    scripts.prune(set(serving))
    return list(serving.values())


def start_all(scripts, instances: list[ScriptInstance]) -> None:
    """Start (or adopt) each instance, so that the first request after a restart does
    not wait for init(). One that fails is logged; its requests get the reason."""
    for instance in instances:
        try:
            scripts.start(instance)
        except Exception as exc:  # each instance on its own; the score route re-raises it
            log.warning("deployment %s/%s: its scoring server did not start again: %s",
                        instance.endpoint, instance.deployment, exc)


def delete_deployment(endpoint: str, name: str, *, registry: Registry, scripts) -> None:
    """Delete a deployment: its share of traffic first (no request is routed to it
    after), then its record, then its servers. Idempotent; a crash between the steps
    leaves servers that the next host start removes.

    Raises:
        NotFound: the endpoint or the deployment does not exist.
    """
    key = f"{endpoint}/{name}"
    require(registry, "endpoint", endpoint)
    require(registry, "deployment", key)

    def without(body: dict) -> bool:
        traffic = body.get("traffic") or {}
        if name not in traffic:
            return False
        body["traffic"] = {d: p for d, p in traffic.items() if d != name}
        return True
    update(registry, "endpoint", endpoint, "", without)
    registry.delete("deployment", key)
    if scripts is not None:
        scripts.retire(endpoint, name)
