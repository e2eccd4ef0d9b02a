"""The server a scoring-script deployment runs in: one process per deployment, started by
mlcycle's supervisor (`shared.serving.script_servers`) on the deployment environment's
interpreter, as Azure ML's inference server runs `score.py`.

It keeps Azure ML's contract: the script is imported from its code folder, `init()` is
called once before anything is served, `run(raw_data)` is called per request with the
request body as text, and what `run` returns is sent back as JSON. A `run` that raises
answers 500 with a JSON error that names the exception; it never leaves the request
hanging, and the server goes on serving.

It runs as a file on any interpreter, so it imports nothing but the standard library.
It binds 127.0.0.1 on a free port and answers only requests that carry the token the
supervisor gave it; once `init()` returned, it writes `server.json` (pid, port) into its
state folder, which is how the supervisor knows it is ready and finds it again after a
restart of the host. An `init()` that raises writes `failure.json` and exits 1.

Usage: python script_host.py STATE_FOLDER SCORING_SCRIPT INSTANCE_ID
(the token in the environment variable MLCYCLE_SCRIPT_TOKEN).
"""
import hmac
import importlib.util
import json
import logging
import os
import signal
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN_HEADER = "X-Mlcycle-Script-Token"
TOKEN_VARIABLE = "MLCYCLE_SCRIPT_TOKEN"
MAX_BODY = 64 * 1024 * 1024


class _Script:
    """The user's module, and one lock: Azure ML runs one request at a time per instance
    unless told otherwise (max_concurrent_requests_per_instance is 1 by default), and
    scripts are written for that (a global model, no locking of their own)."""

    def __init__(self, module) -> None:
        self.module = module
        self.lock = threading.Lock()

    def run(self, raw: str):
        with self.lock:
            return self.module.run(raw)


def _load(script_path: str):
    folder = os.path.dirname(os.path.abspath(script_path))
    # The script's folder comes first, as in Azure ML; this file's own folder must not be
    # on the path at all (its module names would shadow the script's).
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [folder] + [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.util.spec_from_file_location("score", script_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["score"] = module
    spec.loader.exec_module(module)
    for name in ("init", "run"):
        if not callable(getattr(module, name, None)):
            raise TypeError(f"{os.path.basename(script_path)} defines no {name}() function")
    return module


def _plain(value):
    """What json cannot write itself: numpy arrays and scalars (the usual return value
    of a model's predict) become lists and numbers."""
    for method in ("tolist", "item"):
        if callable(getattr(value, method, None)):
            return getattr(value, method)()
    raise TypeError(f"run() returned a {type(value).__name__}, which is not JSON-serialisable")


def _failure(exc: BaseException, where: str) -> str:
    return f"{where} raised {type(exc).__name__}: {exc}"


def _handler(script: _Script, token: str, instance: str):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 60  # an idle kept-alive connection does not hold its thread for ever

        def do_GET(self) -> None:
            if not self._authorised():
                return
            if self.path != "/health":
                return self._send(404, {"error": {"code": "NotFound", "message": self.path}})
            self._send(200, {"status": "Healthy", "instance": instance, "pid": os.getpid()})

        def do_POST(self) -> None:
            if not self._authorised():
                return
            if self.path != "/score":
                return self._send(404, {"error": {"code": "NotFound", "message": self.path}})
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self._send(413, _error("BadRequest",
                                              f"the body is larger than {MAX_BODY} bytes"))
            try:
                raw = self.rfile.read(length).decode("utf-8")
            except UnicodeDecodeError:
                return self._send(400, _error("BadRequest", "the request body is not UTF-8 text"))
            try:
                answer = json.dumps(script.run(raw), default=_plain).encode()
            except Exception as exc:  # the script's fault: named to the caller, logged here
                logging.getLogger("score").error("%s", traceback.format_exc())
                return self._send(500, _error("ScoringScriptError", _failure(exc, "run()")))
            self._send(200, answer)

        def _authorised(self) -> bool:
            given = self.headers.get(TOKEN_HEADER) or ""
            if hmac.compare_digest(given.encode(), token.encode()):
                return True
            self._send(401, _error("Unauthorized", "this server answers mlcycle only"))
            return False

        def _send(self, status: int, body) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base's name)
            logging.getLogger("access").info(format, *args)

    return Handler


def _error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def _write_json(path: str, value: dict) -> None:
    partial = f"{path}.{os.getpid()}.tmp"
    with open(partial, "w") as handle:
        json.dump(value, handle)
    os.replace(partial, path)  # a reader sees the whole file or none


def _fail(state: str, message: str) -> int:
    traceback.print_exc()
    _write_json(os.path.join(state, "failure.json"), {"message": message})
    return 1


def main(argv) -> int:
    state, script_path, instance = argv
    token = os.environ.pop(TOKEN_VARIABLE, "")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not token:
        print(f"{TOKEN_VARIABLE} is not set", file=sys.stderr)
        return 2
    name = os.path.basename(script_path)
    try:
        module = _load(script_path)
    except BaseException as exc:  # whatever it was, the deployment cannot serve: say why
        return _fail(state, _failure(exc, f"loading {name}"))
    try:
        module.init()
    except BaseException as exc:
        return _fail(state, _failure(exc, f"{name}: init()"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(_Script(module), token, instance))
    # SIGTERM (a roll-out replaced this version) stops taking requests; those in flight
    # are answered before the process exits (server_close joins their threads).
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown,
                                                              daemon=True).start())
    _write_json(os.path.join(state, "server.json"),
                {"pid": os.getpid(), "port": server.server_address[1], "instance": instance})
    logging.getLogger("mlcycle").info("instance %s serves on 127.0.0.1:%d", instance,
                                      server.server_address[1])
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
