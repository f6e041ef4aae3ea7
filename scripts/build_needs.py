"""Build knowledge/eval/needs.jsonl from scripts/needs_src.txt (query || codes).
Codes: S<n> solutions_facts, M<n> solutions_more_facts, P<n> partners_facts, Q<n> partners_more_facts."""
import json, pathlib
REF = pathlib.Path("/work/shared/reference")
ROOT = pathlib.Path(__file__).resolve().parent.parent
F = {"S": ("solutions_facts", "title"), "M": ("solutions_more_facts", "title"),
     "P": ("partners_facts", "name"), "Q": ("partners_more_facts", "name")}
recs = {k: json.load(open(REF / f"{v[0]}.json")) for k, v in F.items()}
def name(code):
    return recs[code[0]][int(code[1:])][F[code[0]][1]]
out = []
for line in (ROOT / "scripts/needs_src.txt").read_text().splitlines():
    if not line.strip() or line.startswith("#"):
        continue
    if "||" in line:
        q, codes = line.split("||")
        codes = codes.split()
        first = codes[0][0]
        out.append({"query": q.strip(), "kind": "solution" if first in "SM" else "partner",
                    "relevant": list(dict.fromkeys(name(c) for c in codes)), "file": F[first][0]})
(ROOT / "knowledge/eval/needs.jsonl").write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in out))
un = []
for line in (ROOT / "scripts/unanswerable_src.txt").read_text().splitlines():
    if line.strip() and not line.startswith("#"):
        k, q = line.split("|", 1)
        un.append({"query": q.strip(), "kind": "solution" if k.strip() == "s" else "partner"})
(ROOT / "knowledge/eval/unanswerable.jsonl").write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in un))
print(len(out), len(un))
