"""The review app driven by headless Chromium (Debian's chromium + chromium-driver) through Selenium."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from coder.review.app import AppConfig, ReviewServer
from coder.review.store import Store
from tests.review.conftest import make_coded_dir

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOT = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "review_screenshot.png"

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="headless Chromium is absent: apt-get install -y chromium chromium-driver",
)


@pytest.fixture
def browser():
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="review-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}", "--window-size=1400,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def server(tmp_path):
    coded = make_coded_dir(tmp_path / "coded")
    store = Store(coded / "corrections.sqlite")
    store.import_coded_dir(coded)
    with ReviewServer(store, AppConfig(annotator="alice"), port=0) as srv:
        yield srv


def _row(driver, uid):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, f"u-{uid}")


def _on_codes(driver, uid) -> list[str]:
    from selenium.webdriver.common.by import By

    return [c.get_attribute("data-code") for c in _row(driver, uid).find_elements(By.CSS_SELECTOR, ".chip.on")]


def _press(driver, *keys):
    from selenium.webdriver.common.action_chains import ActionChains

    chain = ActionChains(driver)
    for key in keys:
        chain.send_keys(key)
    chain.perform()


def _wait_saved(driver, uid, n_before):
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(
        lambda d: _row(d, uid).get_attribute("data-saved-at") and int(d.find_element("id", "reviewed").text) > n_before)


def test_browser_corrects_three_labels_by_keyboard_and_they_survive_reload(browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(server.base_url + "/")
    assert "access token" in browser.page_source  # no token, no page
    browser.get(server.url)
    assert browser.current_url.rstrip("/") == server.base_url  # token moved into a cookie
    browser.find_element(By.LINK_TEXT, "s1").click()
    assert "u-u000" in browser.find_element(By.CSS_SELECTOR, "tr.utt.sel").get_attribute("id")
    assert "Keyboard shortcuts" in browser.page_source

    # 1. u000 (therapist): model said question_open; add affirmation (key 4), save with Enter.
    _press(browser, "4", Keys.ENTER)
    _wait_saved(browser, "u000", 0)
    # 2. u001 (client) is selected next: switch the talk type to sustain_talk (key 2) and add
    #    c_complaint_parameters (the 14th client code: key 'r'); save.
    assert browser.find_element(By.CSS_SELECTOR, "tr.utt.sel").get_attribute("data-uid") == "u001"
    _press(browser, "2", "r", Keys.ENTER)
    _wait_saved(browser, "u001", 1)
    # 3. u002 (therapist): remove the model's reflection_complex (3), give reflection_simple (2).
    _press(browser, "3", "2", Keys.ENTER)
    _wait_saved(browser, "u002", 2)
    assert browser.find_element(By.ID, "reviewed").text == "3"

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))

    browser.refresh()
    assert _on_codes(browser, "u000") == ["question_open", "affirmation"]
    assert _on_codes(browser, "u001") == ["sustain_talk", "c_complaint_parameters"]
    assert _on_codes(browser, "u002") == ["reflection_simple"]
    assert "reviewed" in _row(browser, "u002").get_attribute("class")
    assert browser.find_element(By.ID, "reviewed").text == "3"
    # after reload the first unreviewed utterance is selected
    assert browser.find_element(By.CSS_SELECTOR, "tr.utt.sel").get_attribute("data-uid") == "u003"

    store = server.app.extensions["review"]["store"]
    labels = store.current_labels("alice").set_index("utterance_id")["new_codes"].to_dict()
    assert labels == {"u000": "question_open;affirmation", "u001": "sustain_talk;c_complaint_parameters",
                      "u002": "reflection_simple"}
    trail = store.audit_trail("alice")
    assert trail["old_codes"].tolist() == ["question_open", "neutral_talk", "reflection_complex"]


def test_browser_hover_shows_definition_and_accept_key(browser, server):
    from selenium.webdriver.common.by import By

    browser.get(server.url)
    browser.get(server.base_url + "/session/s2")
    chip = browser.find_element(By.CSS_SELECTOR, "#u-u000 .chip.on")
    assert chip.get_attribute("data-code") == "question_open"
    assert chip.get_attribute("title").startswith("Open question")
    _press(browser, "a")  # accept the model's codes
    _wait_saved(browser, "u000", 0)
    store = server.app.extensions["review"]["store"]
    row = store.audit_trail("alice").iloc[0]
    assert (row.old_codes, row.new_codes) == ("question_open", "question_open")
