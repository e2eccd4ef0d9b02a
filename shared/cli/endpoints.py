"""`mlcycle online-endpoint ...` and `mlcycle online-deployment ...`: serve models over HTTP."""
from __future__ import annotations

import argparse
import json
from typing import Any

from shared.cli import bundle, submit
from shared.cli.client import Client, quote
from shared.cli.errors import CliError
from shared.cli.output import emit

POLL_INTERVAL_S = 1.0
WAIT_TIMEOUT_S = 900.0
COLUMNS = ("name", "auth_mode", "scoring_uri", "traffic")
DEPLOYMENT_COLUMNS = ("name", "model", "model_version", "state", "error")


def endpoint_create(args: argparse.Namespace, client: Client) -> int:
    """Create or update an online endpoint from its spec."""
    sets = submit.with_name(args.set, name=args.name)
    emit(submit.submit_file(client, "/api/endpoints", args.file, sets), args.output, COLUMNS)
    return 0


def endpoint_show(args: argparse.Namespace, client: Client) -> int:
    """Print one endpoint with its deployments and model signature."""
    emit(client.json("GET", f"/api/endpoints/{quote(args.name)}"), args.output, COLUMNS)
    return 0


def endpoint_list(args: argparse.Namespace, client: Client) -> int:
    """Print the endpoints."""
    result = client.json("GET", "/api/endpoints")
    emit(result.get("value", []) if isinstance(result, dict) else result, args.output, COLUMNS)
    return 0


def endpoint_invoke(args: argparse.Namespace, client: Client) -> int:
    """Score the JSON body in --request-file and print the answer."""
    try:
        with open(args.request_file, encoding="utf-8") as handle:
            body = json.load(handle)
    except OSError as exc:
        raise CliError(f"cannot read {args.request_file}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CliError(f"{args.request_file} is not valid JSON: {exc}") from None
    # Azure ML's header for sending a request to one deployment, bypassing the traffic split.
    headers = {"azureml-model-deployment": args.deployment_name} if args.deployment_name else {}
    resp = client.request("POST", f"/api/endpoints/{quote(args.name)}/score", body, headers=headers)
    try:
        answer = json.loads(resp.body)
    except ValueError:
        answer = resp.body.decode("utf-8", "replace")
    emit(answer, args.output)
    return 0


def deployment_create(args: argparse.Namespace, client: Client) -> int:
    """Create a deployment under its endpoint and, unless --no-wait, wait for it to settle."""
    spec = bundle.load_spec_file(args.file)
    endpoint = args.endpoint_name or spec.get("endpoint_name")
    if not endpoint:
        raise CliError("give -e/--endpoint-name or set endpoint_name in the spec")
    sets = submit.with_name(args.set, name=args.name, endpoint_name=args.endpoint_name)
    route = f"/api/endpoints/{quote(endpoint)}/deployments"
    created = submit.submit_file(client, route, args.file, sets, spec, all_traffic=args.all_traffic)
    if args.no_wait:
        emit(created, args.output, DEPLOYMENT_COLUMNS)
        return 0
    name = created.get("name") or args.name or spec.get("name")
    final = submit.wait_for(
        lambda: _settled(client.json("GET", f"/api/endpoints/{quote(endpoint)}"), name,
                         args.all_traffic),
        lambda dep: dep is not None,
        what=f"deployment {name} of endpoint {endpoint}",
        interval=POLL_INTERVAL_S, timeout=WAIT_TIMEOUT_S,
    )
    emit(final, args.output, DEPLOYMENT_COLUMNS)
    if final.get("state") == "Failed":
        raise CliError(f"deployment {name} failed: {submit.error_text(final.get('error'))}")
    return 0


def _settled(endpoint: dict[str, Any], name: str, all_traffic: bool) -> dict[str, Any] | None:
    """The deployment once its roll-out ended: Failed, or Succeeded and, where it is to
    take all traffic (asked to, or the endpoint's first), routed to, since the deploy
    handler routes just after it promotes: a request sent on "Succeeded" must reach it."""
    dep = _deployment(endpoint, name)
    if dep is None or dep.get("state") not in ("Succeeded", "Failed"):
        return None
    traffic = endpoint.get("traffic") or {}
    if dep["state"] == "Succeeded" and (all_traffic or not traffic) and traffic.get(name) != 100:
        return None
    return dep


def _deployment(endpoint: dict[str, Any], name: str) -> dict[str, Any] | None:
    for deployment in endpoint.get("deployments") or []:
        if deployment.get("name") == name:
            return deployment
    return None
