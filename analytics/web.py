"""The staff analytics dashboard (`python -m analytics.web`): its own process and port (DASHBOARD_PORT, 5057,
loopback by default), never the public partner app. Staff log in with DASHBOARD_TOKEN (generated into the
state directory when unset); the login sets a signed, HttpOnly, SameSite=Strict session cookie. Without it
every path answers the login page (or 401), never data.

The stores are read into memory at start and every DASHBOARD_REFRESH_SECONDS (in a thread; the pages keep
serving the previous dataset meanwhile), so a page is a few numpy masks and Plotly figures; rendered pages
are cached per dataset and filter."""
from __future__ import annotations

import argparse
import asyncio
import hmac
import html
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sanic import Request, Sanic
from sanic.response import HTTPResponse, html as html_response, raw, redirect, text

from analytics.dataset import Dataset
from analytics.report import (
    CHANNEL_LABELS,
    SECTIONS,
    STYLE,
    View,
    build_section,
    geo_assets_js,
    parse_day,
    plotly_js,
    render_report,
    section_html,
)
from knowledge.settings import Settings, secret, settings

logger = logging.getLogger("analytics.web")
COOKIE = "galaxy_dashboard"
SESSION_SECONDS = 12 * 3600
PUBLIC_PATHS = frozenset({"/login", "/health"})
PAGE_CACHE = 64


@dataclass
class DashboardState:
    """The dataset the pages are drawn from, rebuilt in the background."""

    settings: Settings
    build: Callable[[], Dataset]
    dataset: Dataset | None = None
    error: str | None = None
    pages: "OrderedDict[tuple, str]" = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refresh(self) -> None:
        started = time.perf_counter()
        try:
            dataset = self.build()
        except Exception as exc:  # noqa: BLE001 - keep serving the last good dataset
            logger.exception("analytics refresh failed")
            self.error = type(exc).__name__
            return
        with self._lock:
            self.dataset, self.error = dataset, None
            self.pages.clear()
        # Precompute the unfiltered pages, so the first visit after a refresh is a cache hit.
        for key, _ in SECTIONS:
            self.page((key, View(), (), dataset.built_at),
                      lambda key=key: render_page(dataset, key, View(), {}, self.settings.dashboard_refresh_seconds))
        logger.info("analytics dataset refreshed in %.1fs (%d conversations)", time.perf_counter() - started, dataset.conversations)

    def page(self, key: tuple, render: Callable[[], str]) -> str:
        with self._lock:
            cached = self.pages.get(key)
            if cached is not None:
                self.pages.move_to_end(key)
                return cached
        page = render()
        with self._lock:
            self.pages[key] = page
            while len(self.pages) > PAGE_CACHE:
                self.pages.popitem(last=False)
        return page


def _signer(token: str) -> URLSafeTimedSerializer:
    # Keyed by the token itself: changing DASHBOARD_TOKEN logs everybody out.
    return URLSafeTimedSerializer(token, salt="galaxy-dashboard-session")


def _logged_in(request: Request, token: str) -> bool:
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return False
    try:
        return _signer(token).loads(cookie, max_age=SESSION_SECONDS) == "staff"
    except BadSignature:
        return False


LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Galaxy analytics: sign in</title><style>{style}</style></head><body><header><h1>Galaxy Assistant analytics</h1></header>
<main><h2>Staff sign-in</h2>{error}<form method="post" action="/login"><label>Dashboard token<br>
<input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button></form><p class="note">The token is DASHBOARD_TOKEN, or the file dashboard_token in the state directory.</p></main></body></html>"""


def _login_page(error: str = "", status: int = 200) -> HTTPResponse:
    message = f'<p role="alert"><b>{html.escape(error)}</b></p>' if error else ""
    return html_response(LOGIN_PAGE.format(style=STYLE, error=message), status=status,
                         headers={"Cache-Control": "no-store"})


def view_of(request: Request) -> View:
    def day(name: str, *, end: bool = False) -> float | None:
        try:
            return parse_day(request.args.get(name), end=end)
        except ValueError:
            return None

    channel = (request.args.get("channel") or "").strip() or None
    return View(day("from"), day("to", end=True), channel)


def filters_of(request: Request) -> dict[str, str]:
    """The filter parameters as given (for the form and the links), empty ones left out."""
    return {k: request.args.get(k) for k in ("from", "to", "channel") if request.args.get(k)}


def _filters_html(filters: dict[str, str], dataset: Dataset, path: str) -> str:
    chosen = filters.get("channel", "")
    options = ['<option value="">all channels</option>'] + [
        f'<option value="{html.escape(c)}"{" selected" if c == chosen else ""}>{html.escape(CHANNEL_LABELS.get(c, c))}</option>'
        for c in dataset.channels
    ]
    return (
        f'<form class="filters" method="get" action="{html.escape(path)}">'
        f'<label>From<input type="date" name="from" value="{html.escape(filters.get("from", ""))}"></label>'
        f'<label>To<input type="date" name="to" value="{html.escape(filters.get("to", ""))}"></label>'
        f'<label>Channel<select name="channel">{"".join(options)}</select></label><button type="submit">Apply</button></form>'
    )


def render_page(dataset: Dataset, key: str, view: View, filters: dict[str, str], refresh_seconds: int) -> str:
    """One dashboard page: the section's figures, tables and CSV links inside the navigation and filters."""
    query = urlencode(filters)
    suffix = f"?{query}" if query else ""
    body = section_html(build_section(dataset, view, key), lambda p: f"/csv/{key}/{p.key}.csv{suffix}")
    nav = "".join(
        f'<a href="/{k}{suffix}"{" class=on" if k == key else ""}>{html.escape(t)}</a>' for k, t in SECTIONS
    ) + f'<a href="/report.html{suffix}">Report (HTML)</a><a href="/logout">Sign out</a>'
    built = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(dataset.built_at))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Galaxy analytics: {html.escape(dict(SECTIONS).get(key, key))}</title><style>{STYLE}</style>"
        '<script src="/assets/geo.js"></script><script src="/assets/plotly.js"></script></head><body>'
        f"<header><h1>Galaxy Assistant analytics</h1>{nav}</header><main>"
        f"{_filters_html(filters, dataset, '/' + key)}"
        f'<p class="muted">{dataset.conversations:,} conversations · data read {built} (refreshed every '
        f"{refresh_seconds}s) · aggregates and masked need texts only</p>{body}</main></body></html>"
    )


def build_app(state: DashboardState, token: str) -> Sanic:
    app = Sanic("galaxy_analytics", configure_logging=False)
    app.ctx.state = state
    no_store = {"Cache-Control": "no-store"}

    @app.on_request
    async def require_login(request: Request) -> HTTPResponse | None:
        if request.path in PUBLIC_PATHS or _logged_in(request, token):
            return None
        if request.method == "GET" and not request.path.startswith(("/csv/", "/assets/")):
            return redirect("/login", status=303, headers=no_store)
        return text("sign in first", status=401, headers=no_store)

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return text("ready" if state.dataset is not None else "loading", status=200 if state.dataset is not None else 503)

    @app.get("/login")
    async def login_form(_: Request) -> HTTPResponse:
        return _login_page()

    @app.post("/login")
    async def login(request: Request) -> HTTPResponse:
        given = (request.form.get("token") or "") if request.form else ""
        if not hmac.compare_digest(given.strip().encode(), token.encode()):
            await asyncio.sleep(0.5)  # slows guessing down
            return _login_page("That token is not right.", status=403)
        response = redirect("/overview", status=303, headers=no_store)
        response.add_cookie(COOKIE, _signer(token).dumps("staff"), httponly=True, samesite="Strict",
                            max_age=SESSION_SECONDS, path="/", secure=False)
        return response

    @app.get("/logout")
    async def logout(_: Request) -> HTTPResponse:
        response = redirect("/login", status=303, headers=no_store)
        response.delete_cookie(COOKIE, path="/")
        return response

    def loading() -> HTTPResponse:
        note = f" (last attempt failed: {state.error})" if state.error else ""
        return html_response(f"<!doctype html><title>Loading</title><meta http-equiv=refresh content=3><p>Reading the stores{note}…</p>",
                             status=503, headers=no_store)

    @app.get("/")
    async def home(request: Request) -> HTTPResponse:
        return redirect("/overview" + (f"?{request.query_string}" if request.query_string else ""), status=303)

    @app.get("/<key:str>")
    async def section_page(request: Request, key: str) -> HTTPResponse:
        dataset = state.dataset
        if key == "report.html":
            if dataset is None:
                return loading()
            view = view_of(request)
            page = await asyncio.get_running_loop().run_in_executor(
                None, state.page, ("report", view, dataset.built_at), lambda: render_report(dataset, view))
            return html_response(page, headers={**no_store, "Content-Disposition": 'attachment; filename="galaxy-analytics.html"'})
        if key not in dict(SECTIONS):
            return text("not found", status=404)
        if dataset is None:
            return loading()
        view, filters = view_of(request), filters_of(request)
        page = await asyncio.get_running_loop().run_in_executor(
            None, state.page, (key, view, tuple(sorted(filters.items())), dataset.built_at),
            lambda: render_page(dataset, key, view, filters, state.settings.dashboard_refresh_seconds))
        return html_response(page, headers=no_store)

    @app.get("/csv/<key:str>/<name:str>")
    async def csv_download(request: Request, key: str, name: str) -> HTTPResponse:
        dataset = state.dataset
        if dataset is None:
            return loading()
        if key not in dict(SECTIONS) or not name.endswith(".csv"):
            return text("not found", status=404)
        section = build_section(dataset, view_of(request), key)
        panel = next((p for p in section.panels if p.key == name[:-4]), None)
        if panel is None:
            return text("not found", status=404)
        return raw(panel.csv().encode("utf-8"), content_type="text/csv; charset=utf-8",
                   headers={**no_store, "Content-Disposition": f'attachment; filename="{panel.key}.csv"'})

    @app.get("/assets/plotly.js")
    async def plotly_asset(_: Request) -> HTTPResponse:
        return raw(plotly_js().encode("utf-8"), content_type="application/javascript", headers={"Cache-Control": "private, max-age=86400"})

    @app.get("/assets/geo.js")
    async def geo_asset(_: Request) -> HTTPResponse:
        return raw(geo_assets_js().encode("utf-8"), content_type="application/javascript", headers={"Cache-Control": "private, max-age=86400"})

    @app.on_response
    async def security_headers(_: Request, response: HTTPResponse) -> None:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")

    @app.after_server_start
    async def start_refresh(app: Sanic, _loop) -> None:  # noqa: ARG001 - Sanic's signature
        app.add_task(_refresh_forever(state), name="refresh")

    return app


async def _refresh_forever(state: DashboardState) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await loop.run_in_executor(None, state.refresh)
        await asyncio.sleep(max(5, state.settings.dashboard_refresh_seconds))


def dataset_builder(config: Settings, *, tagger: bool = True) -> Callable[[], Dataset]:
    """Builds the dataset from the configured stores. The encoder and SDG tagger load on first use and share
    one on-disk cache, so each distinct need is embedded once, ever."""
    from analytics.dataset import CachedEmbedder, TextCache, build_dataset, tracker_signature, with_fresh_brokering

    models: dict[str, Any] = {}

    def build() -> Dataset:
        if not models:
            models["cache"] = TextCache(config.state_dir / "analytics" / "text_cache.sqlite3")
            if tagger:
                from knowledge.embedder import MiniLmEmbedder
                from knowledge.sdg import SdgTagger

                models["embedder"] = CachedEmbedder(MiniLmEmbedder(config.embed_backend), models["cache"])
                models["tagger"] = SdgTagger(models["embedder"])
        # The conversations are re-read only when the events table changed (a new turn, an erasure, a purge).
        signature = tracker_signature(config.tracker_store_url)
        if models.get("signature") == signature:
            return with_fresh_brokering(models["dataset"], config.database_url)
        dataset = build_dataset(config.tracker_store_url, config.database_url, embedder=models.get("embedder"),
                                tagger=models.get("tagger"), cache=models["cache"])
        models["signature"], models["dataset"] = signature, dataset
        return dataset

    return build


def main(argv: list[str] | None = None) -> None:
    config = settings()
    parser = argparse.ArgumentParser(prog="python -m analytics.web", description="Galaxy Assistant staff analytics dashboard")
    parser.add_argument("--host", default=config.dashboard_host)
    parser.add_argument("--port", type=int, default=config.dashboard_port)
    parser.add_argument("--no-tagger", action="store_true", help="no SDG tagger or encoder (untagged needs, unclustered)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token = secret(config, "dashboard_token")
    state = DashboardState(config, dataset_builder(config, tagger=not args.no_tagger))
    app = build_app(state, token)
    logger.info("staff dashboard on http://%s:%d/ (token: DASHBOARD_TOKEN or %s)", args.host, args.port,
                config.state_dir / "dashboard_token")
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
