"""The simulator page in real headless Chromium against a real server: dial, pay, approve, see the ledger move.

Needs Debian's ``chromium`` and ``chromium-driver``; skipped without them, except in CI, where
they are required. Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from bot import demo
from tests.conftest import unavailable
from tests.e2e.live import LiveServer, live_server

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,860",
)


@pytest.fixture(autouse=True)
def chromium() -> tuple[str, str]:
    """Chromium and its driver; checked first, before a server is started for nothing."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        unavailable("Chromium", "chromium or chromedriver is not installed: apt-get install chromium chromium-driver")
    assert binary is not None and driver is not None
    return binary, driver


@pytest.fixture
def browser(chromium: tuple[str, str], tmp_path: Path) -> Iterator[webdriver.Chrome]:
    binary, driver = chromium
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.set_page_load_timeout(20)
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    # As in `jumbe demo`: every push waits for the phone prompt on the page.
    with live_server(tmp_path, sandbox_manual_approval=True) as running:
        yield running


def wait(browser: webdriver.Chrome, check: Callable[[webdriver.Chrome], Any], timeout: float = 10) -> Any:
    stale = (StaleElementReferenceException,)
    waiter = WebDriverWait(browser, timeout, poll_frequency=0.05, ignored_exceptions=stale)
    return waiter.until(check)


def screen_says(text: str) -> Callable[[webdriver.Chrome], bool]:
    return lambda b: text in b.find_element(By.ID, "ussd-text").text


def loan_minor(browser: webdriver.Chrome) -> int | None:
    # Read in one script: the panel is re-rendered every 2 s, so a found element can go stale.
    value = browser.execute_script(
        "const cell = document.querySelector('#ledger-accounts dd[data-kind=\"loan_principal\"]');"
        "return cell ? cell.dataset.minor : null;"
    )
    return int(value) if value is not None else None


def reply(browser: webdriver.Chrome, text: str) -> None:
    field = browser.find_element(By.ID, "ussd-input")
    field.clear()
    field.send_keys(text, Keys.ENTER)


def choose(browser: webdriver.Chrome, label: str) -> None:
    screen = browser.find_element(By.ID, "ussd-text").text
    match = re.search(rf"^(\d+)\. [^\n]*{re.escape(label)}", screen, re.MULTILINE)
    assert match, f"no option {label!r} on {screen!r}"
    before = screen
    reply(browser, match.group(1))
    wait(browser, lambda b: b.find_element(By.ID, "ussd-text").text not in (before, "USSD code running…"))


def test_dial_pay_approve_and_watch_the_ledger(server: LiveServer, browser: webdriver.Chrome) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    browser.get(f"{server.base_url}/simulator")
    wait(browser, lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
    assert wait(browser, loan_minor) == 4_000_000

    # Dial *384*1# on the keypad.
    browser.find_element(By.ID, "ussd-input").clear()
    for key in demo.USSD_CODE:
        browser.find_element(By.CSS_SELECTOR, f'.keypad button[data-key="{key}"]').click()
    assert browser.find_element(By.ID, "ussd-input").get_attribute("value") == demo.USSD_CODE
    browser.find_element(By.ID, "ussd-send").click()
    wait(browser, screen_says("Choose language"))
    count = int(browser.find_element(By.ID, "ussd-count").text)
    assert 0 < count <= 182

    choose(browser, "English")
    wait(browser, screen_says("PIN"))
    reply(browser, demo.DEMO_PIN)
    wait(browser, screen_says("Pay"))
    choose(browser, "Pay")
    choose(browser, "LN-0001")
    wait(browser, screen_says("KES 4,442"))
    choose(browser, "Confirm")
    wait(browser, screen_says("M-Pesa"))

    # The M-Pesa prompt pops up on the phone; the ledger has not moved yet.
    prompt = wait(
        browser, lambda b: b.find_element(By.ID, "stk") if b.find_element(By.ID, "stk").is_displayed() else None
    )
    assert "KES 4,442" in prompt.text
    pin = browser.find_element(By.ID, "stk-pin")
    assert browser.switch_to.active_element == pin  # focus moves into the prompt
    browser.find_element(By.ID, "stk-ok").click()
    assert "4-digit" in browser.find_element(By.ID, "stk-error").text  # no PIN, no payment
    pin.send_keys(demo.DEMO_PIN)
    browser.save_screenshot(str(ARTIFACTS / "simulator-prompt.png"))  # mid-payment, for the README
    assert loan_minor(browser) == 4_000_000
    browser.find_element(By.ID, "stk-ok").click()
    wait(browser, lambda b: not b.find_element(By.ID, "stk").is_displayed())

    # The side panel follows the ledger: principal down by the installment's principal part.
    assert wait(browser, lambda b: loan_minor(b) == 3_600_000, timeout=15)
    announced = browser.find_element(By.ID, "ledger-announce").get_attribute("textContent") or ""
    assert "Loan LN-0001 now KES 36,000" in announced
    assert "Books balanced" in browser.find_element(By.ID, "ledger-books").text

    # The M-Pesa SMS and our confirmation arrive in the SMS thread (the tab shows they are new).
    wait(browser, lambda b: b.find_element(By.ID, "badge-sms").is_displayed())
    browser.find_element(By.CSS_SELECTOR, 'input[name="channel"][value="sms"]').click()
    thread = browser.find_element(By.ID, "thread-sms")
    wait(browser, lambda b: "Confirmed" in thread.text and "We received KES 4,442" in thread.text)
    browser.save_screenshot(str(ARTIFACTS / "simulator.png"))

    unlabelled = browser.execute_script(
        "return [...document.querySelectorAll('input, select, textarea')]"
        ".filter(e => !e.labels.length && !e.getAttribute('aria-label')).map(e => e.id || e.name)"
    )
    assert unlabelled == []
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


def test_phone_sized_screen_has_no_sideways_scroll(server: LiveServer, browser: webdriver.Chrome) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    browser.set_window_size(390, 844)
    browser.get(f"{server.base_url}/simulator")
    wait(browser, lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    keypad = browser.find_element(By.CSS_SELECTOR, '.keypad button[data-key="5"]')
    assert keypad.is_displayed() and keypad.size["height"] >= 32  # big enough to tap
    browser.save_screenshot(str(ARTIFACTS / "simulator-phone.png"))


def test_whatsapp_list_and_sms_thread(server: LiveServer, browser: webdriver.Chrome) -> None:
    browser.get(f"{server.base_url}/simulator")
    wait(browser, lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")

    browser.find_element(By.CSS_SELECTOR, 'input[name="channel"][value="whatsapp"]').click()
    chat = browser.find_element(By.ID, "thread-whatsapp")
    assert chat.get_attribute("aria-live") == "polite"
    message = browser.find_element(By.ID, "wa-input")
    message.send_keys("hi", Keys.ENTER)
    wait(browser, lambda b: "Choose language" in chat.text or "PIN" in chat.text)
    if "Choose language" in chat.text:  # a reply-button menu: tap it like a thumb would
        chat.find_element(By.XPATH, ".//button[normalize-space()='English']").click()
        wait(browser, lambda b: "PIN" in chat.text)
    message.send_keys(demo.DEMO_PIN, Keys.ENTER)
    opener = wait(browser, lambda b: b.find_element(By.CSS_SELECTOR, "#thread-whatsapp .wa-list-open"))
    opener.click()
    sheet = browser.find_element(By.ID, "list-dialog")
    assert sheet.is_displayed()
    sheet.find_element(By.XPATH, ".//button[.//span[normalize-space()='Balances']]").click()
    wait(browser, lambda b: "Savings: KES 12,500" in chat.text)
    assert not sheet.is_displayed()

    browser.find_element(By.CSS_SELECTOR, 'input[name="channel"][value="sms"]').click()
    sms = browser.find_element(By.ID, "sms-input")
    sms.send_keys("Habari 😀")
    assert "UCS-2" in browser.find_element(By.ID, "sms-count").text
    sms.clear()
    sms.send_keys("BAL", Keys.ENTER)
    thread = browser.find_element(By.ID, "thread-sms")
    wait(browser, lambda b: "PIN" in thread.text)  # each channel unlocks on its own
    sms.send_keys(demo.DEMO_PIN, Keys.ENTER)
    wait(browser, lambda b: "Savings: KES 12,500" in thread.text)
    assert "1 SMS (GSM-7)" in thread.text
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
