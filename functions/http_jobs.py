"""HTTP routes for jobs."""
import azure.functions as func

from functions.http import request_id, respond
from shared.api import jobs
from shared.api.submit import store_bundle, submit

bp = func.Blueprint()


@bp.route(route="snapshots", methods=["POST"])
def upload_snapshot(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: store_bundle(req.get_body(), blobs=p["blobs"],
                                          settings=p["settings"]))


@bp.route(route="jobs", methods=["POST"])
def create_job(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: submit("job", req.get_body(), request_id=request_id(req), ports=p))


@bp.route(route="jobs", methods=["GET"])
def list_jobs(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: jobs.list_jobs(registry=p["registry"]))


@bp.route(route="jobs/{id}", methods=["GET"])
def show_job(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: jobs.show_job(req.route_params["id"], registry=p["registry"]))


@bp.route(route="jobs/{id}/logs", methods=["GET"])
def job_logs(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: jobs.job_logs(req.route_params["id"], dict(req.params),
                                           registry=p["registry"], compute=p["compute"],
                                           blobs=p["blobs"]))


@bp.route(route="jobs/{id}/cancel", methods=["POST"])
def cancel_job(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: jobs.cancel_job(req.route_params["id"], registry=p["registry"],
                                             compute=p["compute"], clock=p["clock"]))


@bp.route(route="jobs/{id}/files", methods=["GET"])
def list_job_files(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: jobs.list_files(req.route_params["id"], registry=p["registry"],
                                             blobs=p["blobs"]))


@bp.route(route="jobs/{id}/files/{*path}", methods=["GET"])
def get_job_file(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: jobs.get_file(req.route_params["id"], req.route_params["path"],
                                           registry=p["registry"], blobs=p["blobs"]))
