"""The message catalogues (actions/messages/*.yml): every key, placeholder and button in every language,
the SDG names in each, and domain.yml's responses generated from them (python -m bot.responses_sync)."""
from __future__ import annotations

import string

import pytest

from actions.i18n import SUPPORTED, catalogue, country_name, region_label, sdg_name
from bot import responses_sync
from knowledge.geo import REGION_LABELS

OTHERS = [language for language in SUPPORTED if language != "en"]


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def problems(english: dict[str, str], other: dict[str, str]) -> list[str]:
    found = [f"missing {key}" for key in sorted(set(english) - set(other))]
    found += [f"unknown {key}" for key in sorted(set(other) - set(english))]
    for key, template in english.items():
        if key in other and placeholders(str(other[key])) != placeholders(str(template)):
            found.append(f"placeholders of {key}")
        if key in other and not str(other[key]).strip():
            found.append(f"empty {key}")
    return found


@pytest.mark.parametrize("language", OTHERS)
@pytest.mark.parametrize("section", ["texts", "names"])
def test_every_text_exists_with_the_same_placeholders(language, section):
    assert problems(catalogue("en")[section], catalogue(language)[section]) == []


@pytest.mark.parametrize("language", OTHERS)
def test_every_response_exists_with_its_placeholders_and_buttons(language):
    english = catalogue("en")["responses"]
    other = catalogue(language)["responses"]
    assert sorted(set(english) - set(other)) == [], f"missing in {language}.yml"
    assert sorted(set(other) - set(english)) == []
    for name, response in english.items():
        assert placeholders(other[name]["text"]) == placeholders(response["text"]), f"{language}:{name}"
        assert len(other[name].get("buttons") or []) == len(response.get("buttons") or []), f"{language}:{name} buttons"


def test_a_missing_key_or_placeholder_is_caught():
    """The check above fails on a broken catalogue (it is not vacuous)."""
    english = {"search.wider": "A wider search", "search.nothing": "No {noun} about {topic}"}
    assert problems(english, {"search.nothing": "Aucun {noun} sur {sujet}"}) == ["missing search.wider", "placeholders of search.nothing"]


def test_domain_responses_are_generated_from_the_catalogues():
    current = responses_sync.DOMAIN.read_text(encoding="utf-8")
    assert responses_sync.updated_domain(current) == current, "run `python -m bot.responses_sync`"


def test_domain_has_a_variation_per_language_for_every_response():
    import yaml

    responses = yaml.safe_load(responses_sync.DOMAIN.read_text(encoding="utf-8"))["responses"]
    for name, variations in responses.items():
        if name.startswith("utter_faq/"):
            continue
        conditioned = {v["condition"][0]["value"] for v in variations if v.get("condition")}
        assert conditioned == set(OTHERS), name
        assert sum(1 for v in variations if not v.get("condition")) == 1, name
        # payloads are the same in every language: intents and entities, or the same text
        payloads = {tuple(b["payload"] for b in v.get("buttons") or []) for v in variations}
        assert len(payloads) == 1, name


@pytest.mark.parametrize("language", OTHERS)
def test_sdg_region_and_country_names_are_translated(language):
    assert all(sdg_name(goal, language) != sdg_name(goal, "en") for goal in range(1, 18))
    assert all(region_label(region, language) != label for region, label in REGION_LABELS.items())
    assert country_name("EGY", language) != country_name("EGY", "en")


def test_known_names():
    assert sdg_name(6, "fr") == "Eau propre et assainissement"
    assert sdg_name(13, "ar") == "العمل المناخي"
    assert country_name("KEN", "ru") == "Кения"
    assert region_label("europe_cis", "fr") == "Europe et CEI"


@pytest.mark.parametrize("language", OTHERS)
def test_every_faq_answer_is_translated_with_its_links_and_addresses(language):
    import re

    from actions.i18n import faq_answers
    from knowledge.catalogue import load_faq
    from knowledge.settings import DATA_DIR

    entries = load_faq(DATA_DIR / "faq.jsonl")
    answers = faq_answers(language)
    assert sorted(e.id for e in entries if e.id not in answers) == []
    assert sorted(set(answers) - {e.id for e in entries}) == []
    for entry in entries:
        # links and email addresses survive translation (the labels of links may change)
        kept = set(re.findall(r"https?://[^\s)\]]+|[\w.]+@[\w.]+\w", entry.answer))
        assert kept <= set(re.findall(r"https?://[^\s)\]]+|[\w.]+@[\w.]+\w", answers[entry.id])), f"{language}:{entry.id}"
