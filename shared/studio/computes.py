"""Compute pages: each pool's current, target and idle nodes, and its nodes over time
(the pool's resize history, which the scaler writes as it resizes)."""
from __future__ import annotations

from shared.api.assets import show_compute
from shared.api.replies import Reply, view
from shared.studio.html import h, link, page, pairs, q, section, table


def list_page(request, ports) -> Reply:
    base = request.base
    rows = [[link(f"{base}/computes/{q(c['name'])}", c["name"]), h(c.get("type") or ""),
             h(c.get("size") or ""), h(c.get("current_nodes", 0)), h(c.get("target_nodes", 0)),
             h(c.get("idle_nodes", 0)),
             h(f"{c.get('min_instances', 0)}–{c.get('max_instances', '')}"), h(c.get("tier"))]
            for c in (view(r.body) for r in ports["registry"].list("compute"))]
    return page(base, "Compute", section("", table(
        ["Pool", "Type", "Size", "Current", "Target", "Idle", "Min–max", "Tier"], rows,
        empty="No compute pools yet (mlcycle compute create).")))


def pool_page(request, ports, *, id: str) -> Reply:
    base = request.base
    pool = show_compute(id, registry=ports["registry"]).body
    facts = {k: pool.get(k) for k in ("type", "size", "tier", "min_instances",
                                       "max_instances", "idle_time_before_scale_down",
                                       "current_nodes", "target_nodes", "idle_nodes",
                                       "idle_since", "created_at")}
    busy = pool.get("allocations") or {}
    history = pool.get("resize_history") or []
    body = (section("", pairs({k: v for k, v in facts.items() if v is not None}))
            + section("Nodes over time", '<div id="pool-chart" class="chart"></div>')
            + section("Runs on it now", table(
                ["Run", "Nodes"], [[link(f"{base}/runs/{q(r)}", r), h(n)]
                                   for r, n in busy.items()], empty="None."))
            + section("Resizes", table(
                ["Time", "From", "To", "Why"],
                [[h(e.get("time")), h(e.get("from")), h(e.get("to")), h(e.get("reason"))]
                 for e in reversed(history)], empty="Never resized.")))
    return page(base, f"Compute {id}", body, scripts=("plotly.min.js", "studio.js"),
                data={"page": "pool", "pool": id})


def history_feed(request, ports, *, id: str) -> Reply:
    """The pool's current, target and idle nodes over time, as steps: one point per
    change the scaler noted (node_history), and now. A pool recorded before the scaler
    noted them has its resizes only: current = target there, idle unknown."""
    pool = show_compute(id, registry=ports["registry"]).body
    counts = ("current_nodes", "target_nodes", "idle_nodes")
    points = [{"time": n["time"], **{k: n.get(k) for k in counts}}
              for n in pool.get("node_history") or []]
    if not points:
        if pool.get("created_at"):
            points.append({"time": pool["created_at"], "current_nodes": 0,
                           "target_nodes": 0, "idle_nodes": None})
        points += [{"time": e.get("time"), "current_nodes": e.get("to"),
                    "target_nodes": e.get("to"), "idle_nodes": None}
                   for e in pool.get("resize_history") or []]
    points.append({"time": ports["clock"].now(), **{k: pool.get(k, 0) for k in counts}})
    return Reply(200, {"pool": id, "points": points, "current": pool.get("current_nodes", 0),
                       "target": pool.get("target_nodes", 0),
                       "idle": pool.get("idle_nodes", 0)}, {"Cache-Control": "no-store"})
