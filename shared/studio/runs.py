"""Run pages: the list (filter, search, pick runs to compare), a run (parameters, inputs
and outputs, status history, live log, metric charts, files, trials, cancel) and the
comparison of several runs' metrics. Every figure comes from the API's own calls."""
from __future__ import annotations

import json

from shared.api import jobs
from shared.api.replies import Reply
from shared.arm.history import process_count
from shared.domain.errors import NotFound
from shared.domain.status import RunStatus
from shared.studio.html import badge, duration, h, link, page, pairs, q, table

MAX_COMPARED = 8


def list_page(request, ports) -> Reply:
    base = request.base
    status, experiment, text = request.arg("status"), request.arg("experiment"), \
        request.arg("q").strip().lower()
    every = jobs.list_jobs(registry=ports["registry"]).body["value"]
    shown = [r for r in every
             if (not status or r["status"] == status)
             and (not experiment or r.get("experiment_name") == experiment)
             and (not text or text in _haystack(r))]
    rows = [[f'<input type="checkbox" name="runs" value="{h(r["name"])}" '
             f'aria-label="compare {h(r["name"])}">',
             link(f"{base}/runs/{q(r['name'])}", r["name"]), h(r.get("display_name") or ""),
             badge(r["status"]), h(r.get("experiment_name") or ""),
             h(r.get("compute") or ""), h(r.get("type") or "command"),
             h(_created(r)), h(duration(r.get("start_time"), r.get("end_time")))]
            for r in shown]
    statuses = sorted({r["status"] for r in every})
    experiments = sorted({r.get("experiment_name") or "" for r in every} - {""})
    filters = (f'<form class="filters" method="get" action="{h(base)}/runs">'
               f'<input type="search" name="q" placeholder="Search name, tags, experiment" '
               f'value="{h(request.arg("q"))}">'
               f'{_select("status", statuses, status)}'
               f'{_select("experiment", experiments, experiment)}'
               '<button type="submit">Filter</button></form>')
    listing = (f'<form method="get" action="{h(base)}/compare" id="compare-form">'
               + table(["", "Run", "Display name", "Status", "Experiment", "Compute", "Type",
                        "Created", "Duration"], rows, cls="runs",
                       empty="No runs match." if every else "No runs yet.")
               + '<button type="submit">Compare selected</button></form>')
    return page(base, "Runs", filters + f'<p class="count">{len(shown)} of {len(every)} '
                f'runs</p>' + listing)


def run_page(request, ports, *, id: str) -> Reply:
    base, registry = request.base, ports["registry"]
    run = jobs.show_job(id, registry=registry).body
    status = RunStatus(run["status"])
    summary = {"Status": run["status"], "Experiment": run.get("experiment_name"),
               "Compute": run.get("compute"), "Type": run.get("type") or "command",
               "Created": _created(run), "Started": run.get("start_time"),
               "Ended": run.get("end_time"),
               "Duration": duration(run.get("start_time"), run.get("end_time")),
               "Exit code": run.get("exit_code"),
               "Error": (run.get("error") or {}).get("message"),
               "Canceled because": run.get("canceled_reason")}
    summary = {k: v for k, v in summary.items() if v not in (None, "")}
    parts = [f'<section class="summary">{pairs(summary)}{_cancel_form(base, run, status)}'
             f'</section>']
    if run.get("warnings"):
        parts.append("<section><h2>Warnings</h2><ul>" + "".join(
            f"<li>{h(w)}</li>" for w in run["warnings"]) + "</ul></section>")
    params = {**(run.get("hyperparameters") or {}), **(run.get("params") or {})}
    parts.append(f"<section><h2>Parameters</h2>{pairs(params)}"
                 + (f"<h3>Command</h3><pre>{h(run['command'])}</pre>" if run.get("command")
                    else "") + "</section>")
    parts.append(f'<section><h2>Inputs and outputs</h2>{_io(run, base)}</section>')
    if run.get("type") == "sweep":
        parts.append(_trials(base, run))
    else:
        parts.append(_metrics_and_log(base, run))
    parts.append(f'<section><h2>Status history</h2>' + table(
        ["Status", "Time"], [[badge(s["status"]), h(s["time"])]
                             for s in run.get("status_history") or []]) + '</section>')
    files = jobs.list_files(id, registry=registry, blobs=ports["blobs"]).body["value"]
    parts.append('<section><h2>Files</h2>' + table(
        ["File"], [[link(f"{base}/runs/{q(id)}/files/{'/'.join(q(p) for p in f.split('/'))}",
                         f)] for f in files],
        cls="files", empty="No files yet (they are collected when the run ends).")
        + '</section>')
    if run.get("tags"):
        parts.append(f"<section><h2>Tags</h2>{pairs(run['tags'])}</section>")
    return page(base, f"Run {id}", "".join(parts), scripts=("plotly.min.js", "studio.js"),
                data={"page": "run", "run": id, "terminal": str(status.terminal).lower()})


def _metrics_and_log(base: str, run: dict) -> str:
    ranks = process_count(run)
    choose = ""
    if ranks > 1:
        options = "".join(f'<option value="{r}">rank {r}</option>' for r in range(ranks))
        choose = (f'<label>Process <select id="rank">{options}</select></label>'
                  f' <span class="hint">{ranks} processes over '
                  f'{h(run.get("instance_count") or 1)} nodes</span>')
    return ('<section><h2>Metrics</h2><div id="metrics" class="charts">'
            '<p class="empty">No metrics logged yet.</p></div></section>'
            f'<section><h2>Log</h2>{choose}<pre id="log" class="log" aria-live="polite">'
            '</pre><p class="hint" id="log-state"></p></section>')


def _trials(base: str, run: dict) -> str:
    definition = run.get("sweep") or {}
    objective = definition.get("objective") or {}
    metric = objective.get("primary_metric", "metric")
    best = run.get("best_child_run_id")
    trials = run.get("trials") or []
    names = sorted({k for t in trials for k in (t.get("hyperparameters") or {})})
    rows = [[link(f"{base}/runs/{q(t['name'])}", t["name"]) + (" ★ best" if t["name"] == best
                                                               else ""),
             badge(t["status"]), *[h(_fmt((t.get("hyperparameters") or {}).get(n)))
                                   for n in names],
             h(_fmt(t.get("metric"))), h(t.get("reason") or "")] for t in trials]
    chart = {"metric": metric, "goal": objective.get("goal"), "parameters": names,
             "trials": [{"name": t["name"], "status": t["status"], "metric": t.get("metric"),
                         "hyperparameters": t.get("hyperparameters") or {}} for t in trials]}
    return (f'<section><h2>Trials</h2><p>Best trial: '
            + (link(f"{base}/runs/{q(best)}", best) if best else "none yet")
            + f' ({h(objective.get("goal", ""))} {h(metric)})</p>'
            + '<div id="parallel" class="chart"></div>'
            + _json_island("trials-data", chart)
            + table(["Trial", "Status", *names, metric, "Why it ended"], rows, cls="trials",
                    empty="No trials planned yet.") + '</section>')


def _io(run: dict, base: str) -> str:
    rows = []
    for direction in ("inputs", "outputs"):
        for name, spec in (run.get(direction) or {}).items():
            spec = spec if isinstance(spec, dict) else {"value": spec}
            where = spec.get("blob") or spec.get("path") or spec.get("uri") or \
                spec.get("value") or ""
            asset = spec.get("asset") or ""
            data = link(f"{base}/data/{'/'.join(q(p) for p in asset.split(':', 1))}",
                        asset) if ":" in asset else h(asset)
            rows.append([h(direction[:-1]), h(name), h(spec.get("type") or ""),
                         h(where if isinstance(where, str) else json.dumps(where)), data])
    return table(["", "Name", "Type", "Path or value", "Data asset"], rows,
                 empty="None.")


def _cancel_form(base: str, run: dict, status: RunStatus) -> str:
    if status.terminal or status is RunStatus.CANCEL_REQUESTED:
        return ""
    return (f'<form method="post" action="{h(base)}/runs/{q(run["name"])}/cancel">'
            '<button class="danger" type="submit">Cancel run</button></form>')


def log_feed(request, ports, *, id: str) -> Reply:
    params = {"rank": request.arg("rank", "0"), "offset": request.arg("offset", "0")}
    reply = jobs.job_logs(id, params, registry=ports["registry"], compute=ports["compute"],
                          blobs=ports["blobs"])
    reply.headers["Cache-Control"] = "no-store"
    return reply


def metrics_feed(request, ports, *, id: str) -> Reply:
    run = jobs.show_job(id, registry=ports["registry"]).body
    return Reply(200, {"run": id, "status": run["status"],
                       "metrics": _points(run, ports)}, {"Cache-Control": "no-store"})


def _points(run: dict, ports: dict) -> dict[str, list[dict]]:
    """Metric name -> points {step, value, timestamp}: what the run has logged so far
    while it runs (read from its node), run history's record once it has ended."""
    status = RunStatus(run["status"])
    compute = ports["compute"]
    if not status.terminal and status.rank >= RunStatus.STARTING.rank and \
            hasattr(compute, "read_metrics"):
        return compute.read_metrics(run["name"])
    history = run.get("metric_history") or {}
    if history:
        return history
    return {k: [{"step": 0, "value": v}] for k, v in (run.get("metrics") or {}).items()
            if isinstance(v, (int, float))}


def download(request, ports, *, id: str, path: str) -> Reply:
    reply = jobs.get_file(id, path, registry=ports["registry"], blobs=ports["blobs"])
    name = path.rsplit("/", 1)[-1].replace('"', "")
    reply.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return reply


def cancel(request, ports, *, id: str) -> Reply:
    from shared.studio.router import redirect

    jobs.cancel_job(id, registry=ports["registry"], compute=ports["compute"],
                    clock=ports["clock"])
    return redirect(f"{request.base}/runs/{q(id)}")


def compare_page(request, ports) -> Reply:
    base = request.base
    names = list(dict.fromkeys(request.args("runs")))[:MAX_COMPARED]
    found = []
    for name in names:
        try:
            found.append(jobs.show_job(name, registry=ports["registry"]).body)
        except NotFound:
            continue
    if len(found) < 2:
        return page(base, "Compare runs", '<p class="error">Pick two runs or more on the '
                    f'{link(base + "/runs", "runs page")} to compare them.</p>', status=400)
    metrics = sorted({m for r in found for m in (r.get("metrics") or {})})
    params = sorted({p for r in found for p in {**(r.get("params") or {}),
                                                 **(r.get("hyperparameters") or {})}})
    rows = [[link(f"{base}/runs/{q(r['name'])}", r["name"]), badge(r["status"]),
             *[h(_fmt({**(r.get("params") or {}), **(r.get("hyperparameters") or {})}.get(p)))
               for p in params],
             *[h(_fmt((r.get("metrics") or {}).get(m))) for m in metrics]] for r in found]
    body = (table(["Run", "Status", *params, *metrics], rows, cls="compare")
            + '<h2>Metrics over steps</h2><div id="metrics" class="charts">'
            '<p class="empty">Loading…</p></div>')
    return page(base, "Compare runs", body, scripts=("plotly.min.js", "studio.js"),
                data={"page": "compare", "runs": ",".join(r["name"] for r in found)})


def compare_feed(request, ports) -> Reply:
    runs = {}
    for name in list(dict.fromkeys(request.args("runs")))[:MAX_COMPARED]:
        try:
            run = jobs.show_job(name, registry=ports["registry"]).body
        except NotFound:
            continue
        runs[name] = {"status": run["status"], "metrics": _points(run, ports)}
    return Reply(200, {"runs": runs}, {"Cache-Control": "no-store"})


def _json_island(element_id: str, value: object) -> str:
    """Data for the page's script in a non-executable block; "</" is escaped so the data
    cannot close the element."""
    text = json.dumps(value, default=str).replace("</", "<\\/")
    return f'<script type="application/json" id="{h(element_id)}">{text}</script>'


def _select(name: str, options: list[str], chosen: str) -> str:
    items = "".join(f'<option value="{h(o)}"{" selected" if o == chosen else ""}>{h(o)}'
                    f'</option>' for o in options)
    return (f'<select name="{h(name)}" aria-label="{h(name)}"><option value="">any '
            f'{h(name)}</option>{items}</select>')


def _haystack(run: dict) -> str:
    return " ".join(str(x) for x in (run["name"], run.get("display_name"),
                                     run.get("experiment_name"), run.get("compute"),
                                     json.dumps(run.get("tags") or {}))).lower()


def _created(run: dict) -> str:
    return (run.get("creation_context") or {}).get("created_at") or ""


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)
