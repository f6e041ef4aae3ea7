"""Mechanical first pass that appended the *_more_facts reference records to the seed catalogue (run once).

Summaries are the reference's `summary_own_words` (already our own words). The pass left descriptions
empty and facts null; a hand-written pass then edited the JSONL files directly: descriptions in our own
words, `provider_countries`, `funders`, `results`, `budget` and `status` where a reference states them,
provider links, partner types checked by hand (`ptype` below only guesses from keywords) and duplicates
merged. Running this again would append every record a second time: edit knowledge/data/*.jsonl instead.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from knowledge.geo import geography

REF = Path("/work/shared/reference")
DATA = Path("knowledge/data")
TODAY = "2026-12-01"


def slug(text: str, prefix: str, taken: set[str]) -> str:
    acr = re.search(r"\(([A-Z][A-Za-z0-9.\- ]{1,15})\)", text)
    base = acr.group(1) if acr and prefix == "p-" else " ".join(re.sub(r"\(.*?\)", "", text).split()[:5])
    s = prefix + re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")[:48].strip("-")
    out, n = s, 2
    while out in taken:
        out, n = f"{s}-{n}", n + 1
    taken.add(out)
    return out


def iso3(names: list[str]) -> tuple[list[str], list[str]]:
    geo, codes, bad = geography(), [], []
    for name in names:
        code = geo.country_code(re.sub(r"\s*\(.*?\)", "", name))
        (codes.append(code) if code and code not in codes else None) if code else bad.append(name)
    return codes, bad


def ptype(t: str) -> str:
    t = t.lower()
    for key, words in (("development_bank", ("bank", "finance institution")), ("fund", ("fund", "waqf")),
                       ("un_entity", ("un ", "undp", "united nations")), ("intergovernmental", ("intergovernmental", "regional")),
                       ("research", ("research", "institut", "education")), ("ngo", ("ngo", "foundation", "non-")),
                       ("private_sector", ("company", "private")), ("network", ("platform", "network")),
                       ("government_agency", ("government", "agency", "national", "ministry"))):
        if any(w in t for w in words):
            return key
    return "other"


def main() -> None:
    partners = [json.loads(l) for l in (DATA / "partners.jsonl").read_text().splitlines() if l.strip()]
    solutions = [json.loads(l) for l in (DATA / "solutions.jsonl").read_text().splitlines() if l.strip()]
    taken = {r["id"] for r in partners + solutions}
    for ref in json.loads((REF / "partners_more_facts.json").read_text()):
        country, _ = iso3([ref["country"]])
        acr = re.search(r"\(([^)]{2,15})\)", ref["name"])
        partners.append({
            "id": slug(ref["name"], "p-", taken), "name": re.sub(r"\s*\([^)]*\)\s*$", "", ref["name"]).strip(),
            "acronym": acr.group(1) if acr else None, "aliases": [], "type": ptype(ref["type"]),
            "country": country[0] if len(country) == 1 else None, "regions": [], "sdgs": [],
            "focus_areas": ref["focus_areas"], "description": "", "source_url": ref["source"][0],
            "sources": ref["source"], "contact": None, "updated_at": TODAY, "thin": not ref["key_facts"],
        })
    keys = []
    for p in partners:
        for n in (p["name"], p.get("acronym")):
            if n and len(n) >= 3:
                keys.append((n, p["id"]))
    keys.sort(key=lambda k: -len(k[0]))
    problems = []
    for ref in json.loads((REF / "solutions_more_facts.json").read_text()):
        countries, bad = iso3(ref["countries"])
        problems += [f"{ref['title']}: country {b!r}" for b in bad]
        found = []
        for name, pid in keys:
            if re.search(r"(?<![A-Za-z])" + re.escape(name) + r"(?![A-Za-z])", ref["provider"]) and pid not in found:
                found.append(pid)
        year_text = ref["year"] or ""
        years = [] if re.search(r"not (stated|given)|unknown", year_text, re.I) else re.findall(r"\b(19[5-9]\d|20[0-3]\d)\b", year_text)
        notes = ref.get("notes") or ""
        thin = bool(re.search(r"only (on )?(a |the )?(project )?title|title (and|&) (partner )?countries", notes, re.I))
        solutions.append({
            "id": slug(ref["title"], "s-", taken), "title": ref["title"], "summary": ref["summary_own_words"],
            "description": "", "countries": countries, "regions": [], "sdgs": [int(s) for s in ref["sdgs"] if 1 <= int(s) <= 17],
            "themes": [t.strip() for t in ref["theme"].split(";") if t.strip()], "provider": found[0] if found else None,
            "provider_name": ref["provider"], "other_partners": found[1:], "year": int(years[0]) if years else None,
            "status": "unknown", "source_url": ref["source"][0], "sources": ref["source"], "updated_at": TODAY,
            "provider_countries": [], "funders": [], "results": None, "budget": None, "thin": thin,
        })
    for name, rows in (("partners.jsonl", partners), ("solutions.jsonl", solutions)):
        (DATA / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print("\n".join(problems), file=sys.stderr)


if __name__ == "__main__":
    main()
