"""The studio in a real browser: Debian's chromium, headless, driven by Selenium through
chromedriver (both installed by `make test`, scripts/system-deps.sh), against a real
local host that has trained, registered, converted and deployed (world.py)."""
import shutil

import pytest

from tests.studio.world import studio_world


def chromium_paths() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def new_browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--window-size=1280,1100", "--no-proxy-server",
                "--disable-extensions", "--disable-background-networking"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.fixture(scope="package")
def world(tmp_path_factory):
    if chromium_paths() is None:
        pytest.skip("chromium and chromedriver are not installed (make test installs them)")
    with studio_world(tmp_path_factory.mktemp("studio")) as found:
        yield found


@pytest.fixture(scope="package")
def browser(world):
    driver = new_browser()
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()
