"""HTTP routes for online endpoints, their deployments and scoring; the health check and
the API's own description."""
import azure.functions as func

from functions.http import http_response, request_id, respond
from shared.api import endpoints, scoring
from shared.api.openapi import openapi
from shared.api.replies import Reply, guarded
from shared.api.submit import submit
from shared.bootstrap import current

bp = func.Blueprint()


@bp.route(route="endpoints", methods=["POST"])
def create_endpoint(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: submit("endpoint", req.get_body(), request_id=request_id(req),
                                    ports=p))


@bp.route(route="endpoints", methods=["GET"])
def list_endpoints(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: endpoints.list_endpoints(registry=p["registry"]))


@bp.route(route="endpoints/{name}", methods=["GET"])
def show_endpoint(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: endpoints.show_endpoint(
        req.route_params["name"], registry=p["registry"], blobs=p["blobs"],
        scorer=p["scorer"]))


@bp.route(route="endpoints/{name}", methods=["DELETE"])
def delete_endpoint(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: endpoints.delete_endpoint(
        req.route_params["name"], registry=p["registry"], scripts=p["scripts"]))


@bp.route(route="endpoints/{name}/deployments", methods=["POST"])
def create_deployment(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: submit("deployment", req.get_body(), request_id=request_id(req),
                                    ports=p, endpoint=req.route_params["name"]))


@bp.route(route="endpoints/{name}/score", methods=["POST"])
def score(req: func.HttpRequest) -> func.HttpResponse:
    return http_response(score_reply(req.route_params, dict(req.headers), req.get_body()))


def score_reply(route_params: dict, headers: dict, body: bytes) -> Reply:
    """The scoring route's answer. The local host calls it directly (DIRECT), without
    the request and response objects around it; headers have lower-case names."""
    c = current()
    return guarded(lambda: scoring.score(
        route_params["name"], body, headers, registry=c.registry, blobs=c.blobs,
        scorer=c.scorer, scripts=c.scripts))


# Routes the local host may serve without Functions' objects (shared/localhost/http_server).
DIRECT = {"score": score_reply}


@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: Reply(200, {"status": "ok"}))


@bp.route(route="openapi.json", methods=["GET"])
def openapi_document(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: openapi())
