"""HTTP routes of the door azure-ai-ml comes in by (shared/arm): ARM's workspace
resources, run history, the Blob API subset for uploads and the cloud documents the SDK
reads first. Anonymous at the Functions level: the SDK sends its key as a bearer token,
which the door checks itself, and upload URLs carry their own signature."""
import azure.functions as func

from functions.http import respond
from shared.arm.call import Call
from shared.arm.cloud import cloud_metadata, discovery
from shared.arm.router import dispatch

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS
METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH"]
BLOB_METHODS = ["GET", "HEAD", "PUT", "DELETE"]


def _call(req: func.HttpRequest, path: str) -> Call:
    scheme, _, rest = req.url.partition("://")
    return Call(method=req.method.upper(), path=path, query=dict(req.params),
                headers={k.lower(): v for k, v in req.headers.items()},
                body=req.get_body(), base=f"{scheme}://{rest.split('/', 1)[0]}")


@bp.route(route="arm/metadata/endpoints", methods=["GET"], auth_level=ANONYMOUS)
def sdk_cloud_metadata(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: cloud_metadata(_call(req, ""), p))


@bp.route(route="arm/discovery", methods=["GET"], auth_level=ANONYMOUS)
def sdk_discovery(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: discovery(_call(req, "")))


@bp.route(route="subscriptions/{*path}", methods=METHODS, auth_level=ANONYMOUS)
def sdk_arm(req: func.HttpRequest) -> func.HttpResponse:
    path = "subscriptions/" + req.route_params["path"]
    return respond(lambda p: dispatch("arm", _call(req, path), p))


@bp.route(route="history/{*path}", methods=METHODS, auth_level=ANONYMOUS)
def sdk_run_history(req: func.HttpRequest) -> func.HttpResponse:
    path = "history/" + req.route_params["path"]
    return respond(lambda p: dispatch("history", _call(req, path), p))


@bp.route(route="storage/{*path}", methods=BLOB_METHODS, auth_level=ANONYMOUS)
def sdk_storage(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: dispatch("storage", _call(req, req.route_params["path"]), p))
