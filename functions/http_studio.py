"""HTTP routes of the studio (shared/studio): its pages, feeds and static files.
Anonymous at the Functions level: the studio checks its own sign-in cookie. It is at
`/api/studio/` on every host (Functions' routes live under /api); the local host also
serves it at `/`."""
from urllib.parse import urlsplit

import azure.functions as func

from functions.http import respond
from shared.studio.links import STUDIO_MOUNT
from shared.studio.router import Request, parse_query, serve

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS
METHODS = ["GET", "POST", "HEAD"]


def _request(req: func.HttpRequest, path: str) -> Request:
    url = urlsplit(req.url)
    base = STUDIO_MOUNT if url.path.startswith(STUDIO_MOUNT) else ""
    return Request(method="GET" if req.method.upper() == "HEAD" else req.method.upper(),
                   path="/" + path, base=base, query=parse_query(url.query),
                   headers=dict(req.headers), body=req.get_body(),
                   secure=url.scheme == "https")


@bp.route(route="studio", methods=METHODS, auth_level=ANONYMOUS)
def studio_home(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: serve(_request(req, ""), p))


@bp.route(route="studio/{*path}", methods=METHODS, auth_level=ANONYMOUS)
def studio_page(req: func.HttpRequest) -> func.HttpResponse:
    return respond(lambda p: serve(_request(req, req.route_params["path"]), p))
