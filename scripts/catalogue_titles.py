"""Print a JSON map from every reference title or partner name (exact string) to its catalogue id.

Solutions are matched on title; partners on the reference name or on the catalogue name with an
acronym, so query sets labelled with reference titles can be mapped to ids.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from knowledge.catalogue import Partner, Solution, load_catalogue
from knowledge.geo import fold
from knowledge.settings import DATA_DIR

REFERENCE = Path("/work/shared/reference")
# Reference names that describe more than the organisation, matched by hand.
BY_HAND = {
    "FAO South-South and Triangular Cooperation (incl. FAO-China SSC Programme)": "p-fao",
    "International Institute of Information Technology Bangalore (IIIT-B) / MOSIP": "p-iiitb",
    "Oswaldo Cruz Foundation (Fiocruz) - Global Network of Human Milk Banks (rBLH)": "p-fiocruz",
    "Danish government / Danida": "p-danida",
}


def main() -> int:
    records = load_catalogue([DATA_DIR / "partners.jsonl", DATA_DIR / "solutions.jsonl"])
    by_title = {fold(r.title): r.id for r in records if isinstance(r, Solution)}
    partners = [r for r in records if isinstance(r, Partner)]
    by_name: dict[str, str] = {fold(k): v for k, v in BY_HAND.items()}
    for p in partners:
        for name in (p.name, p.display_name(), f"{p.name} ({p.acronym})" if p.acronym else None, p.acronym):
            if name:
                by_name.setdefault(fold(name), p.id)
    result: dict[str, str] = {}
    missing: list[str] = []
    for name in ("solutions_facts.json", "solutions_more_facts.json"):
        for ref in json.loads((REFERENCE / name).read_text(encoding="utf-8")):
            (result.__setitem__(ref["title"], by_title[fold(ref["title"])]) if fold(ref["title"]) in by_title else missing.append(ref["title"]))
    for name in ("partners_facts.json", "partners_more_facts.json"):
        for ref in json.loads((REFERENCE / name).read_text(encoding="utf-8")):
            bare = re.sub(r"\s*\([^)]*\)\s*$", "", ref["name"])
            acronym = re.search(r"\(([^)]+)\)\s*$", ref["name"])
            hit = next((by_name[k] for k in (fold(ref["name"]), fold(bare), fold(acronym.group(1)) if acronym else "") if k in by_name), None)
            (result.__setitem__(ref["name"], hit) if hit else missing.append(ref["name"]))
    json.dump(result, sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
    print()
    for title in missing:
        print(f"no catalogue id for reference title {title!r}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
