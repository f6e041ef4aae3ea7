"""Benchmarks of the web widget in headless Chromium against both real servers: time from page load
to the first bot message rendered (a greeting sent as the widget's start payload) and the socket.io
round trip per message (sent → reply rendered). Prints numbers only.

    python -m bench.widget [--loads 20] [--messages 30]
"""
from __future__ import annotations

import argparse
import statistics

from bench.stack import SEARCHES, percentile, running_stack
from harness.chromium import CHROMIUM, launch as launch_chromium
from harness.stack import ROOT, Stack

BUNDLE = ROOT / "bot" / "widget" / "dist" / "galaxy-widget.js"
GREETINGS = ["hi", "hello", "good morning"]
# Records the widget's events with their performance.now() stamps (ms since navigation start).
RECORD_EVENTS = """
window.__widgetEvents = [];
for (const kind of ["ready", "sent", "message"]) {
  window.addEventListener(`galaxy-widget:${kind}`, (event) => window.__widgetEvents.push({kind, at: event.detail.at}));
}
"""


def bench_page(stack: Stack) -> str:
    """A page like any embedding site's, opening the widget with a greeting as its start payload."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>widget bench</title></head><body>'
        f'<script src="{stack.rasa_url}/widget/galaxy-widget.js" data-open="true" data-start-payload="/greet"></script>'
        "</body></html>"
    )


def first_reply_ms(browser, stack: Stack) -> tuple[float, float]:
    """(page load → session confirmed, page load → first bot message rendered) for a new visitor."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script(RECORD_EVENTS)
        url = f"{stack.rasa_url}/widget/bench"  # served by the route below, on Rasa's origin
        page.route(url, lambda route: route.fulfill(content_type="text/html", body=bench_page(stack)))
        page.goto(url)
        page.locator(".msg.bot").first.wait_for(timeout=60_000)
        events = page.evaluate("window.__widgetEvents")
        ready = next(e["at"] for e in events if e["kind"] == "ready")
        reply = next(e["at"] for e in events if e["kind"] == "message")
        return ready, reply
    finally:
        context.close()


def round_trips_ms(browser, stack: Stack, messages: list[str]) -> list[float]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script(RECORD_EVENTS)
        page.goto(f"{stack.rasa_url}/widget/")
        page.get_by_role("button", name="Open chat: Galaxy Assistant").click()
        box = page.get_by_label("Your message")
        times = []
        for text in messages:
            answered = page.locator(".msg.bot").count()
            box.fill(text)
            box.press("Enter")
            page.locator(".msg.bot").nth(answered).wait_for(timeout=60_000)
            events = page.evaluate("window.__widgetEvents")
            sent = [e["at"] for e in events if e["kind"] == "sent"][-1]
            reply = next(e["at"] for e in events if e["kind"] == "message" and e["at"] >= sent)
            times.append(reply - sent)
        return times
    finally:
        context.close()


def report(name: str, values: list[float]) -> None:
    print(f"widget {name:<36} p50 {statistics.median(values):7.1f} ms   p95 {percentile(values, 95):7.1f} ms   ({len(values)} runs)")


def main(argv: list[str] | None = None, *, stack: Stack | None = None) -> int:
    """Measures on `stack` when given (make bench shares one), else on servers of its own."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loads", type=int, default=20, help="page loads of a new visitor")
    parser.add_argument("--messages", type=int, default=30, help="messages of each kind in one conversation")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists() or not BUNDLE.exists():
        print("widget: skipped (needs /usr/bin/chromium and the bundle: make system-deps widget)")
        return 0
    if stack is None:
        with running_stack() as own:
            return measure(own, args.loads, args.messages)
    return measure(stack, args.loads, args.messages)


def measure(stack: Stack, load_count: int, message_count: int) -> int:
    from playwright.sync_api import sync_playwright  # only when there is something to measure

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            first_reply_ms(browser, stack)  # warm-up: Rasa's and Chromium's first request are slower
            loads = [first_reply_ms(browser, stack) for _ in range(load_count)]
            greetings = round_trips_ms(browser, stack, [GREETINGS[i % len(GREETINGS)] for i in range(message_count)])
            searches = round_trips_ms(browser, stack, [SEARCHES[i % len(SEARCHES)] for i in range(message_count)])
        finally:
            browser.close()
    report("page load → connected", [ready for ready, _ in loads])
    report("page load → first reply (greeting)", [reply for _, reply in loads])
    report("round trip, greeting", greetings)
    report("round trip, search", searches)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
