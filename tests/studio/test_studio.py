"""The studio, used as a person uses it: in a real browser (headless chromium), against
a real host. Sign in, watch a running job, compare runs, follow lineage, score through
try-it, read a sweep's trials and a pool's nodes, cancel a run."""
import io
import json
import urllib.error
import urllib.request

import joblib
import pytest
from selenium.webdriver.common.by import By

from tests.studio.pages import plotted_points, sign_in, text_of, traces, until

pytestmark = pytest.mark.e2e
class _Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is the answer itself


NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}), _Stay())


@pytest.fixture
def signed_in(world, browser):
    browser.delete_all_cookies()
    sign_in(browser, world.host.url, world.host.key)
    return browser


def fetch(url: str, cookie: str | None = None) -> tuple[int, bytes, dict]:
    headers = {"Cookie": f"mlcycle_studio={cookie}"} if cookie is not None else {}
    try:
        with NO_PROXY.open(urllib.request.Request(url, headers=headers)) as reply:
            return reply.status, reply.read(), dict(reply.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def test_a_wrong_key_is_refused_and_the_right_one_lives_only_in_a_strict_http_only_cookie(
        world, browser):
    url = world.host.url
    browser.delete_all_cookies()
    browser.get(f"{url}/runs/{world.runs[0]}")
    until(browser, lambda b: b.current_url.endswith("/login"))  # nothing shows signed out

    browser.find_element(By.NAME, "key").send_keys("not-the-key")
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    until(browser, lambda b: "not this workspace's key" in text_of(b, "[role=alert]"))
    assert browser.get_cookies() == []
    status, _, _ = fetch(f"{url}/runs/{world.runs[0]}/metrics.json", cookie="not-the-key")
    assert status == 401
    status, _, headers = fetch(f"{url}/runs/{world.runs[0]}", cookie="not-the-key")
    assert status == 303 and headers["Location"] == "/login"

    sign_in(browser, url, world.host.key)
    assert world.host.key not in browser.current_url
    (cookie,) = browser.get_cookies()
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert world.host.key not in browser.execute_script("return document.cookie")
    status, body, _ = fetch(f"{url}/runs/{world.runs[0]}/metrics.json", cookie=world.host.key)
    assert status == 200 and "accuracy" in json.loads(body)["metrics"]


def test_a_running_jobs_log_grows_and_its_metric_charts_are_drawn_while_it_runs(
        world, signed_in):
    release = world.folder / "release-live"
    run = world.submit(world.job_spec("live", hold=release))
    signed_in.get(f"{world.host.url}/runs/{run}")
    log = signed_in.find_element(By.ID, "log")
    until(signed_in, lambda b: "heartbeat" in log.text)  # the script's own lines, live
    assert "epoch 4: accuracy" in log.text
    seen = len(log.text)
    until(signed_in, lambda b: len(log.text) > seen)  # it grows without a reload
    assert "done" not in log.text

    until(signed_in, lambda b: plotted_points(b, "#chart-accuracy") == 5)
    beats = until(signed_in, lambda b: plotted_points(b, "#chart-heartbeat"))
    until(signed_in, lambda b: plotted_points(b, "#chart-heartbeat") > beats)
    assert world.cli("job", "show", "-n", run)["status"] == "Running"

    release.touch()
    until(signed_in, lambda b: "Completed" in text_of(b, "#log-state"))
    until(signed_in, lambda b: "done" in log.text)
    assert log.text.count("epoch 0:") == 1  # appended once, never read twice


def test_two_runs_picked_on_the_list_are_compared_on_one_chart_per_metric(world, signed_in):
    signed_in.get(f"{world.host.url}/runs")
    for run in world.runs:
        signed_in.find_element(By.CSS_SELECTOR, f"input[name=runs][value='{run}']").click()
    signed_in.find_element(By.CSS_SELECTOR, "#compare-form button").click()
    until(signed_in, lambda b: "/compare" in b.current_url)
    until(signed_in, lambda b: traces(b, "#chart-accuracy") == 2)
    assert plotted_points(signed_in, "#chart-loss") == 10  # 5 epochs of each run
    table = text_of(signed_in, "table.compare")
    assert "0.001" in table and "0.1" in table  # their learning rates side by side
    shown = {r: world.cli("job", "show", "-n", r)["metrics"]["accuracy"] for r in world.runs}
    for run, accuracy in shown.items():
        assert f"{accuracy:.6g}" in table


def test_the_run_list_filters_by_search_and_status(world, signed_in):
    signed_in.get(f"{world.host.url}/runs")
    box = signed_in.find_element(By.NAME, "q")
    box.send_keys("fast-lr")
    box.submit()
    until(signed_in, lambda b: "q=fast-lr" in b.current_url)
    rows = signed_in.find_elements(By.CSS_SELECTOR, "table.runs tbody tr")
    assert [r.find_elements(By.TAG_NAME, "td")[2].text for r in rows] == ["fast-lr"]
    signed_in.get(f"{world.host.url}/runs?status=Failed")
    assert signed_in.find_elements(By.CSS_SELECTOR, "table.runs tbody tr") == []


def test_lineage_leads_from_the_model_to_its_run_and_on_to_the_data_it_read(world, signed_in):
    name, version = world.model
    signed_in.get(f"{world.host.url}/models")
    signed_in.find_element(By.LINK_TEXT, f"{name}:{version}").click()
    until(signed_in, lambda b: b.find_elements(By.CSS_SELECTOR, "svg.lineage"))
    kinds = [a.get_attribute("class") for a in
             signed_in.find_elements(By.CSS_SELECTOR, "svg.lineage a")]
    assert kinds == ["node data", "node run", "node model", "node deployment"]
    assert "passed" in text_of(signed_in, "main")  # the conversion's parity figures

    signed_in.find_element(By.CSS_SELECTOR, "svg.lineage a.run").click()
    until(signed_in, lambda b: b.title.startswith(f"Run {world.runs[0]}"))
    signed_in.find_element(By.LINK_TEXT, "iris:1").click()
    until(signed_in, lambda b: b.title.startswith("Data iris:1"))
    page = text_of(signed_in, "main")
    assert world.runs[0] in page and f"{name}:{version}" in page
    assert world.cli("data", "show", "-n", "iris", "-v", "1")["fingerprint"] in page


def test_try_it_scores_a_pasted_request_as_the_model_answers_and_counts_it(world, signed_in):
    rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]
    status, model_file, _ = fetch(
        f"{world.host.url}/runs/{world.runs[0]}/files/outputs/model.pkl", cookie=world.host.key)
    assert status == 200
    expected = joblib.load(io.BytesIO(model_file)).predict(rows).tolist()

    signed_in.get(f"{world.host.url}/endpoints/{world.endpoint}")
    body = signed_in.find_element(By.ID, "try-body")
    body.clear()
    body.send_keys(json.dumps({"data": rows}))
    signed_in.find_element(By.CSS_SELECTOR, "#try-it button").click()
    answer = signed_in.find_element(By.ID, "try-answer")
    until(signed_in, lambda b: answer.text.startswith("HTTP 200"))
    assert answer.text.splitlines()[0] == "HTTP 200 from blue"
    assert json.loads(answer.text.split("\n", 1)[1]) == expected
    until(signed_in, lambda b: "blue" in text_of(b, "#stats table.stats"))

    body.clear()
    body.send_keys("{not json")
    signed_in.find_element(By.CSS_SELECTOR, "#try-it button").click()
    until(signed_in, lambda b: answer.text.startswith("HTTP 400"))
    assert "BadRequest" in answer.text


def test_a_sweeps_trials_are_drawn_as_parallel_coordinates_with_the_best_marked(
        world, signed_in):
    sweep = world.cli("job", "show", "-n", world.sweep)
    signed_in.get(f"{world.host.url}/runs/{world.sweep}")
    until(signed_in, lambda b: b.find_elements(By.CSS_SELECTOR, "#parallel polyline.trial"))
    lines = signed_in.find_elements(By.CSS_SELECTOR, "#parallel polyline.trial")
    assert sorted(l.get_attribute("data-name") for l in lines) == \
        sorted(t["name"] for t in sweep["trials"])
    axes = signed_in.find_elements(By.CSS_SELECTOR, "#parallel line.axis")
    assert len(axes) == 3  # epochs, lr, accuracy
    best = sweep["best_child_run_id"]
    assert max(t["metric"] for t in sweep["trials"]) == next(
        t["metric"] for t in sweep["trials"] if t["name"] == best)
    assert f"{best} ★ best" in text_of(signed_in, "table.trials")


def test_a_pools_nodes_are_charted_over_time(world, signed_in):
    signed_in.get(f"{world.host.url}/computes")
    signed_in.find_element(By.LINK_TEXT, world.pool).click()
    until(signed_in, lambda b: plotted_points(b, "#pool-chart") >= 3)  # created, resized, now
    assert traces(signed_in, "#pool-chart") == 3
    legend = text_of(signed_in, "#pool-chart .legend")
    assert all(name in legend for name in ("current", "target", "idle"))
    assert "scale up" in text_of(signed_in, "main")  # the resize history with its reasons


def test_a_run_is_canceled_from_its_page(world, signed_in):
    run = world.submit(world.job_spec("to-cancel", hold=world.folder / "never"))
    signed_in.get(f"{world.host.url}/runs/{run}")
    until(signed_in, lambda b: "heartbeat" in text_of(b, "#log"))
    signed_in.find_element(By.CSS_SELECTOR, "button.danger").click()
    assert world.ended(run)["status"] == "Canceled"
    signed_in.get(f"{world.host.url}/runs/{run}")
    until(signed_in, lambda b: "Canceled" in text_of(b, "#log-state"))
    assert signed_in.find_elements(By.CSS_SELECTOR, "button.danger") == []
