"""The long-session report in headless Chromium: it renders, and episode links jump to their utterances.

Needs Debian's ``chromium`` and ``chromium-driver`` and PyPI ``selenium``; skipped with the reason
when they are absent. Set ``ALLIANCE_CODER_SAVE_SCREENSHOT=1`` to also refresh
``benchmarks/results/report_screenshot.png``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from coder.rollup.scores import RollupConfig
from coder.rollup.tables import write_outputs
from tests.rollup.long_session import hand_coded_long_session

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not (CHROMIUM.exists() and DRIVER.exists()),
                                reason="Debian chromium and chromium-driver are not installed "
                                       "(apt-get install -y chromium chromium-driver)")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver", reason="PyPI selenium is not installed")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    profile = tmp_path_factory.mktemp("chromium-profile")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,1400",
                f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=opts)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    out = tmp_path_factory.mktemp("coded")
    analyses = write_outputs([hand_coded_long_session()], out, config=RollupConfig(n_boot=100))
    return analyses["report"].parent / "session-long_session.html"


def focused(driver) -> dict:
    return driver.execute_script("""
        var el = document.querySelector('#transcript .focus'); if (!el) return null;
        var r = el.getBoundingClientRect();
        return {id: el.id, top: r.top, bottom: r.bottom, height: window.innerHeight, hash: location.hash,
                highlighted: document.querySelectorAll('#transcript .hl').length};""")


def test_browser_long_session_report_renders_and_episode_links_jump(browser, page, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(page.resolve().as_uri())
    svg = browser.find_element(By.ID, "timeline")
    assert svg.tag_name == "svg" and svg.size["width"] > 600 and svg.size["height"] > 150
    assert len(svg.find_elements(By.CSS_SELECTOR, "polyline")) == 4
    assert len(svg.find_elements(By.CSS_SELECTOR, "a.ep-link")) == 2
    table_links = browser.find_elements(By.CSS_SELECTOR, "#episodes a.ep-link")
    assert len(table_links) == 2
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    if os.environ.get("ALLIANCE_CODER_SAVE_SCREENSHOT"):
        shutil.copy(shot, ROOT / "benchmarks" / "results" / "report_screenshot.png")

    for link in table_links:
        target = link.get_attribute("href").split("#")[1]
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)  # as a reader would
        link.click()
        state = focused(browser)
        assert state["id"] == target and state["hash"] == f"#{target}"
        assert 0 <= state["top"] and state["bottom"] <= state["height"]  # scrolled into view
        assert state["highlighted"] > 5  # the whole episode is tinted
    svg_link = browser.find_elements(By.CSS_SELECTOR, "#timeline a.ep-link")[0]
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", svg_link)
    assert focused(browser)["id"] == table_links[0].get_attribute("href").split("#")[1]
    browser.save_screenshot(str(tmp_path / "after_click.png"))


def test_browser_worst_moment_and_filters(browser, page):
    from selenium.webdriver.common.by import By

    browser.get(page.resolve().as_uri())
    worst = browser.find_element(By.ID, "worst-link")
    worst.click()
    state = focused(browser)
    assert state["id"] == worst.get_attribute("href").split("#")[1]
    assert 0 <= state["top"] and state["bottom"] <= state["height"]
    first_row = browser.find_element(By.ID, "u-0")
    browser.find_element(By.CSS_SELECTOR, "input[value=ruptures]").click()
    assert not first_row.is_displayed()
    assert browser.find_elements(By.CSS_SELECTOR, "#transcript .in-ep")[0].is_displayed()
    browser.find_element(By.CSS_SELECTOR, "input[value=harmful]").click()
    shown = [e for e in browser.find_elements(By.CSS_SELECTOR, "#transcript .u") if e.is_displayed()]
    assert shown and all("has-harm" in e.get_attribute("class") for e in shown)
    browser.find_element(By.CSS_SELECTOR, "input[value=all]").click()
    assert first_row.is_displayed()
