"""HTTP routes for environments: register a version from a spec, list, show one."""
import azure.functions as func

from functions.http import request_id, respond
from shared.api import assets
from shared.api.submit import submit

bp = func.Blueprint()


@bp.route(route="environments", methods=["POST"])
def create_environment(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: submit("environment", req.get_body(), request_id=request_id(req),
                                    ports=p))


@bp.route(route="environments", methods=["GET"])
def list_environments(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: assets.list_assets("environment", dict(req.params),
                                                registry=p["registry"]))


@bp.route(route="environments/{name}/versions/{version}", methods=["GET"])
def show_environment(req: func.HttpRequest) -> func.HttpResponse:
    r = req.route_params
    return respond(lambda p: assets.show_asset("environment", r["name"], r["version"],
                                               registry=p["registry"]))
