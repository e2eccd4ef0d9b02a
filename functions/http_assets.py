"""HTTP routes for data assets, models, computes and dead letters."""
import azure.functions as func

from functions.http import request_id, respond
from shared.api import assets
from shared.api.submit import submit

bp = func.Blueprint()


@bp.route(route="data", methods=["POST"])
def create_data(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: submit("data", req.get_body(), request_id=request_id(req), ports=p))


@bp.route(route="data", methods=["GET"])
def list_data(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: assets.list_assets("data", dict(req.params), registry=p["registry"]))


@bp.route(route="data/{name}/versions/{version}", methods=["GET"])
def show_data(req: func.HttpRequest) -> func.HttpResponse:
    r = req.route_params
    return respond(lambda p: assets.show_asset("data", r["name"], r["version"],
                                               registry=p["registry"]))


@bp.route(route="models", methods=["POST"])
def create_model(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: submit("model", req.get_body(), request_id=request_id(req),
                                    ports=p))


@bp.route(route="models", methods=["GET"])
def list_models(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: assets.list_assets("model", dict(req.params),
                                                registry=p["registry"]))


@bp.route(route="models/{name}/versions/{version}", methods=["GET"])
def show_model(req: func.HttpRequest) -> func.HttpResponse:
    r = req.route_params
    return respond(lambda p: assets.show_asset("model", r["name"], r["version"],
                                               registry=p["registry"]))


@bp.route(route="models/{name}/versions/{version}/files", methods=["GET"])
def list_model_files(req: func.HttpRequest) -> func.HttpResponse:
    r = req.route_params
    return respond(lambda p: assets.list_model_files(r["name"], r["version"],
                                                     registry=p["registry"], blobs=p["blobs"]))


@bp.route(route="models/{name}/versions/{version}/files/{*path}", methods=["GET"])
def get_model_file(req: func.HttpRequest) -> func.HttpResponse:
    r = req.route_params
    return respond(lambda p: assets.get_model_file(r["name"], r["version"], r["path"],
                                                   registry=p["registry"], blobs=p["blobs"]))


@bp.route(route="computes", methods=["POST"])
def create_compute(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: submit("compute", req.get_body(), request_id=request_id(req),
                                    ports=p))


@bp.route(route="computes", methods=["GET"])
def list_computes(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: assets.list_assets("compute", {}, registry=p["registry"]))


@bp.route(route="computes/{name}", methods=["GET"])
def show_compute(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: assets.show_compute(req.route_params["name"],
                                                 registry=p["registry"]))


@bp.route(route="dead-letters/{queue}", methods=["GET"])
def list_dead_letters(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: assets.dead_letters(req.route_params["queue"], bus=p["bus"]))


@bp.route(route="dead-letters/{queue}/{id}/replay", methods=["POST"])
def replay_dead_letter(req: func.HttpRequest) -> func.HttpResponse:
    r = req.route_params
    return respond(lambda p: assets.replay_dead_letter(r["queue"], r["id"], bus=p["bus"]))
