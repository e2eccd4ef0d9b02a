"""The OpenAPI description matches what is registered and documented, and the live
local host keeps to it: schemathesis generates requests for every operation (valid
and invalid ones) and checks that none gets a 5xx and every answer conforms to the
described statuses, content types, headers and schemas. (Wrong methods and missing
keys are test_bad_http's and test_access's.)"""
import re
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import load_all_checks
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi import checks as openapi_checks

from shared.api.openapi import SOURCE, document
from tests.reliability.ledger import record

EXAMPLES = 6  # per operation and generation mode: about 300 requests in all
DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
METHODS = ("get", "post", "put", "delete", "patch", "head")


def described():
    return {(m.upper(), path) for path, item in document()["paths"].items()
            for m in item if m in METHODS}


def registered(host):
    """The API's routes; the studio's (HTML for a browser, docs/studio.md) are not."""
    return {(m.upper(), "/api/" + t.route.replace("{*", "{")) for t in host.triggers
            if t.kind == "httpTrigger" and not t.route.startswith("studio")
            for m in t.methods}


def documented():
    """`METHOD /api/...` pairs named in docs/api.md, its `{v}` spelled as the route's."""
    named = re.findall(r"`(GET|POST|PUT|DELETE|PATCH|HEAD) (/api/[^`?\s]*)", DOCS.read_text())
    return {(method, path.replace("{v}", "{version}")) for method, path in named}


def test_every_registered_route_is_described_and_documented(host):
    missing = registered(host) ^ described()
    docs = documented()
    undocumented = {(m, p) for m, p in described() if (m, p) not in docs}
    assert not missing, sorted(missing)
    assert not undocumented, sorted(undocumented)


def test_the_host_serves_its_description(api):
    answer = api("GET", "/api/openapi.json")
    assert answer.status == 200 and answer.json() == document()


def test_generated_requests_get_no_5xx_and_conforming_answers(host, iris_endpoint):
    load_all_checks()
    checks = [openapi_checks.status_code_conformance, openapi_checks.content_type_conformance,
              openapi_checks.response_headers_conformance,
              openapi_checks.response_schema_conformance]
    schema = schemathesis.openapi.from_path(SOURCE)
    headers = {"x-functions-key": host.key}
    sent, failures, server_errors = [0], [], []

    def probe(operation, mode):
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            sent[0] += 1
            try:
                response = case.call(base_url=host.url, headers=headers)
            except Exception as exc:  # the connection failed: the server gave no answer
                failures.append(f"{case.method} {case.formatted_path}: {exc!r}")
                return
            if response.status_code >= 500:
                server_errors.append(f"{case.method} {case.path}: {response.status_code}")
            try:
                case.validate_response(response, checks=checks, headers=headers,
                                       transport_kwargs={"base_url": host.url,
                                                         "headers": headers})
            except (Exception, FailureGroup) as exc:  # a FailureGroup is a BaseException
                failures.append(f"{case.method} {case.formatted_path} -> "
                                f"{response.status_code}: {str(exc)[:600]}")
        try:
            run()
        except Unsatisfiable:  # nothing of this operation can be made invalid (no inputs)
            pass

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            probe(operation, mode)
    record("bad input", "schemathesis-generated requests (valid and invalid) on every "
           "operation of the OpenAPI description", injected=sent[0],
           lost=len(server_errors) + len(failures),
           checked="no 5xx; status codes, content types, headers and bodies conform")
    assert not server_errors, server_errors[:10]
    assert not failures, "\n\n".join(failures[:10])
