"""The studio's pages and sign-in without a browser: what it sends (escaping, cookies,
status codes) for requests a browser, or someone pretending to be one, would make.
tests/studio drives the same pages in a real Chromium."""
from __future__ import annotations

import json

import pytest

from shared.api.replies import guarded
from shared.bootstrap import bootstrap
from shared.domain.records import Record
from shared.serving.request_stats import RequestStats
from shared.settings import Settings
from shared.studio import auth
from shared.studio.links import run_url
from shared.studio.router import Request, parse_query, serve

KEY = "studio-test-key_0123456789"
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def ports(tmp_path):
    return bootstrap(Settings(tmp_path / "data", api_key=KEY)).ports()


def get(ports, path: str, *, cookie: str | None = KEY, base: str = "", query: str = "",
        headers: dict | None = None):
    sent = dict(headers or {})
    if cookie is not None:
        sent["Cookie"] = f"{auth.COOKIE}={cookie}"
    return guarded(lambda: serve(Request("GET", path, base, parse_query(query), sent), ports))


def post(ports, path: str, body: bytes = b"", *, cookie: str | None = KEY,
         headers: dict | None = None, secure: bool = False):
    sent = dict(headers or {})
    if cookie is not None:
        sent["Cookie"] = f"{auth.COOKIE}={cookie}"
    request = Request("POST", path, "", {}, sent, body, secure)
    return guarded(lambda: serve(request, ports))


def text(reply) -> str:
    return reply.payload()[0].decode()


def hostile_run(ports, name: str = "r1", **extra) -> None:
    ports["registry"].put(Record("run", name, "", {
        "name": name, "status": "Running", "display_name": HOSTILE,
        "experiment_name": "exp", "tags": {"note": HOSTILE}, "params": {HOSTILE: 1},
        "status_history": [{"status": "Running", "time": "2026-12-03T07:00:00Z"}],
        **extra}), etag="")


class TestSignIn:
    def test_a_page_without_the_cookie_redirects_to_the_login_page(self, ports):
        reply = get(ports, "/runs", cookie=None, base="/api/studio")
        assert (reply.status, reply.headers["Location"]) == (303, "/api/studio/login")

    def test_a_feed_or_a_form_without_the_cookie_is_refused_with_401(self, ports):
        hostile_run(ports)
        assert get(ports, "/runs/r1/metrics.json", cookie=None).status == 401
        assert get(ports, "/runs/r1/log", cookie="not-the-key").status == 401
        assert post(ports, "/runs/r1/cancel", cookie=None).status == 401
        assert ports["registry"].get("run", "r1").body["status"] == "Running"

    def test_the_right_key_sets_an_httponly_samesite_strict_cookie_and_no_key_in_the_url(
            self, ports):
        reply = post(ports, "/login", f"key={KEY}".encode(), cookie=None)
        assert reply.status == 303 and KEY not in reply.headers["Location"]
        cookie = reply.headers["Set-Cookie"]
        assert cookie.startswith(f"{auth.COOKIE}={KEY};")
        assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= set(cookie.split("; "))
        assert "Secure" not in cookie  # plain http on 127.0.0.1 would never send it back

    def test_over_https_the_cookie_is_secure_too(self, ports):
        reply = post(ports, "/login", f"key={KEY}".encode(), cookie=None, secure=True)
        assert "Secure" in reply.headers["Set-Cookie"].split("; ")

    def test_a_wrong_key_is_refused_with_401_and_sets_no_cookie(self, ports):
        reply = post(ports, "/login", b"key=guess", cookie=None)
        assert reply.status == 401 and "Set-Cookie" not in reply.headers
        assert "not this workspace" in text(reply)
        assert get(ports, "/runs", cookie="guess").status == 303

    def test_a_form_from_another_site_is_refused_even_with_the_cookie(self, ports):
        hostile_run(ports)
        reply = post(ports, "/runs/r1/cancel",
                     headers={"Origin": "http://evil.example", "Host": "127.0.0.1:7071"})
        assert reply.status == 403
        assert ports["registry"].get("run", "r1").body["status"] == "Running"
        same = post(ports, "/runs/r1/cancel",
                    headers={"Origin": "http://127.0.0.1:7071", "Host": "127.0.0.1:7071"})
        assert same.status == 303
        assert ports["registry"].get("run", "r1").body["status"] in ("CancelRequested",
                                                                      "Canceled")

    def test_sign_out_clears_the_cookie(self, ports):
        reply = post(ports, "/logout")
        assert reply.status == 303 and "Max-Age=0" in reply.headers["Set-Cookie"]


class TestPages:
    def test_what_a_run_was_given_is_escaped_on_the_list_and_on_its_page(self, ports):
        hostile_run(ports)
        for path in ("/runs", "/runs/r1"):
            reply = get(ports, path)
            assert reply.status == 200, path
            assert HOSTILE not in text(reply), path
            assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text(reply), path

    def test_every_page_forbids_inline_script_and_framing(self, ports):
        hostile_run(ports)
        csp = get(ports, "/runs/r1").headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]

    def test_a_sweep_s_trial_data_cannot_close_its_script_element(self, ports):
        hostile_run(ports, "sweep-1", type="sweep", sweep={"objective": {
            "primary_metric": "acc", "goal": "maximize"}},
            trials=[{"name": "t1", "status": "Completed", "metric": 0.9,
                     "hyperparameters": {"lr": "</script><script>alert(1)</script>"}}])
        page = text(get(ports, "/runs/sweep-1"))
        island = page.split('id="trials-data">', 1)[1].split("</script>", 1)[0]
        assert json.loads(island.replace("<\\/", "</"))["trials"][0]["name"] == "t1"

    def test_the_list_filters_by_status_and_searches_tags(self, ports):
        hostile_run(ports, "r1", tags={"team": "vision"})
        hostile_run(ports, "r2", status="Completed", tags={"team": "speech"})
        assert "1 of 2 runs" in text(get(ports, "/runs", query="status=Completed"))
        found = text(get(ports, "/runs", query="q=vision"))
        assert "1 of 2 runs" in found and "/runs/r1" in found and "/runs/r2" not in found

    def test_an_unknown_run_is_an_html_404_page_and_a_feed_s_404_is_json(self, ports):
        reply = get(ports, "/runs/nope", headers={"Accept": "text/html,*/*;q=0.8"})
        assert reply.status == 404 and "text/html" in reply.headers["Content-Type"]
        feed = get(ports, "/runs/nope/metrics.json")
        assert feed.status == 404 and json.loads(text(feed))["error"]["code"] == "NotFound"
        for asked in ("/runs/nope", "/no-such-page"):  # asked by a script, not a browser
            reply = get(ports, asked, headers={"Accept": "application/json"})
            assert reply.status == 404 and json.loads(text(reply))["error"]["code"] == \
                "NotFound", asked

    def test_compare_needs_two_runs_that_exist(self, ports):
        hostile_run(ports)
        assert get(ports, "/compare", query="runs=r1,gone").status == 400

    def test_a_finished_run_s_metric_history_is_its_chart_feed(self, ports):
        points = [{"step": 0, "value": 0.5}, {"step": 1, "value": 0.75}]
        hostile_run(ports, status="Completed", metric_history={"accuracy": points})
        feed = json.loads(text(get(ports, "/runs/r1/metrics.json")))
        assert feed["metrics"] == {"accuracy": points}

    def test_static_files_are_served_and_nothing_else_is(self, ports):
        assert get(ports, "/static/studio.js", cookie=None).status == 200
        assert b"Plotly" in get(ports, "/static/plotly.min.js", cookie=None).payload()[0][:4000]
        assert get(ports, "/static/../auth.py", cookie=None).status == 404
        assert get(ports, "/static/__init__.py", cookie=None).status == 404

    def test_try_it_refuses_a_body_over_its_limit_with_413(self, ports):
        from shared.studio.endpoints import MAX_TRY

        assert post(ports, "/endpoints/ep/try", b"x" * (MAX_TRY + 1)).status == 413


def test_a_pools_chart_feed_is_its_noted_nodes_and_now(ports):
    notes = [{"time": "2026-12-03T07:00:00+00:00", "current_nodes": 0, "target_nodes": 0,
              "idle_nodes": 0},
             {"time": "2026-12-03T07:01:00+00:00", "current_nodes": 2, "target_nodes": 2,
              "idle_nodes": 1}]
    ports["registry"].put(Record("compute", "gpu", "", {
        "name": "gpu", "type": "amlcompute", "min_instances": 0, "max_instances": 2,
        "current_nodes": 2, "target_nodes": 2, "idle_nodes": 2, "node_history": notes}),
        etag="")
    points = json.loads(text(get(ports, "/computes/gpu/history.json")))["points"]
    assert points[:2] == notes
    assert {k: points[2][k] for k in ("current_nodes", "idle_nodes")} == {
        "current_nodes": 2, "idle_nodes": 2}


def test_request_stats_count_errors_and_take_percentiles_per_deployment():
    stats = RequestStats()
    for ms in range(1, 101):
        stats.record("ep", "blue", 200 if ms % 10 else 500, ms / 1000)
    stats.record("ep", "green", 200, 0.004)
    stats.record("other", "blue", 200, 1.0)
    blue = stats.of("ep")["blue"]
    assert (blue["requests"], blue["errors"]) == (100, 10)
    assert (blue["p50_ms"], blue["p95_ms"]) == (51.0, 96.0)
    assert set(stats.of("ep")) == {"blue", "green"}


def test_a_run_url_quotes_the_run_name_below_the_studio_mount():
    assert run_url("https://h:7071/", "a b/c") == "https://h:7071/api/studio/runs/a%20b%2Fc"
