"""Validate knowledge/eval/needs.jsonl and unanswerable.jsonl against the reference files (stdlib only)."""
import collections, json, pathlib, sys
REF = pathlib.Path("/work/shared/reference")
EV = pathlib.Path(__file__).resolve().parent.parent / "knowledge/eval"
files = {"solutions_facts": "title", "solutions_more_facts": "title",
         "partners_facts": "name", "partners_more_facts": "name"}
where = {}
for f, key in files.items():
    for r in json.load(open(REF / f"{f}.json")):
        where.setdefault(r[key], set()).add(f)
errs = []
seen = set()
kinds, byfile, nrel = collections.Counter(), collections.Counter(), []
for i, line in enumerate((EV / "needs.jsonl").read_text().splitlines(), 1):
    o = json.loads(line)
    if set(o) != {"query", "kind", "relevant", "file"}: errs.append(f"needs:{i} bad keys")
    if o["kind"] not in ("solution", "partner"): errs.append(f"needs:{i} bad kind")
    if o["file"] not in files: errs.append(f"needs:{i} bad file")
    q = " ".join(o["query"].lower().split())
    if q in seen: errs.append(f"needs:{i} duplicate query")
    seen.add(q)
    if not o["relevant"] or len(set(o["relevant"])) != len(o["relevant"]): errs.append(f"needs:{i} empty/duplicate relevant")
    for r in o["relevant"]:
        if r not in where: errs.append(f"needs:{i} unknown record {r!r}")
    if o["relevant"] and o["file"] not in where.get(o["relevant"][0], set()): errs.append(f"needs:{i} file does not match first relevant")
    want = "solution" if o["file"].startswith("solutions") else "partner"
    if o["kind"] != want: errs.append(f"needs:{i} kind/file mismatch")
    kinds[o["kind"]] += 1; byfile[o["file"]] += 1; nrel.append(len(o["relevant"]))
un = 0
for i, line in enumerate((EV / "unanswerable.jsonl").read_text().splitlines(), 1):
    o = json.loads(line)
    if set(o) != {"query", "kind"} or o["kind"] not in ("solution", "partner"): errs.append(f"unans:{i} bad record")
    q = " ".join(o["query"].lower().split())
    if q in seen: errs.append(f"unans:{i} duplicate query")
    seen.add(q); un += 1
n = len(nrel)
more = byfile["solutions_more_facts"] + byfile["partners_more_facts"]
print(f"needs: {n}  kinds: {dict(kinds)}  files: {dict(byfile)}  more_facts: {more}")
print(f"avg relevant: {sum(nrel)/max(n,1):.2f}  unanswerable: {un}")
for e in errs: print("ERROR", e)
if n < 320: errs.append("fewer than 320 needs")
if more < 110: errs.append("fewer than 110 more_facts queries")
if un < 50: errs.append("fewer than 50 unanswerable")
sys.exit(1 if errs else 0)
