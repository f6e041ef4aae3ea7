"""The figures and tables of the staff analytics, for a date range and a channel: demand (SDG, region,
country, over time), unmet needs by theme, the introduction funnel and hand-offs, FAQ gaps, channel and
language mix with containment, escalation and abandonment, and answer feedback. Each panel is a Plotly
figure, the table behind it and its CSV; `render_report` writes them as one self-contained HTML page (the
Plotly library and the world map inlined: no network needed to open it)."""
from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from statistics import median
from typing import Any, Iterable, Sequence
from urllib.parse import quote

import numpy as np

from analytics.dataset import OTHER_CLUSTER, PLACE_SEPARATOR, UNTAGGED, Categorical, Dataset
from analytics.signals import FAQ_OUTCOMES, SEARCH_OUTCOMES, UNMET_OUTCOMES

ASSETS = Path(__file__).resolve().parent / "assets"
CHANNEL_LABELS = {"socketio": "web widget", "telegram": "Telegram", "rest": "REST API", "unknown": "unknown"}
SECTIONS = (
    ("overview", "Overview"),
    ("demand", "Demand"),
    ("unmet", "Unmet needs"),
    ("introductions", "Introductions"),
    ("faq", "FAQ gaps"),
    ("feedback", "Feedback"),
)
EXAMPLES_PER_THEME = 3
TOP_THEMES = 25
TOP_ROWS = 30


@dataclass(frozen=True)
class View:
    """Date range [start, end) in epoch seconds (None: open) and one channel (None: all)."""

    start: float | None = None
    end: float | None = None
    channel: str | None = None

    def mask(self, ts: np.ndarray, channel: Categorical) -> np.ndarray:
        keep = np.ones(len(ts), dtype=bool)
        if self.start is not None:
            keep &= ts >= self.start
        if self.end is not None:
            keep &= ts < self.end
        if self.channel:
            keep &= channel.codes == channel.code(self.channel)
        return keep

    def keeps(self, ts: float | None, channel: str | None) -> bool:
        if ts is None:
            return False
        if self.start is not None and ts < self.start:
            return False
        if self.end is not None and ts >= self.end:
            return False
        return not self.channel or channel == self.channel

    def describe(self) -> str:
        def day(ts: float | None, default: str) -> str:
            return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d") if ts is not None else default

        span = f"{day(self.start, 'the beginning')} to {day(self.end - 1 if self.end else None, 'today')}"
        return f"{span}, {CHANNEL_LABELS.get(self.channel or '', self.channel) if self.channel else 'all channels'}"


@dataclass
class Panel:
    key: str  # also the CSV's name
    title: str
    headers: list[str]
    rows: list[list[Any]]
    figure: Any = None  # a plotly Figure, or None for a table only
    note: str = ""

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.headers)
        for row in self.rows:
            # A spreadsheet must never run what a user typed as a formula.
            writer.writerow([f"'{v}" if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in row])
        return out.getvalue()


@dataclass
class Section:
    key: str
    title: str
    kpis: list[tuple[str, str]] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)


# -- helpers -------------------------------------------------------------------------------------------

def _month(ts: np.ndarray) -> np.ndarray:
    """'YYYY-MM' of each timestamp (UTC)."""
    if not len(ts):
        return np.array([], dtype="<U7")
    return np.datetime_as_string(ts.astype("datetime64[s]"), unit="M")


def _pct(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "–"


def _share(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _counts(codes: np.ndarray, values: Sequence[str], mask: np.ndarray) -> list[tuple[str, int]]:
    counts = np.bincount(codes[mask], minlength=len(values)) if len(values) else np.zeros(0, dtype=int)
    return sorted(((values[i], int(c)) for i, c in enumerate(counts) if c), key=lambda kv: (-kv[1], kv[0]))


def _go():
    import plotly.graph_objects as go

    return go


def _bar(labels: Sequence[Any], values: Sequence[Any], title: str, *, horizontal: bool = False, name: str | None = None):
    go = _go()
    bar = go.Bar(y=list(labels), x=list(values), orientation="h", name=name) if horizontal else go.Bar(x=list(labels), y=list(values), name=name)
    figure = go.Figure(bar)
    figure.update_layout(title=title, margin=dict(l=40, r=20, t=50, b=40), height=360 if not horizontal else max(300, 26 * len(labels) + 90))
    if horizontal:
        figure.update_yaxes(autorange="reversed", automargin=True)
    return figure


def _stacked(months: Sequence[str], series: dict[str, Sequence[int]], title: str):
    go = _go()
    figure = go.Figure([go.Bar(x=list(months), y=list(values), name=name) for name, values in series.items()])
    figure.update_layout(title=title, barmode="stack", margin=dict(l=40, r=20, t=50, b=40), height=360)
    return figure


def _over_time(ts: np.ndarray, codes: np.ndarray, labels: Sequence[str], mask: np.ndarray, top: int = 8) -> tuple[list[str], dict[str, list[int]]]:
    """Counts per month of each label (the `top` largest, the rest as "other"), vectorised over the rows."""
    if not mask.any():
        return [], {}
    month_of_row = _month(ts[mask])
    months, month_index = np.unique(month_of_row, return_inverse=True)
    picked = codes[mask]
    grid = np.bincount(month_index * len(labels) + picked, minlength=len(months) * len(labels)).reshape(len(months), len(labels))
    totals = grid.sum(axis=0)
    order = [int(i) for i in np.argsort(-totals, kind="stable") if totals[i]]
    series = {str(labels[i]): grid[:, i].tolist() for i in order[:top]}
    if len(order) > top:
        series["other"] = grid[:, order[top:]].sum(axis=1).tolist()
    return [str(m) for m in months], series


def _tally(items: Iterable[str]) -> dict[str, int]:
    tally: dict[str, int] = {}
    for item in items:
        tally[item] = tally.get(item, 0) + 1
    return tally


@lru_cache(maxsize=1)
def _geography():
    from knowledge.geo import geography

    return geography()


def _sdg_label(number: int) -> str:
    if number == UNTAGGED:
        return "untagged"
    from knowledge.geo import sdg_name

    return f"SDG {number} {sdg_name(number)}"


def _country_label(code: str) -> str:
    try:
        return _geography().country_name(code) or code
    except Exception:  # noqa: BLE001
        return code


def _region_of(region: str, country: str) -> str:
    """The UNOSSC division a search was about: its region filter (a sub-region counts for its division),
    else the division of its country filter."""
    if region:
        try:
            from knowledge.geo import subregions

            subregion = subregions().get(region)
        except Exception:  # noqa: BLE001
            subregion = None
        return subregion.division if subregion is not None else region
    if country:
        try:
            return _geography().division(country) or "unspecified"
        except Exception:  # noqa: BLE001
            return "unspecified"
    return "unspecified"


@dataclass
class _Places:
    countries: dict[str, int]  # searches per country asked about
    regions: dict[str, int]  # searches per UNOSSC division ("unspecified" when none)
    left_out: dict[str, int]  # searches per country left out
    with_country: int = 0
    with_exclusion: int = 0


def _places_asked(q: Any, keep: np.ndarray) -> _Places:
    """The places of the kept searches, counted once per distinct combination of region, country, places
    and exclusions (a few hundred at most, whatever the number of searches). A search for places joined by
    "or" counts for each of its countries, and once for each division they lie in."""
    columns = [q[name] for name in ("region", "country", "places", "excluded")]
    combined = np.zeros(int(keep.sum()), dtype=np.int64)
    for column in columns:
        combined = combined * len(column.values) + column.codes[keep]
    found = _Places({}, {}, {})
    for key, count in zip(*np.unique(combined, return_counts=True)):
        values = []
        for column in reversed(columns):
            key, code = divmod(int(key), len(column.values))
            values.append(column.values[code])
        excluded, places, country, region = values
        named = ([country] if country else []) + (places.split(PLACE_SEPARATOR) if places else [])
        countries = [k for k in named if _is_country(k)]
        divisions = {_region_of(region, "")} if region else set()
        divisions |= {_region_of("", k) if k in countries else _region_of(k, "") for k in named}
        n = int(count)
        for code in countries:
            found.countries[code] = found.countries.get(code, 0) + n
        for name in divisions or {"unspecified"}:
            found.regions[name] = found.regions.get(name, 0) + n
        for code in excluded.split(PLACE_SEPARATOR) if excluded else []:
            found.left_out[code] = found.left_out.get(code, 0) + n
        found.with_country += n if countries else 0
        found.with_exclusion += n if excluded else 0
    return found


def _is_country(key: str) -> bool:
    try:
        return _geography().is_country(key)
    except Exception:  # noqa: BLE001
        return False


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds < 172800 else f"{seconds / 86400:.1f} days"


# -- sections ------------------------------------------------------------------------------------------

def overview(ds: Dataset, view: View) -> Section:
    s = ds.sessions
    keep = view.mask(s["ts"], s["channel"])
    sessions = int(keep.sum())
    escalated = int((s["escalated"] & keep).sum())
    abandoned = int((s["abandoned"] & keep).sum())
    with_fallback = int(((s["fallbacks"] > 0) & keep).sum())
    q = ds.searches
    qkeep = view.mask(q["ts"], q["channel"])
    unmet = np.isin(q["outcome"].codes, [q["outcome"].code(o) for o in UNMET_OUTCOMES]) & qkeep
    section = Section("overview", "Overview", kpis=[
        ("sessions", f"{sessions:,}"),
        ("searches", f"{int(qkeep.sum()):,}"),
        ("searches without a close match", _pct(int(unmet.sum()), int(qkeep.sum()))),
        ("containment", _pct(sessions - escalated, sessions)),
        ("escalation rate", _pct(escalated, sessions)),
        ("abandonment", _pct(abandoned, sessions)),
    ])
    channels = _counts(s["channel"].codes, s["channel"].values, keep)
    rows = []
    for name, count in channels:
        mine = keep & (s["channel"].codes == s["channel"].code(name))
        esc = int((s["escalated"] & mine).sum())
        rows.append([CHANNEL_LABELS.get(name, name), count, _share(count, sessions), _share(count - esc, count),
                     _share(esc, count), _share(int((s["abandoned"] & mine).sum()), count)])
    rows.append(["all", sessions, 100.0 if sessions else 0.0, _share(sessions - escalated, sessions),
                 _share(escalated, sessions), _share(abandoned, sessions)])
    section.panels.append(Panel(
        "channels", "Sessions, containment, escalation and abandonment by channel",
        ["channel", "sessions", "share %", "containment %", "escalation %", "abandonment %"], rows,
        _bar([r[0] for r in rows[:-1]], [r[1] for r in rows[:-1]], "Sessions per channel"),
        note="Containment: sessions that ended without asking for a person; escalation: sessions that asked "
             "for one (human_handoff); abandonment: sessions whose last reply was a fallback (the user left "
             f"without another message). Sessions with a fallback: {with_fallback:,}.",
    ))
    labels = [CHANNEL_LABELS.get(c, c) for c in s["channel"].values]
    months, series = _over_time(s["ts"], s["channel"].codes, labels, keep)
    section.panels.append(Panel(
        "sessions_over_time", "Sessions per month and channel", ["month", *series],
        [[m, *(series[k][i] for k in series)] for i, m in enumerate(months)],
        _stacked(months, series, "Sessions per month"),
    ))
    languages = _counts(s["language"].codes, s["language"].values, keep)
    section.panels.append(Panel(
        "languages", "Language mix", ["language", "sessions", "share %"],
        [[name, count, _share(count, sessions)] for name, count in languages],
        _bar([n for n, _ in languages], [c for _, c in languages], "Sessions per language"),
    ))
    return section


def demand(ds: Dataset, view: View) -> Section:
    q = ds.searches
    keep = view.mask(q["ts"], q["channel"])
    total = int(keep.sum())
    places = _places_asked(q, keep)
    section = Section("demand", "Demand", kpis=[
        ("searches", f"{total:,}"),
        ("with an SDG filter", _pct(int((q["filter_sdg"] & keep).sum()), total)),
        ("with a country filter", _pct(places.with_country, total)),
        ("with a place left out", _pct(places.with_exclusion, total)),
        ("partner searches", _pct(int(((q["kind"].codes == q["kind"].code("partner")) & keep).sum()), total)),
    ])
    sdg = q["sdg"][keep]
    counts = np.bincount(sdg, minlength=18) if len(sdg) else np.zeros(18, dtype=int)
    sdg_rows = [[_sdg_label(g), int(counts[g]), _share(int(counts[g]), total)] for g in list(range(1, 18)) + [UNTAGGED] if counts[g]]
    section.panels.append(Panel(
        "searches_per_sdg", "Searches per SDG", ["SDG", "searches", "share %"], sdg_rows,
        _bar([r[0] for r in sdg_rows], [r[1] for r in sdg_rows], "Searches per SDG", horizontal=True),
        note="The SDG filter when the search had one, else the SDG tagger's top goal for the need text "
             "(when it is sure enough; otherwise untagged).",
    ))
    region_rows = sorted(([name, n, _share(n, total)] for name, n in places.regions.items()), key=lambda r: (-r[1], r[0]))
    section.panels.append(Panel(
        "searches_per_region", "Searches per region", ["region", "searches", "share %"], region_rows,
        _bar([r[0] for r in region_rows], [r[1] for r in region_rows], "Searches per region (UNOSSC division)"),
        note="The region filter, else the division of the country filter. A search for places joined by "
             "\"or\" counts once for each division it names.",
    ))
    countries = sorted(places.countries.items(), key=lambda kv: (-kv[1], kv[0]))
    go = _go()
    choropleth = go.Figure(go.Choropleth(
        locations=[c for c, _ in countries], z=[n for _, n in countries], locationmode="ISO-3",
        text=[_country_label(c) for c, _ in countries], colorscale="Blues", colorbar_title="searches",
    ))
    choropleth.update_layout(title="Countries asked about (country filter)", margin=dict(l=0, r=0, t=50, b=0), height=420,
                             geo=dict(showframe=False, projection_type="natural earth", fitbounds=False, projection_scale=1,
                                      center=dict(lat=15, lon=20), showcountries=True, countrycolor="#c9d2dc"))
    section.panels.append(Panel(
        "searches_per_country", "Searches per country", ["ISO3", "country", "searches", "share %"],
        [[c, _country_label(c), n, _share(n, total)] for c, n in countries[:TOP_ROWS * 4]], choropleth,
        note="The country filter, and each country of places joined by \"or\" (\"Kyrgyzstan or Tajikistan\").",
    ))
    if places.left_out:
        left_out = sorted(places.left_out.items(), key=lambda kv: (-kv[1], kv[0]))
        section.panels.append(Panel(
            "countries_left_out", "Countries left out of searches", ["ISO3", "country", "searches"],
            [[c, _country_label(c), n] for c, n in left_out[:TOP_ROWS * 2]],
            _bar([_country_label(c) for c, _ in left_out[:TOP_ROWS]], [n for _, n in left_out[:TOP_ROWS]], "Countries left out (\"except Kenya\")"),
            note="Countries users asked to leave out of a search (\"everything except Kenya\").",
        ))
    months, series = _over_time(q["ts"], q["sdg"].astype(np.int64), [_sdg_label(g) for g in range(18)], keep, top=6)
    section.panels.append(Panel(
        "searches_over_time", "Searches per month by SDG (top 6)", ["month", *series],
        [[m, *(series[k][i] for k in series)] for i, m in enumerate(months)],
        _stacked(months, series, "Searches per month by SDG"),
    ))
    return section


def unmet(ds: Dataset, view: View) -> Section:
    q = ds.searches
    keep = view.mask(q["ts"], q["channel"])
    outcome = q["outcome"]
    is_unmet = np.isin(outcome.codes, [outcome.code(o) for o in UNMET_OUTCOMES]) & keep
    rephrased = q["rephrased"] & keep & ~is_unmet
    outcome_rows = [[o, int(((outcome.codes == outcome.code(o)) & keep).sum())] for o in SEARCH_OUTCOMES]
    section = Section("unmet", "Unmet needs", kpis=[
        ("searches without a close match", f"{int(is_unmet.sum()):,}"),
        ("of which nothing at all", f"{int(((outcome.codes == outcome.code('nothing')) & keep).sum()):,}"),
        ("results followed by a rephrase or \"none of these\"", f"{int(rephrased.sum()):,}"),
    ])
    section.panels.append(Panel(
        "search_outcomes", "Search outcomes", ["outcome", "searches"], outcome_rows,
        _bar([r[0] for r in outcome_rows], [r[1] for r in outcome_rows], "Search outcomes"),
        note="match: results above the relevance floor; no_close_match: only the nearest records, labelled as "
             "such; nothing: no result at all.",
    ))
    for key, title, mask in (
        ("unmet_themes", "Unmet needs by theme (no close match or nothing): what the catalogue lacks", is_unmet),
        ("rephrased_themes", "Needs that got results but were rephrased or answered \"none of these\"", rephrased),
    ):
        rows = _themes(ds, q["text"][mask])
        section.panels.append(Panel(
            key, title, ["theme", "searches", "distinct needs", "examples (users' words, masked)"], rows,
            _bar([r[0][:60] for r in rows[:15]], [r[1] for r in rows[:15]], title.split(":")[0], horizontal=True) if rows else None,
            note="Themes group need texts by meaning (MiniLM embeddings, agglomerative clustering); a theme is "
                 "named after its most frequent need.",
        ))
    return section


def _themes(ds: Dataset, text_ids: np.ndarray) -> list[list[Any]]:
    if not len(text_ids):
        return []
    per_text = np.bincount(text_ids, minlength=len(ds.texts))
    ids = np.flatnonzero(per_text)
    themes: dict[int, list[int]] = {}
    for i in ids:
        theme = int(ds.clusters[i])
        themes.setdefault(theme if theme != OTHER_CLUSTER else -1 - int(i), []).append(int(i))
    rows = []
    for theme, members in themes.items():
        members.sort(key=lambda i: (-per_text[i], ds.texts[i]))
        label = ds.cluster_labels[theme] if theme >= 0 else ds.texts[members[0]]
        rows.append([label or "(filters only, no words)", int(per_text[members].sum()), len(members),
                     " · ".join(ds.texts[i] or "(filters only)" for i in members[:EXAMPLES_PER_THEME])])
    rows.sort(key=lambda r: (-r[1], r[0]))
    return rows[:TOP_THEMES]


def introductions(ds: Dataset, view: View) -> Section:
    rows = [r for r in ds.introductions if view.keeps(r["created"], r["channel"])]
    by_status = _tally(r["status"] for r in rows)
    decided = [r["decided"] - r["created"] for r in rows if r["status"] in ("accepted", "declined") and r["decided"]]
    funnel = [
        ("requested", len(rows)),
        ("delivered", sum(1 for r in rows if r["delivered"])),
        ("accepted", by_status.get("accepted", 0)),
        ("declined", by_status.get("declined", 0)),
        ("expired", by_status.get("expired", 0)),
    ]
    section = Section("introductions", "Introductions", kpis=[
        ("requested", f"{len(rows):,}"),
        ("accepted", _pct(by_status.get("accepted", 0), len(rows))),
        ("median time to a decision", _hours(median(decided)) if decided else "–"),
        ("still open", f"{by_status.get('pending', 0) + by_status.get('delivered', 0):,}"),
    ])
    go = _go()
    section.panels.append(Panel(
        "introduction_funnel", "Introduction funnel", ["stage", "requests"], [list(f) for f in funnel],
        go.Figure(go.Funnel(y=[f[0] for f in funnel], x=[f[1] for f in funnel])).update_layout(
            title="Introduction funnel", margin=dict(l=80, r=20, t=50, b=30), height=340),
        note="delivered: the partner got the request (accepted and declined ones were delivered first).",
    ))
    per_partner: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = per_partner.setdefault(r["partner_id"], {"requested": 0, "delivered": 0, "accepted": 0, "declined": 0, "expired": 0, "waits": []})
        entry["requested"] += 1
        entry["delivered"] += int(r["delivered"])
        if r["status"] in ("accepted", "declined", "expired"):
            entry[r["status"]] += 1
        if r["status"] in ("accepted", "declined") and r["decided"]:
            entry["waits"].append(r["decided"] - r["created"])
    partner_rows = sorted(
        ([pid, ds.partner_names.get(pid, pid), e["requested"], e["delivered"], e["accepted"], e["declined"], e["expired"],
          _hours(median(e["waits"])) if e["waits"] else "–"] for pid, e in per_partner.items()),
        key=lambda r: (-r[2], r[0]),
    )
    top = partner_rows[:15]
    section.panels.append(Panel(
        "introductions_by_partner", "Introductions by partner",
        ["partner id", "partner", "requested", "delivered", "accepted", "declined", "expired", "median time to decision"],
        partner_rows[:TOP_ROWS * 2],
        go.Figure([go.Bar(y=[r[1] for r in top], x=[r[i] for r in top], name=name, orientation="h")
                   for i, name in ((4, "accepted"), (5, "declined"), (6, "expired"))]).update_layout(
            title="Decisions by partner (top 15)", barmode="stack", height=max(300, 26 * len(top) + 90),
            margin=dict(l=40, r=20, t=50, b=40), yaxis=dict(autorange="reversed", automargin=True)) if top else None,
    ))
    months = sorted({_month(np.array([r["created"]]))[0] for r in rows})
    statuses = ("pending", "delivered", "accepted", "declined", "expired")
    grid = {s: [0] * len(months) for s in statuses}
    index = {m: i for i, m in enumerate(months)}
    for r in rows:
        grid[r["status"]][index[_month(np.array([r["created"]]))[0]]] += 1
    section.panels.append(Panel(
        "introductions_by_month", "Introductions by month (status today)", ["month", *statuses],
        [[m, *(grid[s][i] for s in statuses)] for i, m in enumerate(months)],
        _stacked(months, grid, "Introductions by month") if months else None,
    ))
    handoffs = [h for h in ds.handoffs if view.keeps(h["created"], h["channel"])]
    asked = [h for h in ds.handoffs_asked if view.keeps(h["created"], h["channel"])]
    h_status = _tally(h["status"] for h in handoffs)
    closing = [h["closed"] - h["created"] for h in handoffs if h["status"] == "closed" and h["closed"]]
    section.panels.append(Panel(
        "handoffs", "Hand-offs to UNOSSC staff", ["measure", "value"],
        [["asked (with or without consent)", len(asked)], ["sent with consent", len(handoffs)],
         ["open", h_status.get("open", 0)], ["closed", h_status.get("closed", 0)],
         ["median time to close", _hours(median(closing)) if closing else "–"]],
        _bar(["asked", "sent", "open", "closed"], [len(asked), len(handoffs), h_status.get("open", 0), h_status.get("closed", 0)], "Hand-offs"),
    ))
    return section


def faq(ds: Dataset, view: View) -> Section:
    f = ds.faq
    keep = view.mask(f["ts"], f["channel"])
    outcome = f["outcome"]
    rows = [[o, int(((outcome.codes == outcome.code(o)) & keep).sum())] for o in FAQ_OUTCOMES]
    total = int(keep.sum())
    section = Section("faq", "FAQ gaps", kpis=[
        ("FAQ questions", f"{total:,}"),
        ("answered", _pct(rows[0][1], total)),
        ("low confidence", _pct(rows[1][1], total)),
        ("\"I don't know\"", _pct(rows[2][1], total)),
    ])
    section.panels.append(Panel(
        "faq_outcomes", "How FAQ questions were answered", ["outcome", "questions"], rows,
        _bar([r[0] for r in rows], [r[1] for r in rows], "FAQ outcomes"),
        note="dont_know: the assistant said it does not know; low_confidence: an answer given with a "
             "ResponseSelector confidence below 0.5 (or so marked by the FAQ action).",
    ))
    for key, title, wanted in (
        ("faq_dont_know", "Questions answered \"I don't know\"", "dont_know"),
        ("faq_low_confidence", "Low-confidence FAQ answers", "low_confidence"),
    ):
        mask = keep & (outcome.codes == outcome.code(wanted))
        per_text = np.bincount(f["text"][mask], minlength=len(ds.texts)) if mask.any() else np.zeros(0, dtype=int)
        keys: dict[int, str] = {}
        for t, k in zip(f["text"][mask], f["key"][mask]):
            keys.setdefault(int(t), k)
        table = sorted(([ds.texts[i], int(per_text[i]), keys.get(int(i), "")] for i in np.flatnonzero(per_text)), key=lambda r: (-r[1], r[0]))
        section.panels.append(Panel(key, title, ["question (masked)", "times", "FAQ answer given"], table[:TOP_ROWS * 2]))
    return section


def feedback(ds: Dataset, view: View) -> Section:
    rows = [r for r in ds.feedback if view.keeps(r["created"], r["channel"])]
    up = sum(1 for r in rows if r["rating"] == "up")
    down = len(rows) - up
    section = Section("feedback", "Feedback", kpis=[
        ("ratings", f"{len(rows):,}"), ("👍", f"{up:,}"), ("👎", f"{down:,}"),
        ("open 👎 to review", f"{sum(1 for r in rows if r['rating'] == 'down' and r['status'] == 'open'):,}"),
    ])
    kinds = sorted({r["kind"] for r in rows})
    by_kind = [[k, sum(1 for r in rows if r["kind"] == k and r["rating"] == "up"), sum(1 for r in rows if r["kind"] == k and r["rating"] == "down")] for k in kinds]
    go = _go()
    section.panels.append(Panel(
        "feedback_by_kind", "Ratings by kind of answer", ["answer kind", "👍", "👎"], by_kind,
        go.Figure([go.Bar(x=kinds, y=[r[1] for r in by_kind], name="👍"), go.Bar(x=kinds, y=[r[2] for r in by_kind], name="👎")]).update_layout(
            title="Ratings by kind of answer", barmode="group", height=320, margin=dict(l=40, r=20, t=50, b=40)) if rows else None,
        note="Only ratings of answers the conversation was actually shown are counted.",
    ))
    queue = sorted((r for r in rows if r["rating"] == "down"), key=lambda r: -r["created"])
    section.panels.append(Panel(
        "feedback_queue", "Review queue (👎, newest first; resolve with `python -m analytics feedback resolve ID`)",
        ["id", "date", "channel", "answer kind", "answer", "reason (masked)", "status", "label"],
        [[r["id"], datetime.fromtimestamp(r["created"], timezone.utc).strftime("%Y-%m-%d"), CHANNEL_LABELS.get(r["channel"], r["channel"]),
          r["kind"], r["answer"], r["reason"], r["status"], r["label"]] for r in queue[:TOP_ROWS * 4]],
    ))
    return section


BUILDERS = {"overview": overview, "demand": demand, "unmet": unmet, "introductions": introductions, "faq": faq, "feedback": feedback}


def build_section(ds: Dataset, view: View, key: str) -> Section:
    return BUILDERS[key](ds, view)


def build_sections(ds: Dataset, view: View) -> list[Section]:
    return [build_section(ds, view, key) for key, _ in SECTIONS]


# -- HTML ----------------------------------------------------------------------------------------------

STYLE = """body{font-family:system-ui,sans-serif;margin:0;color:#1d2733;background:#f5f7fa}
header{background:#0a5ea8;color:#fff;padding:.8rem 1.5rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
header h1{font-size:1.2rem;margin:0 1rem 0 0}header a{color:#fff;margin-right:.8rem}header a.on{font-weight:700;text-decoration:underline}
main{padding:1rem 1.5rem;max-width:1200px}form.filters{display:flex;gap:.6rem;flex-wrap:wrap;align-items:end;margin:.5rem 0 1rem}
form.filters label{display:flex;flex-direction:column;font-size:.85rem}.kpis{display:flex;flex-wrap:wrap;gap:.8rem;margin:.5rem 0 1rem}
.kpi{background:#fff;border-radius:.4rem;padding:.6rem 1rem;box-shadow:0 1px 2px #0002}.kpi b{display:block;font-size:1.4rem}
.panel{background:#fff;border-radius:.4rem;padding:1rem;margin:0 0 1rem;box-shadow:0 1px 2px #0002}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}td,th{border-bottom:1px solid #dde3ea;padding:.25rem .6rem;text-align:left;vertical-align:top}
.note{color:#55616e;font-size:.85rem}.muted{color:#55616e}"""


def _table_html(panel: Panel) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in panel.headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in panel.rows)
    return f'<table data-table="{panel.key}"><thead><tr>{head}</tr></thead><tbody>{body or "<tr><td>no data</td></tr>"}</tbody></table>'


def panel_html(panel: Panel, csv_href: str) -> str:
    parts = [f'<section class="panel" id="panel-{panel.key}"><h3>{html.escape(panel.title)}</h3>']
    if panel.figure is not None and panel.rows:
        parts.append(panel.figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{panel.key}",
                                          config={"displaylogo": False, "responsive": True}))
    if panel.note:
        parts.append(f'<p class="note">{html.escape(panel.note)}</p>')
    parts.append(f"<details{' open' if panel.figure is None or len(panel.rows) <= 12 else ''}><summary>Table</summary>{_table_html(panel)}</details>")
    parts.append(f'<p><a href="{html.escape(csv_href)}" download="{panel.key}.csv">Download CSV</a></p></section>')
    return "".join(parts)


def section_html(section: Section, csv_href: Any) -> str:
    kpis = "".join(f'<div class="kpi"><b>{html.escape(v)}</b>{html.escape(k)}</div>' for k, v in section.kpis)
    panels = "".join(panel_html(p, csv_href(p)) for p in section.panels)
    return f'<h2 id="{section.key}">{html.escape(section.title)}</h2><div class="kpis">{kpis}</div>{panels}'


def data_csv_href(panel: Panel) -> str:
    return "data:text/csv;charset=utf-8," + quote(panel.csv())


@lru_cache(maxsize=1)
def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


@lru_cache(maxsize=1)
def geo_assets_js() -> str:
    """The world map Plotly's choropleth needs, preloaded (plotly.js would fetch it from a CDN)."""
    world = (ASSETS / "world_110m.json").read_text(encoding="utf-8")
    return f"window.PlotlyGeoAssets={{topojson:{{world_110m:{world}}}}};"


def render_report(ds: Dataset, view: View) -> str:
    """One self-contained HTML page with every section; CSVs are data: links, scripts are inlined."""
    built = datetime.fromtimestamp(ds.built_at, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = "".join(section_html(s, data_csv_href) for s in build_sections(ds, view))
    nav = "".join(f'<a href="#{k}">{html.escape(t)}</a>' for k, t in SECTIONS)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Galaxy Assistant analytics</title><style>{STYLE}</style>"
        f"<script>{geo_assets_js()}</script><script>{plotly_js()}</script></head><body>"
        f"<header><h1>Galaxy Assistant analytics</h1>{nav}</header><main>"
        f'<p class="muted">{html.escape(view.describe())} · {ds.conversations:,} conversations · built {built}. '
        "Aggregates and masked need texts only.</p>"
        f"{body}</main></body></html>"
    )


def parse_day(text: str | None, *, end: bool = False) -> float | None:
    """'YYYY-MM-DD' as epoch seconds (UTC midnight; the day after for an end date, so it is inclusive)."""
    if not text:
        return None
    day = datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=timezone.utc)
    return day.timestamp() + (86400 if end else 0)


def summary_numbers(ds: Dataset, view: View) -> dict[str, Any]:
    """Every panel's table as JSON (`python -m analytics report --json`, and the tests)."""
    return {s.key: {"kpis": dict(s.kpis), **{p.key: {"headers": p.headers, "rows": p.rows} for p in s.panels}}
            for s in build_sections(ds, view)}

