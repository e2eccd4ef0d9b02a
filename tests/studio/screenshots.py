"""`make studio-screenshots`: a picture of each studio page, written to docs/studio/, taken
in the same headless Chromium and on the same world as the browser tests (world.py).

    python -m tests.studio.screenshots [--out docs/studio]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from selenium.webdriver.common.by import By

from tests.studio.conftest import chromium_paths, new_browser
from tests.studio.pages import plotted_points, sign_in, until
from tests.studio.world import studio_world

ROOT = Path(__file__).resolve().parents[2]
WIDTH, MAX_HEIGHT = 1280, 3200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "studio")
    args = parser.parse_args(argv)
    if chromium_paths() is None:
        print("chromium and chromedriver are needed (scripts/system-deps.sh installs them)",
              file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mlcycle-studio-") as tmp, \
            studio_world(Path(tmp)) as world:
        browser = new_browser()
        try:
            for name in shoot(world, browser, args.out):
                print(f"wrote {args.out / name}")
        finally:
            browser.quit()
    return 0


def shoot(world, browser, out: Path):
    url = world.host.url

    def snap(name: str, path: str, ready=None):
        browser.get(url + path)
        if ready:
            until(browser, ready)
        # The whole page, not the first screenful: the window grows to the page's height.
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(WIDTH, min(max(height, 600), MAX_HEIGHT))
        browser.save_screenshot(str(out / name))
        browser.set_window_size(WIDTH, 1100)
        return name

    yield snap("login.png", "/login")
    sign_in(browser, url, world.host.key)
    yield snap("runs.png", "/runs")
    live = world.submit(world.job_spec("live", hold=world.folder / "release-shot"))
    world.wait(["job", "show", "-n", live], lambda r: r["status"] == "Running")
    yield snap("run-live.png", f"/runs/{live}", lambda b: plotted_points(b, "#metrics") >= 3
               and b.find_element(By.ID, "log").text.count("\n") >= 3)
    (world.folder / "release-shot").write_text("go")
    world.ended(live)
    charted = lambda b: plotted_points(b, "#metrics") > 0  # noqa: E731
    yield snap("run.png", f"/runs/{world.runs[0]}", charted)
    runs = ",".join(world.runs)
    yield snap("compare.png", f"/compare?runs={runs}", charted)
    yield snap("sweep.png", f"/runs/{world.sweep}",
               lambda b: b.find_elements(By.CSS_SELECTOR, "#parallel polyline.trial"))
    name, version = world.model
    yield snap("model.png", f"/models/{name}/{version}",
               lambda b: b.find_elements(By.CSS_SELECTOR, "svg.lineage"))
    yield snap("data.png", "/data/iris/1")
    yield snap("compute.png", f"/computes/{world.pool}",
               lambda b: plotted_points(b, "#pool-chart") > 0)
    yield snap("endpoint.png", f"/endpoints/{world.endpoint}")


if __name__ == "__main__":
    sys.exit(main())
