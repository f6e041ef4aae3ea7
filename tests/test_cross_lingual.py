"""Cross-lingual retrieval and FAQ: needs written in French, Russian or Arabic find the right
English record of a small real catalogue through the multilingual encoder, English ranking is
exactly what it was without it, and `why` never cites English words the user did not write."""
from __future__ import annotations

import numpy as np
import pytest

from knowledge.catalogue import load_catalogue
from knowledge.multilingual import INDEX_FILE, query_language, shared_encoder, write_index
from knowledge.search import Retriever
from knowledge.store import KnowledgeStore
from knowledge.text import words
from tests.conftest import MINI_CATALOGUE


@pytest.fixture(scope="module")
def encoder():
    return shared_encoder()


@pytest.fixture(scope="module")
def xl_store(tmp_path_factory, embedder, encoder):
    store = KnowledgeStore(tmp_path_factory.mktemp("xl-store"), embedder, encoder)
    store.ingest(load_catalogue([MINI_CATALOGUE]))
    return store


@pytest.fixture(scope="module")
def xl_retriever(xl_store, embedder, encoder):
    from knowledge.sdg import SdgTagger

    return Retriever(xl_store, embedder, tagger=SdgTagger(embedder), multilingual=encoder)


@pytest.mark.parametrize(
    ("query", "kind", "expected", "language"),
    [
        ("nos villages manquent d'eau chaque été", "solution", "s-rainwater", "fr"),
        ("des repas à l'école achetés aux petits agriculteurs du coin", "solution", "s-school-meals", "fr"),
        ("l'agence mexicaine de coopération internationale", "partner", "p-amexcid", "fr"),
        ("банки донорского грудного молока для недоношенных детей", "solution", "s-milk-banks", "ru"),
        ("учёт трудовых мигрантов, уезжающих на работу за границу", "solution", "s-e-gov", "ru"),
        ("تدريب الجدات في القرى على تركيب الألواح الشمسية", "solution", "s-solar-mamas", "ar"),
        ("توثيق مواقع التراث المشتركة على طريق الحرير وترشيحها معاً للتراث العالمي", "solution", "s-heritage", "ar"),
    ],
)
def test_a_need_in_another_language_finds_the_english_record(xl_retriever, query, kind, expected, language):
    results = xl_retriever.search(query, kind=kind, top_k=3)
    assert results[0].id == expected
    assert results[0].language == language
    assert results[0].close_match


def test_english_ranking_is_unchanged_by_the_multilingual_index(xl_store, xl_retriever, embedder):
    from knowledge.sdg import SdgTagger

    english_only = Retriever(xl_store, embedder, tagger=SdgTagger(embedder), multilingual=None)
    assert xl_retriever.cross_lingual and not english_only.cross_lingual
    for query, kind in [
        ("our villages run dry every summer", "solution"),
        ("water scarcity in Kenya", "solution"),
        ("premature babies need donated breast milk", "solution"),
        ("who works on renewable energy?", "partner"),
        ("tell me about TIKA", "partner"),
    ]:
        with_index = xl_retriever.search(query, kind=kind, top_k=5)
        without = english_only.search(query, kind=kind, top_k=5)
        assert [(r.id, round(r.score, 9), r.why, r.close_match) for r in with_index] == [
            (r.id, round(r.score, 9), r.why, r.close_match) for r in without
        ]
        assert all(r.language == "en" for r in with_index)


def test_why_cites_only_what_a_foreign_query_says(xl_retriever):
    for query in ("nos villages de la région manquent d'eau", "de l'eau pour les villages du Kenya", "банки грудного молока", "الطاقة الشمسية في القرى"):
        for result in xl_retriever.search(query, top_k=5):
            said = set(words(query))
            assert all(term in said for term in result.matched_terms), (query, result.why)
            assert "'de'" not in result.why


def test_a_foreign_query_naming_a_country_or_a_goal_number_is_explained_by_them(xl_retriever):
    (first, *_) = xl_retriever.search("de l'eau pour les villages du Kenya", top_k=3)
    assert first.id == "s-rainwater"
    assert "Kenya" in first.why
    (first, *_) = xl_retriever.search("проекты по ЦУР 7: солнечные инженеры", top_k=3)
    assert first.id == "s-solar-mamas"
    assert "SDG 7" in first.why


def test_a_country_named_in_its_own_language_and_case_counts_like_an_english_name(xl_retriever):
    for query in ("вода для деревень в Кении", "المياه لقرى كينيا", "de l'eau pour les villages kényans"):
        (first, *_) = xl_retriever.search(query, top_k=3)
        assert first.id == "s-rainwater", query
        assert "Kenya" in first.why, (query, first.why)


@pytest.mark.parametrize(
    ("query", "countries", "regions"),
    [
        ("проекты в Казахстане и Узбекистане", {"KAZ", "UZB"}, set()),
        ("بالمغرب وتونس", {"MAR", "TUN"}, set()),
        ("des solutions en Afrique de l'Ouest", set(), {"africa"}),
        ("опыт стран СНГ", set(), {"europe_cis"}),
        ("في أمريكا اللاتينية", set(), {"latin_america_caribbean"}),
        ("énergie au Sénégal", {"SEN"}, set()),
    ],
)
def test_foreign_mentions(query, countries, regions):
    from knowledge.search import _mentions

    found_countries, found_regions = _mentions(query, True)
    assert countries <= found_countries and regions <= found_regions, (found_countries, found_regions)


def test_english_queries_never_read_the_foreign_names():
    from knowledge.search import _mentions

    assert _mentions("grenade injuries in conflict zones", False) == (frozenset(), frozenset())
    assert _mentions("grenade injuries in conflict zones", True)[0] == {"GRD"}  # French for Grenada


def test_a_foreign_query_naming_a_goal_by_its_name_counts_that_goal(xl_retriever):
    assert 2 in xl_retriever._query_sdgs("objectif Faim zéro au Kenya", _no_filters(), use_tagger=False, language="fr")
    assert 2 not in xl_retriever._query_sdgs("Faim zéro", _no_filters(), use_tagger=False, language="en")


def _no_filters():
    from knowledge.search import Filters

    return Filters()


def test_a_foreign_need_the_catalogue_does_not_cover_is_no_close_match(xl_retriever):
    for query in ("programme de lancement de satellites spatiaux", "лицензирование атомных электростанций", "إنشاء سوق للأوراق المالية"):
        results = xl_retriever.search(query, top_k=3)
        assert results and not results[0].close_match, (query, results[0].dense)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("find a solution for water scarcity", "en"),
        ("TIKA", "en"),
        ("nos villages manquent d'eau potable", "fr"),
        ("нужен solar project для деревни", "ru"),
        ("مشروع للطاقة الشمسية", "ar"),
        ("👍👍", "und"),
        ("12345", "und"),
    ],
)
def test_query_language(text, language):
    assert query_language(text) == language


def test_imports_reuse_the_vectors_of_unchanged_records(tmp_path, encoder):
    class Counting:
        dimension = 512
        texts = 0

        def encode(self, texts, *, batch_size=64, progress=False):
            Counting.texts += len(texts)
            return encoder.encode(texts, batch_size=batch_size)

    records = [("a", "h1", ["solar lamps for villages"]), ("b", "h2", ["school meals", "from local farms"])]
    assert write_index(tmp_path, records, Counting()) == {"encoded": 2, "reused": 0}
    assert Counting.texts == 3
    changed = [("a", "h1", ["solar lamps for villages"]), ("b", "h3", ["school meals bought locally"]), ("c", "h4", ["milk banks"])]
    assert write_index(tmp_path, changed, Counting()) == {"encoded": 2, "reused": 1}
    assert Counting.texts == 5


def test_a_store_without_the_encoder_drops_a_stale_index(tmp_path, embedder, encoder):
    records = load_catalogue([MINI_CATALOGUE])
    KnowledgeStore(tmp_path, embedder, encoder).ingest(records)
    store = KnowledgeStore(tmp_path, embedder)
    assert store.snapshot().multilingual is not None
    store.ingest(records[:-1], sync=True)  # an English-only import: its vectors would go stale
    assert not (store.current_generation() / INDEX_FILE).exists()
    snapshot = store.snapshot()
    assert snapshot.multilingual is None
    assert not Retriever(store, embedder).cross_lingual
    assert np.isfinite(snapshot.embeddings).all()


@pytest.fixture(scope="module")
def faq(embedder, encoder):
    from knowledge.faq import FaqIndex
    from knowledge.settings import DATA_DIR

    return FaqIndex.from_file(DATA_DIR / "faq.jsonl", embedder, encoder)


@pytest.mark.parametrize(
    ("question", "picked", "confidence", "answered"),
    [
        # The ResponseSelector's pick is confirmed across languages...
        ("Quand la plateforme Galaxy a-t-elle été lancée ?", "galaxy_launch", 0.4, "galaxy_launch"),
        ("Как предложить своё решение для Galaxy?", "submit_solution", 0.7, "submit_solution"),
        ("كيف أسجل منظمتي في المنصة؟", "register_organisation", 0.5, "register_organisation"),
        # ... a wrong pick gives way to the entry the question is clearly about ...
        ("Что такое South-South Galaxy?", "pgtf_amount", 0.3, "what_is_galaxy"),
        # ... and a question the FAQ does not cover gets no answer.
        ("Какой курс доллара сегодня?", "cost_fees", 0.3, None),
        ("ما هي أفضل وصفة للكسكس؟", "cost_fees", 0.3, None),
    ],
)
def test_faq_check_across_languages(faq, question, picked, confidence, answered):
    match = faq.check(question, picked, confidence)
    assert (match.entry.id if match else None) == answered


def test_a_restart_reading_the_snapshot_cache_keeps_cross_lingual_search(tmp_path, embedder, encoder):
    KnowledgeStore(tmp_path, embedder, encoder).ingest(load_catalogue([MINI_CATALOGUE]))
    first = KnowledgeStore(tmp_path, embedder).snapshot()  # reads Chroma, writes the cache
    again = KnowledgeStore(tmp_path, embedder).snapshot()  # a restarted server: from the cache
    assert first.multilingual is not None and again.multilingual is not None
    assert [r.id for r in again.records] == [r.id for r in first.records]
    assert Retriever(KnowledgeStore(tmp_path, embedder), embedder).cross_lingual


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Celui sur l'eau de pluie : quels pays ?", "s-rainwater"),
        ("Et celui sur les repas scolaires, qui le finance ?", "s-school-meals"),
        ("А тот, где бабушки ставят солнечные панели?", "s-solar-mamas"),
        ("the rainwater one?", None),  # English: the words of the records decide, not the encoder
    ],
)
def test_a_reference_in_another_language_is_the_listed_record_the_encoder_puts_clearly_closest(xl_retriever, text, expected):
    from types import SimpleNamespace

    from actions.dialogue import DialogueState
    from actions.records import listed_across_languages
    from tests.conftest import make_tracker

    listed = ["s-rainwater", "s-school-meals", "s-solar-mamas"]
    slots = {"last_query": "villages", "last_kind": "solution", "last_results": listed, "shown_ids": listed, "result_offset": 0.0}
    state = DialogueState.of(make_tracker(text, slots=slots))
    assert listed_across_languages(SimpleNamespace(retriever=xl_retriever), state, text) == expected
