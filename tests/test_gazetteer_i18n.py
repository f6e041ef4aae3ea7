"""The gazetteer in French, Russian and Arabic: inflected and prefixed country, region and SDG names,
SDG numbers (Arabic-Indic digits too), ordinals and the dialogue's closed vocabularies."""
from __future__ import annotations

import pytest

from knowledge.closed_values import assign_roles, closed_entities
from knowledge.names_i18n import i18n_entities, normalise
from bot.nlu.gazetteer_patterns import regex_entities


def _found(text: str) -> list[tuple[str, object, str]]:
    return [(e["entity"], e["value"], text[e["start"] : e["end"]]) for e in i18n_entities(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Russian cases
        ("проекты в Кении", [("country", "KEN", "Кении")]),
        ("доноры для Казахстана", [("country", "KAZ", "Казахстана")]),
        ("опыт Египта", [("country", "EGY", "Египта")]),  # fleeting vowel
        ("школы в Южной Африке", [("country", "ZAF", "Южной Африке")]),
        ("казахстанских фермеров", [("country", "KAZ", "казахстанских")]),
        ("в Латинской Америке и Карибском бассейне", [("region", "latin_america_caribbean", "Латинской Америке и Карибском бассейне")]),
        ("партнёры в Центральной Азии", [("region", "europe_cis", "Центральной Азии")]),
        ("в странах СНГ", [("region", "europe_cis", "странах СНГ")]),
        ("борьба с изменением климата", [("sdg", 13, "борьба с изменением климата")]),
        # Arabic: with and without the article, attached prepositions and conjunctions
        ("مشاريع في كينيا", [("country", "KEN", "كينيا")]),
        ("حلول بالمغرب", [("country", "MAR", "بالمغرب")]),
        ("شركاء للأردن", [("country", "JOR", "للأردن")]),
        ("وبالمغرب؟", [("country", "MAR", "وبالمغرب")]),
        ("لكينيا", [("country", "KEN", "لكينيا")]),
        ("المشاريع المصرية", [("country", "EGY", "المصرية")]),
        ("في الدول العربية", [("region", "arab_states", "الدول العربية")]),
        ("المغرب العربي", [("region", "arab_states", "المغرب العربي")]),  # the longer name wins
        ("آسيا الوسطى", [("region", "europe_cis", "آسيا الوسطى")]),
        ("العمل المناخي", [("sdg", 13, "العمل المناخي")]),
        ("الشمول المالي", []),  # "financial", not Mali
        ("فندق في عمان", []),  # Amman or Oman: left alone
        # French: elision, accents optional, demonyms inflected
        ("des projets d'Égypte", [("country", "EGY", "Égypte")]),
        ("en Egypte et l'Inde", [("country", "EGY", "Egypte"), ("country", "IND", "Inde")]),
        ("les coopératives kényanes", [("country", "KEN", "kényanes")]),
        ("Qui finance l'agriculture en Afrique de l'Ouest ?", [("region", "africa", "Afrique de l'Ouest")]),
        ("les pays d'Asie centrale", [("region", "europe_cis", "Asie centrale")]),
        ("Faim zéro", [("sdg", 2, "Faim zéro")]),
        # a common word that is also a country name needs its capital letter
        ("того же самого", []),
        ("проекты в Того", [("country", "TGO", "Того")]),
        # "عمان" alone may be Amman; with its damma it is Oman
        ("مشاريع في عمان", []),
        ("مشاريع في سلطنة عُمان", [("country", "OMN", "سلطنة عُمان")]),
        ("ليس عُمان", [("country", "OMN", "عُمان")]),
    ],
)
def test_names_with_their_inflections(text, expected):
    assert _found(text) == expected


def test_spans_taken_by_the_english_ruler_are_left_alone():
    text = "solutions in Europe and the CIS"
    assert i18n_entities(text, [(13, len(text))]) == []


def test_normalisation():
    assert normalise("الأُردُنّ") == normalise("الاردن")
    assert normalise("Ёлка") == "елка"
    assert normalise("Égypte") == "egypte"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("projets ODD 6 au Mali", [("sdg", 6)]),
        ("ODD n°13", [("sdg", 13)]),
        ("objectif six", [("sdg", 6)]),
        ("ЦУР 6 в Кении", [("sdg", 6)]),
        ("по цели 4", [("sdg", 4)]),
        ("الهدف 6", [("sdg", 6)]),
        ("الهدف ٦", [("sdg", 6)]),  # Arabic-Indic digits
        ("للهدف ١٣", [("sdg", 13)]),
        ("الهدف ۱۳", [("sdg", 13)]),  # Persian digits
        ("الهدف السادس", [("sdg", 6)]),
        ("SDG ٦", [("sdg", 6)]),
        ("ODD 18", []),
        ("le deuxième", [("ordinal", 2)]),
        ("la première", [("ordinal", 1)]),
        ("le dernier", [("ordinal", -1)]),
        ("le 3e résultat", [("ordinal", 3)]),
        ("numéro 4", [("ordinal", 4)]),
        ("второй", [("ordinal", 2)]),
        ("о третьем", [("ordinal", 3)]),
        ("последнюю", [("ordinal", -1)]),
        ("номер 2", [("ordinal", 2)]),
        ("№3", [("ordinal", 3)]),
        ("в пятницу", []),
        ("الثاني", [("ordinal", 2)]),
        ("النتيجة الثالثة", [("ordinal", 3)]),
        ("الأخير", [("ordinal", -1)]),
        ("رقم ٣", [("ordinal", 3)]),
    ],
)
def test_numbers_and_ordinals(text, expected):
    assert [(e["entity"], e["value"]) for e in regex_entities(text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("enlève le pays", [("operation", "remove"), ("scope", "country")]),
        ("sans filtres", [("operation", "clear"), ("scope", "all")]),
        ("tous les pays", [("operation", "remove"), ("scope", "place")]),
        ("убери страну", [("operation", "remove"), ("scope", "country")]),
        ("какие фильтры?", [("operation", "list"), ("scope", "all")]),
        ("احذف البلد", [("operation", "remove"), ("scope", "country")]),
        ("في العالم كله", [("operation", "remove"), ("scope", "place")]),
        ("qui l'a financé ?", [("attribute", "funders")]),
        ("кто его финансировал?", [("attribute", "funders")]),
        ("والتمويل؟", [("attribute", "funders")]),
        ("ما هي النتائج؟", [("attribute", "results")]),
        ("remove the country", [("operation", "remove"), ("scope", "country")]),  # English unchanged
    ],
)
def test_closed_vocabularies(text, expected):
    wanted = {label for label, _ in expected}
    assert [(e["entity"], e["value"]) for e in closed_entities(text) if e["entity"] in wanted] == expected


@pytest.mark.parametrize(
    ("text", "word"),
    [("au lieu de l'Afrique", "Afrique"), ("pas l'Afrique, l'Asie", "Afrique"), ("не Африка, а Азия", "Африка"), ("بدلا من أفريقيا", "أفريقيا"), ("مش أفريقيا، آسيا", "أفريقيا")],
)
def test_the_value_moved_away_from_gets_role_old(text, word):
    start = text.index(word)
    entities = assign_roles(text, [{"entity": "region", "value": "africa", "start": start, "end": start + len(word)}])
    assert entities[0].get("role") == "old"
