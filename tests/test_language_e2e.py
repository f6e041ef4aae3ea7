"""End to end over REST (real Rasa with the trained model, real action server): a conversation in
French, Russian or Arabic is answered in that language, the `language` slot follows it, a switch
works, and a language the assistant does not speak gets the English list of the four."""
from __future__ import annotations

import pytest

from harness.stack import texts

pytestmark = pytest.mark.e2e


def slot(stack, sender: str, name: str):
    return stack.tracker(stack.conversation_id(stack.session(sender)))["slots"].get(name)


@pytest.mark.parametrize(
    ("switch", "language", "confirmation", "help_opening"),
    [
        ("en français svp", "fr", "Entendu, je vous répondrai désormais en français.", "Je peux :"),
        ("по-русски, пожалуйста", "ru", "Хорошо, теперь я буду отвечать по-русски.", "Я могу:"),
        ("بالعربية من فضلك", "ar", "حسنًا، سأجيبك بالعربية من الآن فصاعدًا.", "يمكنني:"),
    ],
)
def test_a_switch_then_short_messages_stay_in_that_language(stack, switch, language, confirmation, help_opening):
    sender = f"e2e-lang-{language}"
    assert confirmation in texts(stack.send(switch, sender=sender))
    assert slot(stack, sender, "language") == language
    # "help" is too short to tell a language: the conversation keeps its own
    assert texts(stack.send("help", sender=sender)).startswith(help_opening)
    assert slot(stack, sender, "language") == language


@pytest.mark.parametrize(
    ("message", "language", "openings"),
    [
        ("Je cherche des solutions pour la pénurie d'eau dans les villages", "fr",
         ("Voici les ", "Je n'ai trouvé", "Je ne suis pas certain", "Désolé", "Bonjour")),
        ("Мы ищем решения для водоснабжения сельских районов", "ru",
         ("Вот результаты", "Близких совпадений", "По запросу", "Боюсь, я вас", "Извините", "Здравствуйте")),
        ("نبحث عن حلول لمشكلة ندرة المياه في القرى", "ar",
         ("إليك ", "لم أجد", "لست متأكدًا", "عذرًا", "مرحبًا")),
    ],
)
def test_a_message_in_french_russian_or_arabic_is_answered_in_it(stack, message, language, openings):
    sender = f"e2e-written-{language}"
    reply = texts(stack.send(message, sender=sender))
    assert reply.startswith(openings), reply[:300]
    assert slot(stack, sender, "language") == language


def test_a_language_we_do_not_speak_gets_english_and_the_four(stack):
    sender = "e2e-lang-es"
    reply = stack.send("hola, quiero soluciones para el agua potable en mi pueblo", sender=sender)
    assert texts(reply).startswith("Sorry, I can only reply in English, French, Russian and Arabic")
    assert [b["title"] for m in reply for b in m.get("buttons", [])] == ["English", "Français", "Русский", "العربية"]
    assert slot(stack, sender, "language") == "en"


@pytest.mark.parametrize("message", ["👍", "privet, ishchu resheniya dlya vody", "marhaba, abhath an hulul lilmiyah", "ok"])
def test_emoji_and_transliterations_get_a_sensible_reply(stack, message):
    reply = stack.send(message, sender=f"e2e-odd-{message[:6]}")
    assert texts(reply).strip()
