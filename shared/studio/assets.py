"""Data and model pages: versions, fingerprints, the conversion's state and parity
figures, and the lineage of a model (data versions -> run -> model version ->
deployments) drawn as a graph whose boxes are links."""
from __future__ import annotations

from shared.api.replies import Reply, view
from shared.domain.records import require
from shared.studio.html import badge, h, link, page, pairs, q, section, table

BOX_W, BOX_H, GAP_X, GAP_Y = 210, 44, 60, 16


def data_list(request, ports) -> Reply:
    base = request.base
    rows = [[_asset_link(base, "data", d), h(d.get("type")), badge(d.get("state")),
             f"<code>{h(_short(d.get('fingerprint')))}</code>",
             h(d.get("description") or "")]
            for d in (view(r.body) for r in ports["registry"].list("data"))]
    return page(base, "Data", section("", table(
        ["Version", "Type", "State", "Fingerprint", "Description"], rows,
        empty="No data registered yet (mlcycle data create).")))


def _asset_link(base: str, kind: str, asset: dict) -> str:
    """A link to a data or model version's page, named name:version."""
    name, version = asset["name"], asset["version"]
    return link(f"{base}/{kind}/{q(name)}/{q(version)}", f"{name}:{version}")


def data_page(request, ports, *, id: str, version: str) -> Reply:
    base, registry = request.base, ports["registry"]
    data = view(require(registry, "data", id, version).body)
    used_by = [r.body for r in registry.list("run")
               if any(i.get("asset") == f"{id}:{version}"
                      for i in (r.body.get("inputs") or {}).values() if isinstance(i, dict))]
    models = [m.body for m in registry.list("model")
              if f"{id}:{version}" in ((m.body.get("lineage") or {}).get("data") or [])]
    body = (section("", pairs({k: data.get(k) for k in ("name", "version", "type", "state",
                                                          "path", "fingerprint",
                                                          "description", "error")
                                if data.get(k) not in (None, "")}))
            + section("Used by runs", table(
                ["Run", "Status"], [[link(f"{base}/runs/{q(r['name'])}", r["name"]),
                                     badge(r["status"])] for r in used_by],
                empty="No run has read this version."))
            + section("Models trained on it", table(
                ["Model"], [[_asset_link(base, "models", m)] for m in models],
                empty="None.")))
    return page(base, f"Data {id}:{version}", body)


def model_list(request, ports) -> Reply:
    base = request.base
    rows = []
    for m in (view(r.body) for r in ports["registry"].list("model")):
        onnx = m.get("onnx") or {}
        rows.append([_asset_link(base, "models", m), h(m.get("framework") or ""),
                     badge(m.get("state")), h(_parity_line(onnx.get("parity"))),
                     _run_link(base, (m.get("lineage") or {}).get("run"))])
    return page(base, "Models", section("", table(
        ["Version", "Framework", "State", "ONNX parity", "Run"], rows,
        empty="No models registered yet (mlcycle model create).")))


def model_page(request, ports, *, id: str, version: str) -> Reply:
    base, registry = request.base, ports["registry"]
    model = view(require(registry, "model", id, version).body)
    onnx = model.get("onnx") or {}
    parity = onnx.get("parity") or {}
    facts = {k: model.get(k) for k in ("name", "version", "state", "type", "framework",
                                        "framework_version", "framework_inferred_from",
                                        "path", "fingerprint", "description")
             if model.get(k) not in (None, "")}
    if model.get("error"):
        facts["error"] = model["error"].get("message")
    figures = {k: v for k, v in parity.items() if not isinstance(v, (dict, list))}
    deployments = [d.body for d in registry.list("deployment")
                   if d.body.get("model") == id and str(d.body.get("model_version")) == version]
    conversion = (f"<p>{badge('Converted' if onnx.get('path') else model.get('state'))} "
                  f"{h(_parity_line(parity))}</p>" if onnx else "<p>Not converted yet.</p>")
    body = (section("", pairs(facts))
            + section("Lineage", lineage_graph(base, registry, model, deployments))
            + section("ONNX conversion", conversion + (pairs(figures) if figures else ""))
            + section("Deployments", table(
                ["Deployment", "State"],
                [[link(f"{base}/endpoints/{q(d['endpoint'])}", f"{d['endpoint']}/{d['name']}"),
                  badge(d.get("state"))] for d in deployments], empty="Not deployed.")))
    return page(base, f"Model {id}:{version}", body)


def lineage_graph(base: str, registry, model: dict, deployments: list[dict]) -> str:
    """An SVG of columns data -> run -> model -> deployments, every box a link."""
    lineage = model.get("lineage") or {}
    run_id = lineage.get("run")
    columns = [
        [(f"data {d}", f"{base}/data/{'/'.join(q(p) for p in d.split(':', 1))}")
         for d in lineage.get("data") or []],
        [(f"run {run_id}", f"{base}/runs/{q(run_id)}")] if run_id else [],
        [(f"model {model['name']}:{model['version']}",
          f"{base}/models/{q(model['name'])}/{q(model['version'])}")],
        [(f"deployment {d['endpoint']}/{d['name']}", f"{base}/endpoints/{q(d['endpoint'])}")
         for d in deployments],
    ]
    columns = [c for c in columns if c]
    tallest = max(len(c) for c in columns)
    width = len(columns) * (BOX_W + GAP_X) - GAP_X + 2
    height = tallest * (BOX_H + GAP_Y) - GAP_Y + 2
    boxes, centres = [], []
    for i, column in enumerate(columns):
        x = 1 + i * (BOX_W + GAP_X)
        top = 1 + (height - len(column) * (BOX_H + GAP_Y) + GAP_Y) / 2
        mids = []
        for j, (label, href) in enumerate(column):
            y = top + j * (BOX_H + GAP_Y)
            kind = label.split(" ", 1)[0]
            boxes.append(f'<a href="{h(href)}" class="node {h(kind)}">'
                         f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6"/>'
                         f'<text x="{x + 10}" y="{y + 27}">{h(_clip(label))}</text>'
                         f'<title>{h(label)}</title></a>')
            mids.append((x, y + BOX_H / 2))
        centres.append(mids)
    edges = [f'<line x1="{a[0] + BOX_W}" y1="{a[1]}" x2="{b[0]}" y2="{b[1]}" '
             f'marker-end="url(#arrow)"/>'
             for left, right in zip(centres, centres[1:]) for a in left for b in right]
    return (f'<svg class="lineage" role="img" aria-label="lineage" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}"><defs><marker id="arrow" '
            'viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
            'orient="auto"><path d="M0,0L10,5L0,10z"/></marker></defs>'
            f'<g class="edges">{"".join(edges)}</g>{"".join(boxes)}</svg>')


def _parity_line(parity: dict | None) -> str:
    if not parity:
        return ""
    bits = [f"{'passed' if parity.get('passed') else 'failed'}"]
    for key in ("max_abs_diff", "max_rel_diff", "label_agreement"):
        if isinstance(parity.get(key), (int, float)):
            bits.append(f"{key}={parity[key]:.3g}")
    return ", ".join(bits)


def _run_link(base: str, run_id: str | None) -> str:
    return link(f"{base}/runs/{q(run_id)}", run_id) if run_id else ""


def _short(digest: str | None) -> str:
    return (digest or "")[:16]


def _clip(label: str, most: int = 26) -> str:
    return label if len(label) <= most else label[:most - 1] + "…"
