from __future__ import annotations

import json

import pytest

from knowledge.catalogue import load_catalogue
from knowledge.search import FilterError, Filters, Retriever
from knowledge.store import KnowledgeStore
from tests.conftest import MINI_CATALOGUE


@pytest.mark.parametrize(
    ("query", "kind", "expected"),
    [
        ("our villages run dry every summer", "solution", "s-rainwater"),
        ("find a solution for water scarcity", "solution", "s-rainwater"),
        ("feeding children at school with food from local farms", "solution", "s-school-meals"),
        ("premature babies need donated breast milk", "solution", "s-milk-banks"),
        ("who works on renewable energy?", "partner", "p-solar-ngo"),
        ("tell me about TIKA", "partner", "p-tika"),
        ("what is amexcid", "partner", "p-amexcid"),
    ],
)
def test_expected_record_ranks_first(retriever, query, kind, expected):
    results = retriever.search(query, kind=kind, top_k=3)
    assert results[0].id == expected
    assert results[0].kind == kind


def test_results_explain_why_they_match(retriever):
    (first, *_) = retriever.search("water scarcity in Kenya", top_k=3)
    assert first.id == "s-rainwater"
    assert "Kenya" in first.why and "water" in first.why


@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        (Filters(sdg=7), {"s-solar-mamas"}),
        (Filters(country="BRA"), {"s-school-meals", "s-milk-banks"}),
        (Filters(region="europe_cis"), {"s-heritage"}),
        (Filters(region="africa", sdg=3), {"s-milk-banks"}),
    ],
)
def test_filters_only_return_matching_records(retriever, filters, allowed):
    results = retriever.search("development project", top_k=10, filters=filters)
    assert {r.id for r in results} == allowed


def test_partner_type_filter(retriever):
    results = retriever.search("funding", kind="partner", top_k=10, filters=Filters(partner_type="fund"))
    assert [r.id for r in results] == ["p-fund"]


@pytest.mark.parametrize("filters", [Filters(sdg=18), Filters(country="XYZ"), Filters(region="mars")])
def test_impossible_filters_are_clear_errors(retriever, filters):
    with pytest.raises(FilterError):
        retriever.search("water", filters=filters)


def test_country_names_are_accepted_as_filters(retriever):
    results = retriever.search("water", filters=Filters(country="Kenya"))
    assert [r.id for r in results] == ["s-rainwater"]


def test_empty_and_huge_queries(retriever):
    assert retriever.search("   ") == []
    huge = "water for villages in drought " * 400  # about 12,000 characters
    assert retriever.search(huge, top_k=2)[0].id == "s-rainwater"


def test_paging_does_not_repeat_results(retriever):
    first = [r.id for r in retriever.search("community project", top_k=3)]
    second = [r.id for r in retriever.search("community project", top_k=3, offset=3)]
    assert first and second and not set(first) & set(second)


def test_modes_rank_differently_but_all_find_a_literal_match(retriever):
    for mode in ("dense", "bm25", "hybrid"):
        assert retriever.search("human milk bank", top_k=1, mode=mode)[0].id == "s-milk-banks"


def test_reimport_changes_nothing_and_sync_removes(tmp_path, embedder):
    store = KnowledgeStore(tmp_path / "store", embedder)
    records = load_catalogue([MINI_CATALOGUE])
    first = store.ingest(records)
    assert first.added == len(records)
    again = store.ingest(records)
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(records))
    kept = [r for r in records if r.id != "s-heritage"]
    synced = store.ingest(kept, sync=True)
    assert synced.removed == 1
    assert Retriever(store, embedder).get("s-heritage") is None


def test_a_crash_mid_import_leaves_the_previous_index_serving(tmp_path, embedder, monkeypatch):
    store = KnowledgeStore(tmp_path / "store", embedder)
    records = load_catalogue([MINI_CATALOGUE])
    store.ingest(records[:3])
    before = store.current_generation()

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(store, "_upsert", crash)
    with pytest.raises(RuntimeError):
        store.ingest(records)
    assert store.current_generation() == before
    assert len(Retriever(store, embedder)) == 3


def test_cli_search_json_contract(mini_store, capsys):
    from knowledge.cli import main

    code = main(["search", "water scarcity", "--store", str(mini_store.root), "--top-k", "2", "--json"])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2
    assert lines[0]["id"] == "s-rainwater"
    assert {"id", "kind", "title", "score", "why"} <= set(lines[0])


def test_cli_rejects_sdg_18_without_traceback(mini_store, capsys):
    from knowledge.cli import main

    code = main(["search", "water", "--sdg", "18", "--store", str(mini_store.root), "--json"])
    assert code == 2
    assert "SDG 18 does not exist" in json.loads(capsys.readouterr().out)["error"]


def test_records_without_sdgs_are_tagged_on_import(tmp_path, capsys, embedder):
    from knowledge.cli import main

    path = tmp_path / "untagged.csv"
    path.write_text(
        "id,title,summary,countries,source_url\n"
        "s-a,Solar mini-grids for rural clinics,Off-grid health centres get reliable electricity from solar power.,KEN,https://example.org/a\n"
        "s-b,Mangrove replanting,Coastal communities restore mangroves to protect fish nurseries and shorelines.,IDN,https://example.org/b\n",
        encoding="utf-8",
    )
    store = tmp_path / "store"
    assert main(["ingest", str(path), "--store", str(store), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sdgs_inferred"] == 2
    retriever = Retriever(KnowledgeStore(store, embedder), embedder)
    assert 7 in retriever.get("s-a").sdgs
    assert retriever.get("s-b").sdgs and set(retriever.get("s-b").sdgs) <= {13, 14, 15}


def test_in_place_scoring_of_long_runs_matches_plain_scoring():
    import numpy as np

    rng = np.random.default_rng(7)
    retriever = Retriever.__new__(Retriever)  # only the scoring arrays are needed here
    retriever.embeddings = rng.standard_normal((5000, 384)).astype(np.float32)
    retriever.records = [None] * 5000
    vector = rng.standard_normal(384).astype(np.float32)
    runs = np.concatenate([np.arange(100, 900), np.arange(1500, 1510), rng.choice(np.arange(2000, 5000), 300, replace=False)])
    for rows in (np.unique(runs), np.arange(0, 5000, 3), np.arange(4000, 4200)):
        assert np.allclose(retriever._cosines(rows, vector), retriever.embeddings[rows] @ vector, atol=1e-4)
