"""Steps the browser tests share: sign in, wait for what a page's script draws."""
from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT_S = 120  # bounded waits for states, never timings: a busy machine is slow, not wrong


def sign_in(browser, url: str, key: str) -> None:
    browser.get(url + "/login")
    field = browser.find_element(By.NAME, "key")
    field.clear()
    field.send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    until(browser, lambda b: "/login" not in b.current_url)


def until(browser, predicate, timeout: float = WAIT_S):
    return WebDriverWait(browser, timeout, poll_frequency=0.2).until(predicate)


def text_of(browser, css: str) -> str:
    found = browser.find_elements(By.CSS_SELECTOR, css)
    return found[0].text if found else ""


def plotted_points(browser, chart_css: str) -> int:
    """Points Plotly drew in the chart(s) matching css: its SVG markers."""
    return browser.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".reduce((n, c) => n + c.querySelectorAll('.scatterlayer path.point').length, 0);",
        chart_css)


def traces(browser, chart_css: str) -> int:
    return browser.execute_script(
        "const c = document.querySelector(arguments[0]);"
        "return c ? c.querySelectorAll('.scatterlayer .trace').length : 0;", chart_css)
