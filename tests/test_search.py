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
    # the import leaves the serving caches written: an action server's first load reads them
    cache = KnowledgeStore(store, embedder).current_generation() / "snapshot-v2"
    assert (cache / "complete").exists() and [(p / "complete").exists() for p in cache.glob("search-*")] == [True]
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


# -- domain stop words, acronyms, long records, provider countries, the relevance floor --------------
def test_domain_words_and_numbers_are_never_a_lexical_reason():
    from knowledge.text import tokens

    assert tokens("South-South cooperation project for one country, 2019-2023 development support") == []
    assert tokens("water programme in 3 countries") == ["water"]


def test_why_never_cites_domain_words(retriever):
    for result in retriever.search("south-south cooperation project programme for water in villages", top_k=3):
        cited = " ".join(result.matched_terms)
        assert not {"south", "cooperation", "project", "programme"} & set(cited.split()), result.why
    (first, *_) = retriever.search("a south-south cooperation initiative", top_k=1)
    assert "matches" not in first.why  # nothing but domain words were typed


def _partner(pid: str, name: str, acronym: str | None, focus: list[str], description: str) -> dict:
    return {"id": pid, "name": name, "acronym": acronym, "aliases": [], "type": "ngo", "country": "USA", "regions": [],
            "sdgs": [3], "focus_areas": focus, "description": description, "source_url": "https://example.org/" + pid}


@pytest.fixture(scope="module")
def acronym_retriever(tmp_path_factory, embedder):
    path = tmp_path_factory.mktemp("acronyms") / "partners.jsonl"
    rows = [
        _partner("p-care", "Cooperative for Assistance and Relief Everywhere", "CARE", ["humanitarian relief", "poverty"],
                 "An international humanitarian agency fighting poverty and delivering emergency relief."),
        _partner("p-clinics", "Primary Health Care Alliance", None, ["health care", "clinics"],
                 "Runs rural clinics and trains nurses so that health care reaches remote districts."),
        _partner("p-tika", "Turkish Cooperation and Coordination Agency", "TIKA", ["health", "education"],
                 "Türkiye's development agency builds hospitals and schools abroad."),
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    store = KnowledgeStore(tmp_path_factory.mktemp("acronym-store"), embedder)
    store.ingest(load_catalogue([path]))
    return Retriever(store, embedder)


def test_an_acronym_that_is_a_word_matches_only_in_capitals(acronym_retriever):
    lower = acronym_retriever.search("who offers health care in rural districts?", kind="partner", top_k=2)
    assert lower[0].id == "p-clinics" and lower[0].score < 1.0
    upper = acronym_retriever.search("tell me about CARE", kind="partner", top_k=2)
    assert upper[0].id == "p-care" and upper[0].score >= 1.0
    # An acronym that is not a word still matches however it is typed.
    assert acronym_retriever.search("what does tika do", kind="partner", top_k=1)[0].id == "p-tika"


def test_long_descriptions_are_chunked_and_scored_by_their_best_chunk(tmp_path, embedder):
    from knowledge.store import record_chunks

    filler = " ".join(["The programme trained officials in budgeting, procurement and the audit of public accounts."] * 25)
    solution = {
        "id": "s-long", "title": "Public finance reform", "summary": "Ministries modernise their budgets.",
        "description": filler + " In its last phase the project turned to beekeeping: rural women received hives, protective"
        " suits and training in queen rearing, harvested honey and wax, and sold jars of honey at weekly markets, so beekeeping"
        " became a steady income for women's cooperatives in the villages.",
        "countries": ["KEN"], "sdgs": [16], "themes": ["governance"], "provider": None, "provider_name": "A ministry",
        "other_partners": [], "year": 2020, "status": "active", "source_url": "https://example.org/long",
    }
    other = {**solution, "id": "s-short", "title": "Mangrove replanting", "summary": "Coastal villages replant mangroves.",
             "description": "Fishers restore mangrove belts that shelter fish nurseries.", "sdgs": [14], "themes": ["oceans"]}
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps(solution) + "\n" + json.dumps(other) + "\n", encoding="utf-8")
    records = load_catalogue([path])
    long_record = next(r for r in records if r.id == "s-long")
    chunks = record_chunks(long_record)
    assert len(chunks) > 2 and "honey" in chunks[-1] and "honey" not in chunks[0]
    store = KnowledgeStore(tmp_path / "store", embedder)
    store.ingest(records)
    retriever = Retriever(store, embedder)
    (first, *_) = retriever.search("beekeeping and honey for rural women", top_k=2, mode="dense")
    assert first.id == "s-long"
    head_only = float(retriever.embeddings[retriever.row_of["s-long"]] @ embedder.encode(["beekeeping and honey for rural women"])[0])
    assert first.dense > head_only + 0.1  # the last chunk, not the cut text, decided


def test_a_store_without_chunks_is_re_embedded_on_the_next_import(tmp_path, embedder):
    from knowledge.store import FORMAT_FILE, generation_format

    store = KnowledgeStore(tmp_path / "store", embedder)
    records = load_catalogue([MINI_CATALOGUE])
    store.ingest(records)
    (store.current_generation() / FORMAT_FILE).unlink()  # what a store built before chunking looks like
    assert generation_format(store.current_generation()) == 1
    report = store.ingest(records[:2])  # a partial import keeps every other record
    assert generation_format(store.current_generation()) == 2
    assert report.unchanged == 2 and len(Retriever(store, embedder)) == len(records)


def test_country_filter_means_where_the_work_happened_and_provider_matches_come_last(embedder):
    from dataclasses import dataclass

    import numpy as np

    from knowledge.catalogue import Solution
    from knowledge.store import Snapshot

    @dataclass(frozen=True)
    class ProvidedSolution(Solution):  # the expanded catalogue's field, before its schema lands
        provider_countries: tuple[str, ...] = ()

    def solution(sid: str, title: str, countries: tuple[str, ...], providers: tuple[str, ...]) -> ProvidedSolution:
        return ProvidedSolution(id=sid, title=title, summary=title, description="", countries=countries, regions=("africa",),
                                sdgs=(7,), themes=(), provider=None, provider_name="", other_partners=(), year=None,
                                status="active", source_url="https://example.org/" + sid, provider_countries=providers)

    records = [
        solution("s-in-china", "Solar water pumps for farms in China", ("CHN",), ()),
        solution("s-from-china", "Solar mini-grids for villages, technology transfer", ("GHA", "ZMB"), ("CHN",)),
        solution("s-elsewhere", "Solar lamps for schools", ("KEN",), ("IND",)),
    ]
    retriever = Retriever.__new__(Retriever)
    retriever.embedder, retriever.tagger = embedder, None
    from knowledge.search import RelevanceModel

    retriever.relevance = RelevanceModel()
    retriever._install(Snapshot(records, np.asarray(embedder.encode([r.text() for r in records]))))
    results = retriever.search("solar energy for villages", top_k=5, filters=Filters(country="CHN"))
    assert [r.id for r in results] == ["s-in-china", "s-from-china"]
    assert [r.via_provider_country for r in results] == [False, True]
    assert results[1].why.startswith("provided by China")
    # said as the place the work comes from, what it provided comes first
    results = retriever.search("solar energy for villages funded by China", top_k=5, filters=Filters(country="CHN"))
    assert [r.id for r in results] == ["s-from-china", "s-in-china"]
    # several places (or a sub-region) are looked up among providers too
    results = retriever.search("solar projects backed by China or India", top_k=5, filters=Filters(places=("CHN", "IND")))
    assert [r.id for r in results][:2] == ["s-from-china", "s-elsewhere"] or [r.id for r in results][:2] == ["s-elsewhere", "s-from-china"]
    assert results[0].why.startswith("provided by China or India") and results[-1].id == "s-in-china"
    # A country with no record, as worker or provider, gives nothing: no silent "closest from anywhere".
    assert retriever.search("solar energy", top_k=5, filters=Filters(country="FRA")) == []


def test_results_below_the_relevance_floor_are_not_close_matches(retriever):
    good = retriever.search("our villages run dry every summer", top_k=1)
    assert good[0].close_match
    bad = retriever.search("nuclear power plant safety inspections", top_k=3)
    assert bad and not any(r.close_match for r in bad)
    named = retriever.search("TIKA", kind="partner", top_k=1)
    assert named[0].close_match


# -- store generations: rollback and ensure --------------------------------------------------------
def test_rollback_serves_the_previous_generation(tmp_path, embedder, capsys):
    from knowledge.cli import main

    store = KnowledgeStore(tmp_path / "store", embedder)
    records = load_catalogue([MINI_CATALOGUE])
    first = store.ingest(records).generation
    second = store.ingest([r for r in records if r.id != "s-heritage"], sync=True).generation
    third = store.ingest([r for r in records if r.id not in ("s-heritage", "s-e-gov")], sync=True).generation
    names = {p.name for p in store.root.iterdir() if p.name.startswith("gen-")}
    assert names == {second, third} and first not in names  # the serving one and the one before it
    assert main(["store", "status", "--store", str(store.root), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)["generations"]
    assert [(g["generation"], g["state"]) for g in status] == [(third, "serving"), (second, "previous")]
    assert main(["store", "rollback", "--store", str(store.root)]) == 0
    assert store.current_generation().name == second
    retriever = Retriever(store, embedder)
    assert retriever.get("s-e-gov") is not None and retriever.get("s-heritage") is None
    assert main(["store", "rollback", "--store", str(store.root)]) == 0  # and back again
    assert store.current_generation().name == third


def test_rollback_without_a_previous_generation_is_a_clear_error(tmp_path, capsys):
    from knowledge.cli import main

    assert main(["store", "rollback", "--store", str(tmp_path / "empty")]) == 2
    assert "no previous generation" in capsys.readouterr().err


def test_ensure_builds_only_when_missing_or_the_seed_changed_and_keeps_an_operator_import(tmp_path, monkeypatch, capsys):
    from knowledge import settings as settings_module
    from knowledge.cli import main

    seed = tmp_path / "seed.jsonl"
    seed.write_text(MINI_CATALOGUE.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("GALAXY_CATALOGUE", str(seed))
    settings_module.settings.cache_clear()
    root = str(tmp_path / "store")
    try:
        assert main(["store", "ensure", "--store", root]) == 0
        store = KnowledgeStore(tmp_path / "store", None)
        built = store.current_generation()
        assert built is not None and "no store yet" in capsys.readouterr().out
        assert main(["store", "ensure", "--store", root]) == 0
        assert store.current_generation() == built and "up to date" in capsys.readouterr().out
        lines = seed.read_text(encoding="utf-8").splitlines()
        seed.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # the seed changed: one record fewer
        assert main(["store", "ensure", "--store", root]) == 0
        rebuilt = store.current_generation()
        assert rebuilt != built and "changed" in capsys.readouterr().out
        extra = tmp_path / "operator.jsonl"
        extra.write_text(lines[-1] + "\n", encoding="utf-8")
        assert main(["ingest", str(extra), "--store", root]) == 0  # an operator's import
        imported = store.current_generation()
        capsys.readouterr()
        seed.write_text("\n".join(lines) + "\n", encoding="utf-8")  # the seed changes again
        assert main(["store", "ensure", "--store", root]) == 0
        assert store.current_generation() == imported and "left as it is" in capsys.readouterr().out
    finally:
        settings_module.settings.cache_clear()


def test_a_serving_process_swaps_in_a_new_generation_whole(tmp_path, embedder):
    """The generation watch: `refresh` loads the new import behind the same handle; a search that holds
    the old retriever finishes on it, the next one sees the new records."""
    from dataclasses import replace

    from knowledge.services import build_services
    from knowledge.settings import load_settings

    records = load_catalogue([MINI_CATALOGUE])
    store = KnowledgeStore(tmp_path / "store", embedder, chroma_url="")
    store.ingest([r for r in records if r.id != "s-rainwater"], sync=True)
    config = replace(load_settings(), chroma_url="", state_dir=tmp_path)
    services = build_services(config, store_dir=tmp_path / "store", embedder=embedder, warm=False)
    handle, old = services.retriever, services.retriever.current
    assert services.generation == store.serving_generation() and services.refresh() is False
    assert handle.get("s-rainwater") is None

    report = store.ingest(records, sync=True)
    assert services.refresh() is True and services.generation == report.generation
    assert services.retriever is handle and handle.current is not old
    assert handle.search("rainwater ponds for dry villages", top_k=1)[0].id == "s-rainwater"
    assert old.get("s-rainwater") is None  # the retriever an in-flight search holds is left whole


def test_a_short_query_naming_a_title_is_a_close_match_of_that_record(retriever):
    import numpy as np

    from knowledge.search import _titles_name

    records = retriever.records
    rows = np.arange(len(records))
    titled = {records[row].id for row in rows[_titles_name(records, rows, "heritage corridors")]}
    assert titled == {"s-heritage"}
    assert not _titles_name(records, rows, "heritage corridors along the old trade routes of central asia").any()  # long: the cosine judges
    (first, *_) = retriever.search("heritage corridors", top_k=3)
    assert first.id == "s-heritage" and first.close_match


# -- the snapshot cache and the saved search index: what a restart or a second worker loads ---------
def test_a_restart_loads_lazy_records_mapped_vectors_and_the_saved_search_index(tmp_path, embedder):
    """The first load reads Chroma and writes the snapshot cache in layout order and the search index
    beside it; a restart reads both: the vectors stay memory-mapped (one copy for every process on
    the machine), records are decoded when asked for, and the results are the same."""
    import numpy as np

    from knowledge.store import RecordTable, layout_key

    store = KnowledgeStore(tmp_path / "store", embedder)
    store.ingest(load_catalogue([MINI_CATALOGUE]))
    first = Retriever(store, embedder)
    cache = store.current_generation() / "snapshot-v2"
    (saved,) = cache.glob("search-*")
    assert (saved / "complete").exists() and (saved / "bm25-solution").is_dir()

    again = Retriever(store, embedder)
    assert isinstance(again.records, RecordTable) and isinstance(again.embeddings, np.memmap)
    keys = [layout_key(r) for r in again.records]
    assert keys == sorted(keys) and [r.id for r in again.records] == again.records.ids
    for query, kind in [("our villages run dry every summer", "solution"), ("tell me about TIKA", "partner")]:
        assert [(r.id, round(r.score, 5), r.why) for r in again.search(query, kind=kind, top_k=5)] == [
            (r.id, round(r.score, 5), r.why) for r in first.search(query, kind=kind, top_k=5)
        ]
    assert again.search("rainwater", filters=Filters(sdg=6), top_k=1)[0].id == "s-rainwater"


def test_a_damaged_search_index_or_snapshot_cache_is_rebuilt(tmp_path, embedder, caplog):
    store = KnowledgeStore(tmp_path / "store", embedder)
    store.ingest(load_catalogue([MINI_CATALOGUE]))
    expected = [r.id for r in Retriever(store, embedder).search("school meals from local farms", top_k=3)]
    cache = store.current_generation() / "snapshot-v2"
    (saved,) = cache.glob("search-*")
    (saved / "postings.json").write_text("{not json", encoding="utf-8")
    assert [r.id for r in Retriever(store, embedder).search("school meals from local farms", top_k=3)] == expected
    assert "building it again" in caplog.text
    (cache / "records.jsonl").write_bytes(b"cut short")
    assert [r.id for r in Retriever(store, embedder).search("school meals from local farms", top_k=3)] == expected
    assert "reading the generation from Chroma" in caplog.text


def test_record_table_reads_rows_like_a_list(tmp_path, embedder):
    from knowledge.store import RecordTable

    store = KnowledgeStore(tmp_path / "store", embedder)
    store.ingest(load_catalogue([MINI_CATALOGUE]))
    table = store.snapshot().records
    assert isinstance(table, RecordTable)
    rows = list(table)
    assert len(rows) == len(table) == len(load_catalogue([MINI_CATALOGUE]))
    assert table[0] == rows[0] and table[-1] == rows[-1] and table[1:3] == rows[1:3] and table == rows
    with pytest.raises(IndexError):
        table[len(table)]


def test_a_deferred_retriever_loads_its_encoder_and_tagger_on_the_first_search(mini_store, embedder, retriever):
    """The partner web app looks records up for its pages and searches only for a declined request:
    its encoders load on that search, and rank as the eager ones do."""
    from knowledge.embedder import DeferredEmbedder
    from knowledge.search import Retriever
    from knowledge.services import DeferredTagger

    deferred = DeferredEmbedder(lambda: embedder)
    lazy = Retriever(mini_store, deferred, tagger=DeferredTagger(deferred), multilingual=None)
    assert lazy.get("s-rainwater").title.startswith("Rainwater") and not deferred.loaded
    found = lazy.search("water for dry villages", kind="solution", top_k=3)
    assert deferred.loaded
    assert [r.record.id for r in found] == [r.record.id for r in retriever.search("water for dry villages", kind="solution", top_k=3)]


def test_padding_is_far_below_the_best_close_match_and_lexically_thin():
    import numpy as np

    from knowledge.search import _padding

    order = np.array([0, 1, 2, 3, 4])
    close = np.array([True, True, True, True, False])
    exempt = np.array([False, False, False, True, False])
    absolute = np.array([0.55, 0.50, 0.38, 0.30, 0.20])
    bm25 = np.array([5.0, 0.0, 0.0, 0.0, 0.0])
    # 1 is near the best; 2 is far below with no words; 3 is named outright; 4 was no close match anyway
    assert _padding(order, close, exempt, absolute, bm25, 0.12).tolist() == [False, False, True, False, False]
    bm25[2] = 2.0  # with a share of the best one's words it stays
    assert not _padding(order, close, exempt, absolute, bm25, 0.12)[2]
    assert not _padding(order, np.zeros(5, dtype=bool), exempt, absolute, bm25, 0.12).any()


def test_a_record_with_a_fifth_of_the_need_s_words_a_little_below_the_best_is_padding():
    import numpy as np

    from knowledge.search import THIN_MARGIN, _padding

    order = np.array([0, 1, 2])
    close = np.ones(3, dtype=bool)
    share = np.array([0.8, 0.2, 0.6])  # the best has most of the words; 1 has one word of five
    absolute = np.array([0.50, 0.40, 0.40])
    assert _padding(order, close, np.zeros(3, dtype=bool), absolute, share, THIN_MARGIN, share_of_best=False).tolist() == [False, True, False]
    absolute[1] = 0.45  # close to the best in meaning: not padding
    assert not _padding(order, close, np.zeros(3, dtype=bool), absolute, share, THIN_MARGIN, share_of_best=False).any()


def test_partners_named_in_arabic_russian_or_french_are_recognised(retriever, tmp_path):
    # the names the organisations publish in other languages (knowledge/data/partner_names_i18n.json),
    # with Arabic clitics and Russian case endings
    assert [p.id for p in retriever.named_partners("أود التواصل مع تيكا")] == ["p-tika"]
    assert [p.id for p in retriever.named_partners("Расскажите про ТИКА")] == ["p-tika"]
    assert [p.id for p in retriever.named_partners("Parlez-moi de l'Agence turque de coopération et de coordination")] == ["p-tika"]
    assert retriever.named_partners("подробнее о проекте") == [] and retriever.named_partners("مشروع في كينيا") == []
    from knowledge.search import foreign_partner_names

    broken = tmp_path / "names.json"
    broken.write_text("{not json")
    assert foreign_partner_names(broken) == []  # a broken file leaves the English names working
