"""Changes to an online endpoint beyond its spec's own fields: its traffic split and
mirror (Azure ML's `traffic` and `mirror_traffic`, with Azure ML's rules), and deleting
a deployment from it or the endpoint itself."""
from __future__ import annotations

from collections.abc import Mapping

from shared.domain.errors import InvalidSpec
from shared.domain.records import require, update
from shared.handlers import script_deployments
from shared.ports import Registry

MAX_MIRROR_PERCENT = 50  # Azure ML's cap on the share of live traffic copied to a mirror


def check_traffic(endpoint: str, traffic: Mapping | None, mirror: Mapping | None, *,
                  registry: Registry) -> tuple[dict | None, dict | None]:
    """The split and mirror as {deployment: percent} with zero shares left out; None
    for one not given (it stays as it is).

    Raises:
        InvalidSpec: a share that is not a whole number from 0 to 100, a deployment the
            endpoint does not have, a split whose shares add up to neither 100 nor 0,
            more than one mirror deployment or a mirror share over 50, or a deployment
            that would take both live and mirrored traffic.
    """
    names = _deployments(registry, endpoint)
    split = None if traffic is None else _shares(endpoint, traffic, "traffic", names)
    copied = None if mirror is None else _shares(endpoint, mirror, "mirror_traffic", names)
    if split is not None and sum(split.values()) not in (0, 100):
        raise InvalidSpec(f"endpoint {endpoint}: traffic adds up to {sum(split.values())}; "
                          "the shares must add up to 100 (or 0 for no traffic)")
    if copied and len(copied) > 1:
        raise InvalidSpec(f"endpoint {endpoint}: mirror_traffic names {len(copied)} "
                          "deployments; traffic is mirrored to one deployment only")
    for shadow, percent in (copied or {}).items():
        if percent > MAX_MIRROR_PERCENT:
            raise InvalidSpec(f"endpoint {endpoint}: mirror_traffic for {shadow!r} is "
                              f"{percent}; at most {MAX_MIRROR_PERCENT} percent is mirrored")
    # Checked on the outcome: a request may change the split alone, or the mirror alone.
    live = split if split is not None else _stored(registry, endpoint, "traffic")
    shadows = copied if copied is not None else _stored(registry, endpoint, "mirror_traffic")
    both = sorted(d for d in shadows if live.get(d))
    if both:
        raise InvalidSpec(f"endpoint {endpoint}: deployment {both[0]!r} would take live "
                          "traffic and mirrored traffic; a deployment takes one or the other")
    return split, copied


def set_traffic(endpoint: str, traffic: Mapping | None, mirror: Mapping | None, *,
                registry: Registry) -> dict:
    """Route the endpoint's requests by the split, and copy the mirror's share of them
    to its mirror deployment. Idempotent. Returns the endpoint's record body.

    Raises:
        NotFound: the endpoint does not exist.
        InvalidSpec: as check_traffic.
    """
    require(registry, "endpoint", endpoint)
    split, copied = check_traffic(endpoint, traffic, mirror, registry=registry)

    def change(body: dict) -> bool:
        before = (body.get("traffic"), body.get("mirror_traffic"))
        if split is not None:
            body["traffic"] = split
        if copied is not None:
            body["mirror_traffic"] = copied
        return (body.get("traffic"), body.get("mirror_traffic")) != before
    return update(registry, "endpoint", endpoint, "", change)


def delete_deployment(endpoint: str, name: str, *, registry: Registry, scripts) -> None:
    """Delete a deployment: no request is mirrored to it after, then it goes as
    script_deployments.delete_deployment takes it (traffic, record, servers).

    Raises:
        NotFound: the endpoint or the deployment does not exist.
    """
    require(registry, "deployment", f"{endpoint}/{name}")

    def without(body: dict) -> bool:
        mirror = body.get("mirror_traffic") or {}
        if name not in mirror:
            return False
        body["mirror_traffic"] = {d: p for d, p in mirror.items() if d != name}
        return True
    update(registry, "endpoint", endpoint, "", without)
    script_deployments.delete_deployment(endpoint, name, registry=registry, scripts=scripts)


def delete_endpoint(name: str, *, registry: Registry, scripts) -> None:
    """Delete the endpoint and every deployment behind it. Idempotent: a crash part way
    leaves fewer deployments, and deleting again finishes the job."""
    for deployment in _deployments(registry, name):
        delete_deployment(name, deployment, registry=registry, scripts=scripts)
    registry.delete("endpoint", name)


def _deployments(registry: Registry, endpoint: str) -> set[str]:
    return {r.body["name"] for r in registry.list("deployment")
            if r.body.get("endpoint") == endpoint}


def _stored(registry: Registry, endpoint: str, field: str) -> dict:
    found = registry.get("endpoint", endpoint)
    return dict((found.body.get(field) or {}) if found else {})


def _shares(endpoint: str, given: Mapping, field: str, names: set[str]) -> dict:
    if not isinstance(given, Mapping):
        raise InvalidSpec(f"endpoint {endpoint}: {field} must map deployment names to "
                          "percentages")
    shares = {}
    for deployment, raw in given.items():
        percent = _percent(raw)
        if percent is None:
            raise InvalidSpec(f"endpoint {endpoint}: {field} for {deployment!r} is {raw!r}; "
                              "a share is a whole number of percent from 0 to 100")
        if percent and deployment not in names:
            known = ", ".join(sorted(names)) or "none yet"
            raise InvalidSpec(f"endpoint {endpoint}: {field} names deployment {deployment!r}, "
                              f"which it does not have (its deployments: {known}); create "
                              "the deployment before routing traffic to it")
        if percent:
            shares[str(deployment)] = percent
    return shares


def _percent(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return None
    if not number.is_integer() or not 0 <= number <= 100:
        return None
    return int(number)
