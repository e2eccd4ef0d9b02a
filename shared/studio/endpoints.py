"""Endpoint pages: deployments with their model, state and share of traffic (and the
mirrored share), request counts and latency as this host served them, and a try-it box
that scores a pasted request through the same call as /api's score route."""
from __future__ import annotations

import json

from shared.api import endpoints as api
from shared.api import scoring
from shared.api.replies import Reply, guarded, view
from shared.serving.request_stats import stats_for
from shared.studio.html import badge, h, link, page, q, section, table

MAX_TRY = 1024 * 1024


def list_page(request, ports) -> Reply:
    base = request.base
    rows = []
    for e in (view(r.body) for r in ports["registry"].list("endpoint")):
        traffic = ", ".join(f"{d} {p}%" for d, p in (e.get("traffic") or {}).items())
        rows.append([link(f"{base}/endpoints/{q(e['name'])}", e["name"]),
                     badge(e.get("state") or e.get("provisioning_state") or ""),
                     h(traffic), h(e.get("auth_mode") or "key")])
    return page(base, "Endpoints", section("", table(
        ["Endpoint", "State", "Traffic", "Auth"], rows,
        empty="No endpoints yet (mlcycle online-endpoint create).")))


def endpoint_page(request, ports, *, id: str) -> Reply:
    base = request.base
    endpoint = api.show_endpoint(id, registry=ports["registry"], blobs=ports["blobs"],
                                 scorer=ports["scorer"]).body
    traffic, mirror = endpoint.get("traffic") or {}, endpoint.get("mirror_traffic") or {}
    rows = []
    for d in endpoint.get("deployments") or []:
        model = f"{d.get('model')}:{d.get('model_version')}" if d.get("model_version") else ""
        rows.append([h(d["name"]),
                     link(f"{base}/models/{q(d['model'])}/{q(d['model_version'])}", model)
                     if model else h(d.get("model") or "scoring script"),
                     badge(d.get("state")), h(f"{traffic.get(d['name'], 0)}%"),
                     h(f"{mirror[d['name']]}%" if d["name"] in mirror else ""),
                     h("scoring script" if d.get("serving") else "no-code (ONNX)"),
                     h(((d.get("error") or {}).get("message")) or "")])
    sample = _sample(endpoint.get("signature"))
    scoring = f"/api/endpoints/{q(id)}/score"
    body = (section("Deployments", table(
                ["Deployment", "Model", "Health", "Traffic", "Mirrored", "Serving",
                 "Last error"], rows, cls="deployments", empty="No deployments yet.")
                + f'<p class="hint">Scoring URI: <code>{h(scoring)}</code> (POST, with the '
                'key in <code>x-functions-key</code>)</p>')
            + section("Requests", '<div id="stats">'
                      + _stats_table(stats_for(ports["registry"]).of(id)) + '</div>')
            + '<section><h2>Try it</h2><form id="try-it" method="post" '
            f'action="{h(base)}/endpoints/{q(id)}/try">'
            f'<textarea name="body" id="try-body" rows="6" spellcheck="false" '
            f'aria-label="request body">{h(sample)}</textarea>'
            '<label>Deployment <select id="try-deployment"><option value="">by traffic'
            '</option>' + "".join(f'<option>{h(d["name"])}</option>'
                                  for d in endpoint.get("deployments") or [])
            + '</select></label> <button type="submit">Score</button></form>'
            '<pre id="try-answer" class="answer" aria-live="polite"></pre></section>')
    return page(base, f"Endpoint {id}", body, scripts=("studio.js",),
                data={"page": "endpoint", "endpoint": id})


def stats_feed(request, ports, *, id: str) -> Reply:
    api.show_endpoint(id, registry=ports["registry"], blobs=ports["blobs"],
                      scorer=ports["scorer"])  # a 404 for an endpoint that does not exist
    return Reply(200, {"endpoint": id, "deployments": stats_for(ports["registry"]).of(id)},
                 {"Cache-Control": "no-store"})


def try_it(request, ports, *, id: str) -> Reply:
    """Score the pasted body as /api would, answering its status and JSON as they are
    (an error as the API's error), with the deployment that answered."""
    if len(request.body) > MAX_TRY:
        return Reply(413, {"error": {"code": "PayloadTooLarge",
                                     "message": f"a try-it request is at most {MAX_TRY} bytes"}})
    headers = {}
    wanted = request.headers.get("x-deployment") or request.headers.get("X-Deployment")
    if wanted:
        headers["azureml-model-deployment"] = wanted
    reply = guarded(lambda: scoring.score(id, request.body, headers,
                                          registry=ports["registry"], blobs=ports["blobs"],
                                          scorer=ports["scorer"],
                                          scripts=ports.get("scripts")))
    reply.headers["Cache-Control"] = "no-store"
    return reply


def _stats_table(stats: dict) -> str:
    rows = [[h(d or "(none)"), h(s["requests"]), h(s["errors"]), h(_ms(s["p50_ms"])),
             h(_ms(s["p95_ms"])), h(s["last"])] for d, s in sorted(stats.items())]
    return table(["Deployment", "Requests", "Errors", "p50", "p95", "Last"], rows,
                 cls="stats", empty="No requests since this host started.")


def _ms(value) -> str:
    return "" if value is None else f"{value:.2f} ms"


def _sample(signature: dict | None) -> str:
    """A request body of the model's input shape, all zeros, to edit."""
    inputs = (signature or {}).get("inputs") or []
    if len(inputs) == 1:
        shape = inputs[0].get("shape") or []
        width = shape[-1] if len(shape) == 2 and isinstance(shape[-1], int) and \
            shape[-1] > 0 else None
        if width:
            return json.dumps({"data": [[0.0] * width]})
    return json.dumps({"data": [[0.0]]})
