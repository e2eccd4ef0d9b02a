"""Bad HTTP requests, with the right key, are refused clearly: malformed JSON, bodies of
the wrong shape, scoring bodies that do not fit the model, oversized and unreadable
bodies, unknown routes and names, wrong methods. Each gets a 4xx and a JSON
`{"error": {"code", "message"}}` naming the problem, never a traceback or a 5xx, and
the registry and blobs stay as they were."""
import json
import socket

import pytest

from shared.localhost.http_server import MAX_BODY
from tests.reliability.ledger import record
from tests.reliability.state import differences, snapshot

SPEC_ROUTES = ["/api/jobs", "/api/data", "/api/models", "/api/computes", "/api/endpoints",
               "/api/endpoints/iris/deployments", "/api/environments"]
# body -> a word the message must contain
BAD_SPEC_BODIES = {
    b"{not json": "JSON", b"": "object", b"[1, 2]": "object", b'"text"': "object",
    b"null": "object", b"\xff\xfe": "JSON", b'{"snapshot": 5, "spec_path": "x.yml"}': "snapshot",
    b'{"snapshot": "abc"}': "spec_path",
    b'{"snapshot": "abc", "spec_path": "../../etc/passwd"}': "spec_path",
    b'{"snapshot": "abc", "spec_path": "x.yml", "set": "a=1"}': "set",
    b'{"snapshot": "abc", "spec_path": "x.yml", "set": [1]}': "set",
    b'{"snapshot": "../x", "spec_path": "x.yml"}': "snapshot",
}
BAD_SCORES = {  # for a model of FP32 rows of 4 features
    b"{oops": "JSON", b"[]": "object", b'{"rows": [[1, 2, 3, 4]]}': "expected",
    b'{"data": "1,2,3,4"}': "list", b'{"data": [[1, 2, 3]]}': "shape",
    b'{"data": [[1, 2, 3, 4], [1, 2]]}': "ragged", b'{"data": [["a", "b", "c", "d"]]}': "numbers",
    b'{"data": []}': "no values", b'{"input_data": {"nope": [[1, 2, 3, 4]]}}': "nope",
    b'{"input_data": {"data": [[1, 2, 3, 4]], "columns": ["a", "b"]}}': "columns",
    b'{"inputs": []}': "inputs",
    b'{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [1]}]}': "needs",
    b'{"inputs": [{"name": "nope", "shape": [1, 4], "datatype": "FP32", '
    b'"data": [1, 2, 3, 4]}]}': "nope",
    b'{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "BYTES", '
    b'"data": ["a", "b", "c", "d"]}]}': "datatype",
    b'{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", '
    b'"data": [1, 2, 3, 4]}], "outputs": [{"name": "nope"}]}': "nope",
    json.dumps({"data": [[1, 2, 3, 4]] * 10_001}).encode(): "too many rows",
}
UNKNOWN_NAMES = [("GET", "/api/jobs/nope-run"), ("GET", "/api/jobs/nope-run/logs"),
                 ("POST", "/api/jobs/nope-run/cancel"), ("GET", "/api/jobs/nope-run/files"),
                 ("GET", "/api/jobs/nope-run/files/outputs/x.txt"),
                 ("GET", "/api/data/nope-data/versions/1"),
                 ("GET", "/api/data/nope-data/versions/latest"),
                 ("GET", "/api/models/nope-model/versions/1"),
                 ("GET", "/api/computes/nope-pool"), ("GET", "/api/endpoints/nope-endpoint"),
                 ("GET", "/api/environments/nope-env/versions/1"),
                 ("GET", "/api/environments/nope-env/versions/latest"),
                 ("POST", "/api/endpoints/nope-endpoint/score"),
                 ("GET", "/api/dead-letters/nope-queue"),
                 ("POST", "/api/dead-letters/deploy/nope-message/replay")]
WRONG_METHODS = [("PUT", "/api/jobs"), ("DELETE", "/api/jobs/x"), ("PATCH", "/api/models"),
                 ("GET", "/api/endpoints/iris/score"), ("POST", "/api/health"),
                 ("OPTIONS", "/api/jobs"), ("GET", "/api/snapshots")]
UNKNOWN_ROUTES = ["/api/nope", "/api/jobs/x/y/z/w", "/nope", "/api/", "/api/jobs/x/cancel/x"]


class Refusals:
    """Answers checked against the error contract; the bad ones, counted per fault."""

    def __init__(self, api, container) -> None:
        self.api, self.container, self.sent, self.bad = api, container, 0, []
        self.before = snapshot(container, work=False)

    def expect(self, status, method, path, body=b"", named="", headers=None):
        answer = self.api(method, path, body=body, headers=headers)
        self.sent += 1
        problem = contract_breach(answer, status, named)
        if problem:
            self.bad.append(f"{method} {path} {body[:60]!r}: {problem}")
        return answer


def contract_breach(answer, status, named) -> str:
    if answer.status != status:
        return f"status {answer.status}, wanted {status}: {answer.body[:200]!r}"
    if b"Traceback" in answer.body:
        return "a traceback in the body"
    try:
        error = answer.json()["error"]
    except (ValueError, KeyError, TypeError):
        return f"not the JSON error contract: {answer.body[:200]!r}"
    if not (isinstance(error.get("code"), str) and isinstance(error.get("message"), str)):
        return f"error without code and message: {error}"
    if named.lower() not in error["message"].lower():
        return f"message does not name {named!r}: {error['message']}"
    return ""


@pytest.fixture
def refusals(host, api, iris_endpoint):
    return Refusals(api, host.container)


def finish(refusals, fault, checked="status, JSON error body, registry, blobs"):
    # The bus is left out: the pool timer publishes on its own schedule.
    changed = [d for d in differences(refusals.before, snapshot(refusals.container, work=False))
               if not d.startswith("bus ")]
    record("bad input", fault, injected=refusals.sent, lost=len(refusals.bad) + len(changed),
           checked=checked)
    assert not refusals.bad, "\n".join(refusals.bad)
    assert not changed, changed


def test_malformed_and_misshapen_spec_bodies_are_400s(refusals):
    for route in SPEC_ROUTES:
        for body, named in BAD_SPEC_BODIES.items():
            refusals.expect(400, "POST", route, body, named)
    finish(refusals, "malformed JSON and wrong shapes on the spec POST routes")


@pytest.fixture
def junk_snapshot(api):
    return api("POST", "/api/snapshots", body=b"not a tar.gz at all").json()["id"]


def test_a_snapshot_that_is_not_there_or_not_an_archive_is_refused(junk_snapshot, refusals):
    junk = junk_snapshot
    refusals.expect(404, "POST", "/api/jobs", b'{"snapshot": "abc123", "spec_path": "j.yml"}',
                    "abc123")
    refusals.expect(400, "POST", "/api/jobs",
                    json.dumps({"snapshot": junk, "spec_path": "job.yml"}).encode(), "snapshot")
    refusals.expect(400, "POST", "/api/snapshots", b"", "empty")
    finish(refusals, "spec POSTs naming a missing snapshot or one that is not an archive")


def test_scoring_bodies_that_do_not_fit_the_model_are_400s(refusals, iris_endpoint, api):
    path = f"/api/endpoints/{iris_endpoint}/score"
    for body, named in BAD_SCORES.items():
        refusals.expect(400, "POST", path, body, named)
    good = api("POST", path, body=b'{"data": [[5.1, 3.5, 1.4, 0.2]]}')
    finish(refusals, "scoring bodies of wrong shape, dtype, names and size (v1, v2, OIP)")
    assert good.status == 200 and good.json() == [0]  # the same endpoint does score


def test_unknown_names_are_404s_naming_them(refusals):
    for method, path in UNKNOWN_NAMES:
        name = next(part for part in path.split("/") if part.startswith("nope"))
        refusals.expect(404, method, path, b"{}" if method == "POST" else b"", name)
    finish(refusals, "requests naming runs, assets, pools, endpoints, queues and dead "
                     "letters that do not exist")


def test_unknown_routes_are_404s_and_wrong_methods_405s(refusals, api):
    for path in UNKNOWN_ROUTES:
        refusals.expect(404, "GET", path, named="no route")
    for method, path in WRONG_METHODS:
        refusals.expect(405, method, path, named=method)
    head = api("HEAD", "/api/jobs")
    finish(refusals, "unknown routes and methods a route does not take")
    assert head.status == 405 and head.body == b""


def raw(host, request: bytes) -> tuple[int, bytes]:
    """Send bytes as they are (headers a client library would not send) and read the
    answer's status and body."""
    with socket.create_connection((host.host, host.port), timeout=60) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize("header, status, named", [
    (f"Content-Length: {MAX_BODY + 1}", 413, "over"),
    ("Content-Length: 999999999999", 413, "over"),
    ("Content-Length: -5", 400, "Content-Length"),
    ("Content-Length: lots", 400, "Content-Length"),
    ("Transfer-Encoding: chunked", 400, "Content-Length"),
])
def test_oversized_and_unreadable_bodies_are_refused_before_they_are_read(
        host, header, status, named):
    request = (f"POST /api/jobs HTTP/1.1\r\nHost: x\r\nx-functions-key: {host.key}\r\n"
               f"Connection: close\r\n{header}\r\n\r\n").encode()
    got, body = raw(host, request)
    problem = contract_breach(type("A", (), {"status": got, "body": body,
                                             "json": lambda self: json.loads(body)})(),
                              status, named)
    record("bad input", f"POST /api/jobs with {header.split(':')[0]} {header.split(': ')[1]}",
           injected=1, lost=int(bool(problem)), checked="status, JSON error body")
    assert not problem, problem


def test_a_snapshot_over_the_json_limit_still_uploads(api):
    bundle = b"\0" * (MAX_BODY + 1024)
    answer = api("POST", "/api/snapshots", body=bundle)
    assert answer.status == 201, answer.body[:200]  # uploads have their own, larger limit
