"""The catalogue schema (Solution, Partner, FaqEntry) and its JSONL/CSV import with validation.

Every bad row is reported with file, row number and field; a file with any bad row yields no
records, so an import never half-applies.
"""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal, Union

from knowledge.geo import REGION_KEYS, geography

Kind = Literal["solution", "partner"]
PARTNER_TYPES = (
    "government_agency",
    "un_entity",
    "fund",
    "development_bank",
    "ngo",
    "research",
    "intergovernmental",
    "network",
    "utility",
    "private_sector",
    "other",
)
STATUSES = ("active", "completed", "unknown")
LIST_SEPARATOR = ";"  # CSV cells holding lists: "KEN;UGA"
# A summary is a line or two and a description a paragraph; anything far longer is a pasted page.
SUMMARY_LIMIT = 1_000
DESCRIPTION_LIMIT = 5_000


@dataclass(frozen=True)
class Solution:
    id: str
    title: str
    summary: str
    description: str
    countries: tuple[str, ...]
    regions: tuple[str, ...]
    sdgs: tuple[int, ...]
    themes: tuple[str, ...]
    provider: str | None
    provider_name: str
    other_partners: tuple[str, ...]
    year: int | None
    status: str
    source_url: str
    sources: tuple[str, ...] = ()
    updated_at: str = ""
    # `countries` are where the work happened; these are the countries that provided or funded it.
    provider_countries: tuple[str, ...] = ()
    funders: tuple[str, ...] = ()
    results: str | None = None  # beneficiaries or results as the sources state them
    budget: str | None = None  # as stated, e.g. "USD 1.2 million"
    thin: bool = False  # the sources give little more than a title and countries
    kind: Kind = field(default="solution", init=False)

    @property
    def name(self) -> str:
        return self.title

    def text(self) -> str:
        """What is embedded and indexed for search."""
        geo = geography()
        countries = ", ".join(geo.country_name(c) for c in self.countries)
        providers = ", ".join(geo.country_name(c) for c in self.provider_countries)
        from knowledge.geo import sdg_name

        goals = ", ".join(f"SDG {n} {sdg_name(n)}" for n in self.sdgs)
        return " ".join(
            part
            for part in (
                f"{self.title}.",
                self.summary,
                self.description,
                f"Themes: {', '.join(self.themes)}." if self.themes else "",
                f"Countries: {countries}." if countries else "",
                f"Goals: {goals}." if goals else "",
                f"Provider: {self.provider_name}." if self.provider_name else "",
                f"Provided or funded from: {providers}." if providers else "",
                f"Funders: {', '.join(self.funders)}." if self.funders else "",
                f"Results: {self.results}" if self.results else "",
            )
            if part
        )


@dataclass(frozen=True)
class Contact:
    """A partner's focal point. Private: never shown to users before an accepted introduction."""

    name: str
    email: str
    telegram_chat_id: str | None = None


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    acronym: str | None
    aliases: tuple[str, ...]
    type: str
    country: str | None
    regions: tuple[str, ...]
    sdgs: tuple[int, ...]
    focus_areas: tuple[str, ...]
    description: str
    source_url: str
    sources: tuple[str, ...] = ()
    contact: Contact | None = field(default=None, repr=False)
    updated_at: str = ""
    thin: bool = False  # the sources say little more than the name and type
    kind: Kind = field(default="partner", init=False)

    @property
    def title(self) -> str:
        return self.name

    def display_name(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym and self.acronym not in self.name else self.name

    def text(self) -> str:
        geo = geography()
        from knowledge.geo import sdg_name

        names = " ".join(n for n in (self.acronym, *self.aliases) if n)
        return " ".join(
            part
            for part in (
                f"{self.display_name()}.",
                names,
                f"A {self.type.replace('_', ' ')}.",
                f"Based in {geo.country_name(self.country)}." if self.country else "",
                f"Works on {', '.join(self.focus_areas)}." if self.focus_areas else "",
                self.description,
                "Goals: " + ", ".join(f"SDG {n} {sdg_name(n)}" for n in self.sdgs) + "." if self.sdgs else "",
            )
            if part
        )


@dataclass(frozen=True)
class FaqEntry:
    id: str
    question: str
    variants: tuple[str, ...]
    answer: str
    source: str | None
    topics: tuple[str, ...] = ()
    # Position among the questions offered to webinar attendees (1 first); None: not offered.
    webinar_rank: int | None = None


Record = Union[Solution, Partner]


def record_to_json(record: Record, *, private: bool = False) -> dict[str, Any]:
    """Plain JSON of a record; the partner contact only when `private` is asked for."""
    data = asdict(record)
    if isinstance(record, Partner) and not private:
        data.pop("contact", None)
    for key, value in list(data.items()):
        if isinstance(value, tuple):
            data[key] = list(value)
    return data


def content_hash(record: Record) -> str:
    payload = json.dumps(record_to_json(record, private=True), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class RowError:
    file: str
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}: {self.field}: {self.message}"


class CatalogueError(Exception):
    """Raised with every row error of an import; nothing is written when it is raised."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        shown = "\n".join(str(e) for e in errors[:50])
        more = f"\n… and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{len(errors)} problem(s) in the catalogue:\n{shown}{more}")


class _RowReader:
    """Turns one raw row (JSON object or CSV dict) into typed fields, collecting errors."""

    def __init__(self, file: str, row: int, raw: dict[str, Any], errors: list[RowError]) -> None:
        self.file, self.row, self.raw, self.errors = file, row, raw, errors

    def fail(self, name: str, message: str) -> None:
        self.errors.append(RowError(self.file, self.row, name, message))

    def text(self, name: str, *, required: bool = True, limit: int = 20_000) -> str:
        value = self.raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(name, "is required")
            return ""
        if not isinstance(value, str):
            self.fail(name, f"must be text, got {type(value).__name__}")
            return ""
        if len(value) > limit:
            self.fail(name, f"is longer than {limit} characters")
        return value.strip()

    def optional_text(self, name: str) -> str | None:
        return self.text(name, required=False) or None

    def strings(self, name: str) -> tuple[str, ...]:
        value = self.raw.get(name)
        if value is None or value == "":
            return ()
        if isinstance(value, str):
            value = [v for v in (p.strip() for p in value.split(LIST_SEPARATOR)) if v]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(name, "must be a list of text")
            return ()
        return tuple(v.strip() for v in value if v.strip())

    def countries(self, name: str) -> tuple[str, ...]:
        geo = geography()
        codes: list[str] = []
        for value in self.strings(name):
            code = value.upper() if geo.is_country(value.upper()) else None
            if code is None:
                self.fail(name, f"{value!r} is not an ISO 3166-1 alpha-3 country code")
            elif code not in codes:
                codes.append(code)
        return tuple(codes)

    def country(self, name: str) -> str | None:
        value = self.optional_text(name)
        if value is None:
            return None
        if not geography().is_country(value.upper()):
            self.fail(name, f"{value!r} is not an ISO 3166-1 alpha-3 country code")
            return None
        return value.upper()

    def regions(self, name: str) -> tuple[str, ...]:
        values = self.strings(name)
        bad = [v for v in values if v not in REGION_KEYS]
        if bad:
            self.fail(name, f"unknown region(s) {bad}; use one of {list(REGION_KEYS)}")
        return tuple(v for v in values if v in REGION_KEYS)

    def sdgs(self, name: str) -> tuple[int, ...]:
        value = self.raw.get(name)
        if value is None or value == "":
            return ()
        if isinstance(value, str):
            value = [p.strip() for p in value.split(LIST_SEPARATOR) if p.strip()]
        if not isinstance(value, list):
            self.fail(name, "must be a list of SDG numbers")
            return ()
        result: list[int] = []
        for item in value:
            try:
                number = int(item)
            except (TypeError, ValueError):
                self.fail(name, f"{item!r} is not an SDG number")
                continue
            if isinstance(item, bool) or not 1 <= number <= 17:
                self.fail(name, f"{item!r} is not an SDG number (1 to 17)")
            elif number not in result:
                result.append(number)
        return tuple(result)

    def year(self, name: str) -> int | None:
        value = self.raw.get(name)
        if value in (None, ""):
            return None
        try:
            year = int(value)
        except (TypeError, ValueError):
            self.fail(name, f"{value!r} is not a year")
            return None
        if not 1900 <= year <= 2100:
            self.fail(name, f"{year} is not a plausible year")
        return year

    def rank(self, name: str) -> int | None:
        value = self.raw.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, bool) or not str(value).isdigit() or int(value) < 1:
            self.fail(name, f"{value!r} is not a positive whole number")
            return None
        return int(value)

    def flag(self, name: str) -> bool:
        value = self.raw.get(name)
        if value in (None, ""):
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.strip().lower() in ("true", "yes", "1")
        self.fail(name, f"{value!r} is not true or false")
        return False

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.raw.get(name) or default
        if value not in allowed:
            self.fail(name, f"{value!r} is not one of {list(allowed)}")
            return default
        return value

    def identifier(self) -> str:
        value = self.text("id")
        if value and (len(value) > 128 or any(c.isspace() for c in value)):
            self.fail("id", "must be at most 128 characters without spaces")
        return value


def _solution(reader: _RowReader) -> Solution:
    countries = reader.countries("countries")
    regions = reader.regions("regions") or tuple(geography().divisions(list(countries)))
    return Solution(
        id=reader.identifier(),
        title=reader.text("title", limit=500),
        summary=reader.text("summary", required=False, limit=SUMMARY_LIMIT),
        description=reader.text("description", required=False, limit=DESCRIPTION_LIMIT),
        countries=countries,
        regions=regions,
        sdgs=reader.sdgs("sdgs"),
        themes=reader.strings("themes"),
        provider=reader.optional_text("provider"),
        provider_name=reader.text("provider_name", required=False),
        other_partners=reader.strings("other_partners"),
        year=reader.year("year"),
        status=reader.choice("status", STATUSES, "unknown"),
        source_url=reader.text("source_url"),
        sources=reader.strings("sources"),
        updated_at=reader.text("updated_at", required=False),
        provider_countries=reader.countries("provider_countries"),
        funders=reader.strings("funders"),
        results=reader.text("results", required=False, limit=SUMMARY_LIMIT) or None,
        budget=reader.text("budget", required=False, limit=200) or None,
        thin=reader.flag("thin"),
    )


def _contact(reader: _RowReader) -> Contact | None:
    raw = reader.raw.get("contact")
    if raw in (None, ""):
        email = reader.raw.get("contact_email")
        if not email:
            return None
        raw = {"name": reader.raw.get("contact_name") or "", "email": email}
    if not isinstance(raw, dict) or "@" not in str(raw.get("email", "")):
        reader.fail("contact", "must be an object with a valid email")
        return None
    chat = raw.get("telegram_chat_id")
    return Contact(name=str(raw.get("name") or ""), email=str(raw["email"]), telegram_chat_id=str(chat) if chat else None)


def _partner(reader: _RowReader) -> Partner:
    country = reader.country("country")
    regions = reader.regions("regions") or tuple(geography().divisions([country] if country else []))
    return Partner(
        id=reader.identifier(),
        name=reader.text("name", limit=500),
        acronym=reader.optional_text("acronym"),
        aliases=reader.strings("aliases"),
        type=reader.choice("type", PARTNER_TYPES, "other"),
        country=country,
        regions=regions,
        sdgs=reader.sdgs("sdgs"),
        focus_areas=reader.strings("focus_areas"),
        description=reader.text("description", required=False, limit=DESCRIPTION_LIMIT),
        source_url=reader.text("source_url"),
        sources=reader.strings("sources"),
        contact=_contact(reader),
        updated_at=reader.text("updated_at", required=False),
        thin=reader.flag("thin"),
    )


def _guess_kind(raw: dict[str, Any]) -> Kind | None:
    kind = raw.get("kind")
    if kind in ("solution", "partner"):
        return kind
    if "title" in raw:
        return "solution"
    if "name" in raw:
        return "partner"
    return None


def _rows(path: Path, errors: list[RowError]) -> Iterable[tuple[int, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        errors.append(RowError(str(path), 0, "file", f"is not UTF-8 text ({exc.reason} at byte {exc.start})"))
        return
    except OSError as exc:
        errors.append(RowError(str(path), 0, "file", f"cannot be read: {exc.strerror}"))
        return
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        columns = set(reader.fieldnames or [])
        if not ({"id", "title"} <= columns or {"id", "name"} <= columns):
            errors.append(
                RowError(str(path), 1, "header", f"needs an id column and a title (solutions) or name (partners) column; found {sorted(columns)}")
            )
            return
        for number, row in enumerate(reader, start=2):
            if None in row:
                errors.append(RowError(str(path), number, "row", "has more cells than the header"))
                continue
            yield number, {k: v for k, v in row.items() if k is not None}
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(RowError(str(path), number, "json", f"invalid JSON ({exc.msg})"))
            continue
        if not isinstance(raw, dict):
            errors.append(RowError(str(path), number, "json", "must be a JSON object"))
            continue
        yield number, raw


def load_catalogue(paths: Iterable[Path | str]) -> list[Record]:
    """All records of the given JSONL/CSV files, or CatalogueError listing every bad row."""
    errors: list[RowError] = []
    records: list[Record] = []
    seen: dict[str, str] = {}
    titles: dict[tuple[str, str], tuple[str, str]] = {}  # (kind, folded title) -> (id, where)
    for path in map(Path, paths):
        for number, raw in _rows(path, errors):
            reader = _RowReader(str(path), number, raw, errors)
            kind = _guess_kind(raw)
            if kind is None:
                reader.fail("kind", "cannot tell a solution (title) from a partner (name)")
                continue
            before = len(errors)
            record = _solution(reader) if kind == "solution" else _partner(reader)
            if len(errors) > before:
                continue
            where = f"{path}:{number}"
            if record.id in seen:
                reader.fail("id", f"duplicate id {record.id!r} (first at {seen[record.id]})")
                continue
            title_key = (record.kind, " ".join(record.title.casefold().split()))
            if title_key in titles:
                other_id, other_where = titles[title_key]
                field_name = "title" if record.kind == "solution" else "name"
                reader.fail(field_name, f"{record.title!r} is already the {field_name} of {other_id!r} (at {other_where})")
                continue
            titles[title_key] = (record.id, where)
            seen[record.id] = where
            records.append(record)
    partner_ids = {r.id for r in records if isinstance(r, Partner)}
    # Links to partners are checked only when partners are part of the same import.
    if partner_ids:
        for record in records:
            if isinstance(record, Solution):
                file, row = seen[record.id].rsplit(":", 1)
                links = [("provider", record.provider)] + [("other_partners", ref) for ref in record.other_partners]
                for field_name, ref in links:
                    if ref and ref not in partner_ids:
                        errors.append(RowError(file, int(row), field_name, f"unknown partner id {ref!r}"))
    if errors:
        raise CatalogueError(errors)
    return records


def load_faq(path: Path | str) -> list[FaqEntry]:
    errors: list[RowError] = []
    entries: list[FaqEntry] = []
    for number, raw in _rows(Path(path), errors):
        reader = _RowReader(str(path), number, raw, errors)
        entry = FaqEntry(
            id=reader.identifier(),
            question=reader.text("question"),
            variants=reader.strings("variants"),
            answer=reader.text("answer"),
            source=reader.optional_text("source"),
            topics=reader.strings("topics"),
            webinar_rank=reader.rank("webinar_rank"),
        )
        entries.append(entry)
    if errors:
        raise CatalogueError(errors)
    return entries
