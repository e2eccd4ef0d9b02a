"""The floor of the HTTP stack: an endpoint that answers a constant, served by the same
local HTTP server (shared/localhost/http_server) that serves mlcycle's endpoints, on the
same route, with the same key check, and called the same way: directly, as the host
calls its scoring route (no Functions request or response objects). Whatever it costs,
mlcycle cannot go below.

Run as `python -m bench.constant_server --port 0 --key KEY`; prints its URL."""
from __future__ import annotations

import argparse
import sys

import azure.functions as func

from shared.api.replies import Reply
from shared.localhost.http_server import make_server
from shared.localhost.triggers import read_triggers

ANSWER = b"[0]"  # the shape of a one-row prediction, so replies are alike in size


def constant_app() -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

    @app.route(route="endpoints/{name}/score", methods=["POST"])
    def score(req: func.HttpRequest) -> func.HttpResponse:
        req.get_body()
        return func.HttpResponse(ANSWER, status_code=200, mimetype="application/json")

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--key", required=True)
    args = parser.parse_args(argv)
    reply = Reply(200, ANSWER, {"Content-Type": "application/json"})
    server = make_server(read_triggers(constant_app()), args.key, "127.0.0.1", args.port,
                         direct={"score": lambda route_params, headers, body: reply})
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
