"""`make chat`: a terminal conversation with the running assistant over its REST channel.
Buttons are listed with numbers; type the number to press one. The assistant answers in the language
you write in (English, French, Russian, Arabic); `--language fr` or `/lang fr` chooses one.

The REST channel is for trusted integrations: this uses REST_CHANNEL_TOKEN (or the one `make run`
generated into the state directory) and a session the server issues."""
from __future__ import annotations

import argparse
import json
import sys

import requests

from knowledge.settings import Settings, secret, settings


class RestConversation:
    """One conversation over the REST channel: the server issues the session, the token opens the channel."""

    def __init__(self, config: Settings, *, timeout: float = 60) -> None:
        base = f"{config.rasa_url}/webhooks/rest"
        self.url = f"{base}/webhook"
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {secret(config, 'rest_channel_token')}"
        self._session_url = f"{base}/session"
        self.session_id = ""

    def send(self, text: str) -> list[dict]:
        if not self.session_id:
            issued = self.http.post(self._session_url, timeout=self.timeout)
            issued.raise_for_status()
            self.session_id = issued.json()["session_id"]
        reply = self.http.post(self.url, json={"sender": self.session_id, "message": text}, timeout=self.timeout)
        if reply.status_code == 429:  # the rate limit's friendly reply
            return reply.json()
        reply.raise_for_status()
        return reply.json()


LANGUAGES = ("en", "fr", "ru", "ar")


def switch_payload(language: str) -> str:
    """The same language-independent payload as the widget's selector."""
    return "/switch_language" + json.dumps({"language": language}, separators=(",", ":"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Terminal conversation with the running assistant.")
    parser.add_argument("--language", choices=LANGUAGES, help="reply language to start with (default: the one you write in)")
    args = parser.parse_args(argv)
    conversation = RestConversation(settings())
    print(f"Talking to {conversation.url} (Ctrl-D or /quit to leave; /lang fr|ru|ar|en changes the reply language).")
    buttons: list[dict] = []
    pending = [switch_payload(args.language)] if args.language else []
    while True:
        if pending:
            text = pending.pop()
        else:
            try:
                text = input("you> ").strip()
            except (EOFError, KeyboardInterrupt):
                print()
                return 0
        if text in ("/quit", "/exit"):
            return 0
        if text.startswith("/lang"):
            code = text[len("/lang"):].strip().lower()
            if code not in LANGUAGES:
                print(f"(languages: {', '.join(LANGUAGES)})")
                continue
            text = switch_payload(code)
        if text.isdigit() and 1 <= int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        try:
            replies = conversation.send(text)
        except requests.RequestException as exc:
            print(f"(the assistant is not reachable: {exc}. Is `make run` running?)", file=sys.stderr)
            continue
        buttons = []
        for message in replies:
            if message.get("text"):
                print(f"bot> {message['text']}")
            if message.get("image"):
                print(f"bot> [image] {message['image']}")
            for button in message.get("buttons", []):
                buttons.append(button)
                print(f"     [{len(buttons)}] {button['title']}")


if __name__ == "__main__":
    raise SystemExit(main())
