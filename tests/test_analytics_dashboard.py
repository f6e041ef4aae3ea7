"""The staff dashboard (`python -m analytics.web`) as a real process on a free loopback port, over the seeded
stores: the login keeps outsiders out (no data without the signed cookie), and in headless Chromium the
pages show the figures, the channel selector narrows them, tables download as CSV, and no personal data
appears in any page. Screenshots go to the results folder."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from harness.chromium import CHROMIUM, launch as launch_chromium
from harness.stack import free_port
from knowledge.settings import PROJECT_ROOT, load_settings

sys.path.insert(0, str(Path(__file__).parent))
import analytics_seed as seed  # noqa: E402

pytestmark = pytest.mark.e2e

TOKEN = "test-dashboard-token-7f3a"
PAGES = ("overview", "demand", "unmet", "introductions", "faq", "feedback")
# Seeded facts that only a signed-in staff member may see.
DATA = ("lithium", "solar mini grids", "water scarcity", "who is the director")


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dashboard")
    tracker = seed.write_tracker_store(tmp / "conversations.sqlite3")
    database_url = f"sqlite:///{tmp / 'introductions.sqlite3'}"
    seed.seed_introductions(database_url)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "GALAXY_ENV_FILE": "", "GALAXY_STATE_DIR": str(tmp / "state"),
           "TRACKER_STORE_URL": tracker, "DATABASE_URL": database_url, "DASHBOARD_TOKEN": TOKEN, "DASHBOARD_PORT": str(port)}
    log = (tmp / "dashboard.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "analytics.web"], env=env, cwd=PROJECT_ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # the encoder and SDG tagger load first
        while True:
            try:
                if urllib.request.urlopen(f"{base}/health", timeout=5).status == 200:
                    break
            except (OSError, urllib.error.HTTPError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("dashboard did not start: " + (tmp / "dashboard.log").read_text()[-2000:])
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: run `make system-deps` (make test does)")
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        try:
            yield launched
        finally:
            launched.close()


def _screenshot_dir() -> Path:
    path = load_settings().state_dir / "results" / "analytics"
    path.mkdir(parents=True, exist_ok=True)
    return path


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


def _get(url: str, cookie: str | None = None, data: bytes | None = None) -> tuple[int, str, dict]:
    request = urllib.request.Request(url, data=data, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace"), dict(error.headers)


def test_outsiders_get_the_login_page_and_never_data(dashboard):
    paths = [f"/{p}" for p in PAGES] + ["/", "/report.html", "/csv/unmet/unmet_themes.csv", "/csv/overview/channels.csv",
                                        "/overview?channel=telegram", "/assets/plotly.js"]
    forged = "galaxy_dashboard=InN0YWZmIg.aw98OA.jR0OwPwSxr9G-fkAaFseeoUhz3M"
    from analytics.web import _signer

    other_key = "galaxy_dashboard=" + _signer("another-token").dumps("staff")
    for cookie in (None, forged, other_key, "galaxy_dashboard=staff"):
        for path in paths:
            status, body, headers = _get(dashboard + path, cookie)
            assert status in (303, 401), (path, cookie, status)
            assert all(fact not in body for fact in DATA), path
            if status == 303:
                assert headers["Location"] == "/login"
    status, body, headers = _get(dashboard + "/login", data=b"token=wrong-token")
    assert status == 403 and "not right" in body and "Set-Cookie" not in headers
    assert all(fact not in body for fact in DATA)


def test_staff_sign_in_and_see_every_figure_without_personal_data(dashboard, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(f"{dashboard}/unmet")
        expect(page).to_have_url(f"{dashboard}/login")
        page.fill("input[name=token]", TOKEN)
        page.click("button[type=submit]")
        expect(page).to_have_url(f"{dashboard}/overview")
        (cookie,) = context.cookies()
        assert cookie["name"] == "galaxy_dashboard" and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert page.evaluate("document.cookie") == ""  # HttpOnly: scripts cannot read it

        # Overview: KPIs, the rendered Plotly figures and their tables.
        expect(page.locator(".kpi").first).to_be_visible(timeout=30_000)  # plotly.js is 4.8 MB to parse
        expect(page.locator("#fig-channels .main-svg").first).to_be_visible(timeout=20_000)
        assert page.locator("#panel-channels table td", has_text="web widget").count() == 1
        page.screenshot(path=str(_screenshot_dir() / "dashboard_overview.png"), full_page=True)

        # Demand: the world map is drawn offline (no CDN), with the SDG bars.
        page.click("header a[href^='/demand']")
        expect(page.locator("#fig-searches_per_country .choroplethlayer path")).not_to_have_count(0, timeout=20_000)
        expect(page.locator("#fig-searches_per_sdg .main-svg").first).to_be_visible()
        page.screenshot(path=str(_screenshot_dir() / "dashboard_demand.png"), full_page=True)

        # Unmet needs: themes in the users' words, masked; CSV download of the table.
        page.click("header a[href^='/unmet']")
        expect(page.locator("#fig-unmet_themes .main-svg").first).to_be_visible(timeout=20_000)
        themes = page.locator("#panel-unmet_themes table")
        # The two lithium needs, worded differently, form one theme: 2 searches, 2 distinct needs.
        lithium = themes.locator("tbody tr", has_text="recycling lithium batteries in factories")
        expect(lithium.locator("td")).to_have_text(
            ["lithium battery recycling plants", "2", "2", "lithium battery recycling plants · recycling lithium batteries in factories"])
        expect(themes).to_contain_text("please contact me at [email] about school meals")
        with page.expect_download() as download:
            page.click("#panel-unmet_themes a[download]")
        csv_text = Path(download.value.path()).read_text(encoding="utf-8")
        assert csv_text.splitlines()[0] == "theme,searches,distinct needs,\"examples (users' words, masked)\""
        assert "lithium battery recycling plants" in csv_text and "jane.doe" not in csv_text
        page.screenshot(path=str(_screenshot_dir() / "dashboard_unmet.png"), full_page=True)

        # The channel selector narrows every number.
        page.click("header a[href^='/overview']")
        page.select_option("select[name=channel]", "telegram")
        page.click("form.filters button")
        expect(page).to_have_url(f"{dashboard}/overview?from=&to=&channel=telegram")
        rows = page.locator("#panel-channels tbody tr")
        expect(rows).to_have_count(2)  # Telegram, and the total
        expect(rows.first).to_contain_text("Telegram")

        # Introductions and the feedback queue.
        page.goto(f"{dashboard}/introductions")
        expect(page.locator("#fig-introduction_funnel .main-svg").first).to_be_visible(timeout=20_000)
        expect(page.locator("#panel-introduction_funnel table")).to_contain_text("requested")
        page.goto(f"{dashboard}/feedback")
        queue = page.locator("#panel-feedback_queue table")
        expect(queue).to_contain_text("solar mini grids for islands")
        expect(queue).to_contain_text("call me on [phone]")
        assert "forged answer" not in page.content()

        # No personal data anywhere: every page, every filter, the report and every CSV.
        for path in [f"/{p}" for p in PAGES] + [f"/{p}?channel=socketio" for p in PAGES] + ["/report.html"]:
            response = page.request.get(dashboard + path)
            assert response.status == 200, path
            body = response.text()
            for secret in seed.PII:
                assert secret not in body, (path, secret)
            if path == "/report.html":
                assert "<script src" not in body
        # Signing out ends the session.
        page.goto(f"{dashboard}/logout")
        expect(page).to_have_url(f"{dashboard}/login")
        page.goto(f"{dashboard}/demand")
        expect(page).to_have_url(f"{dashboard}/login")
    finally:
        context.close()
