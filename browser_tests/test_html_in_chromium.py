"""The HTML report opened for real: Debian's headless Chromium, driven through chromedriver, with
the network switched off, loads the report of a diverging and of a reproducible sample, shows its
plots, logs no console error, and leaves a screenshot to look at. Run by `make test-browser`."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = Path(os.environ.get("SEEDCHECK_SCREENSHOTS", REPO / ".seedcheck" / "screenshots"))


@pytest.fixture(scope="module")
def browser():
    # A profile of its own, removed after: left to itself, Chromium leaves a /tmp/org.chromium.Chromium.* per run.
    profile = tempfile.TemporaryDirectory(prefix="seedcheck-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,2400",
                 f"--user-data-dir={profile.name}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    # Offline: a report that needed a font, a script or a stylesheet from the network would show errors.
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                           {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
    yield driver
    driver.quit()
    profile.cleanup()


def html_report(tmp_path: Path, script: str, expected_exit: int) -> Path:
    out = tmp_path / f"{Path(script).stem}.html"
    done = subprocess.run([sys.executable, "-m", "seedcheck", "run", script, "--seed", "1", "--repeats", "2",
                           "--save", str(tmp_path / "runs"), "-q", "--html", str(out), "--", "--epochs", "2"],
                          cwd=REPO, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == expected_exit, done.stdout + done.stderr
    return out


@pytest.mark.parametrize(("script", "expected_exit", "headline"), [
    ("sample_scripts/classifier_tf_seed_only.py", 1, "Not reproducible"),
    ("sample_scripts/classifier_fully_seeded.py", 0, "Reproducible"),
])
def test_report_opens_offline_with_plots_and_no_console_errors(browser, tmp_path, script, expected_exit, headline):
    page = html_report(tmp_path, script, expected_exit)
    browser.get(page.as_uri())
    assert headline in browser.find_element(By.TAG_NAME, "h1").text
    plots = browser.find_elements(By.CSS_SELECTOR, "figure.plot svg")
    assert len(plots) == 2 and all(p.size["width"] > 300 and p.size["height"] > 150 for p in plots)
    assert browser.find_element(By.ID, "growth").is_displayed()
    rows = browser.find_elements(By.CSS_SELECTOR, "table.stages tbody tr")
    assert len(rows) > 10
    if expected_exit:
        assert "First divergence" in browser.find_element(By.ID, "first-divergence").text
    errors = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
    assert errors == [], errors
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{Path(script).stem}.png"
    assert browser.get_screenshot_as_file(str(shot)) and shot.stat().st_size > 10_000
