"""`make chat`: a terminal conversation with the running assistant over its REST channel.
Buttons are listed with numbers; type the number to press one."""
from __future__ import annotations

import sys
import uuid

import requests

from knowledge.settings import settings


def main() -> int:
    url = f"{settings().rasa_url}/webhooks/rest/webhook"
    sender = f"terminal-{uuid.uuid4().hex[:8]}"
    print(f"Talking to {url} (Ctrl-D or /quit to leave).")
    buttons: list[dict] = []
    while True:
        try:
            text = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if text in ("/quit", "/exit"):
            return 0
        if text.isdigit() and 1 <= int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        try:
            reply = requests.post(url, json={"sender": sender, "message": text}, timeout=60)
            reply.raise_for_status()
        except requests.RequestException as exc:
            print(f"(the assistant is not reachable: {exc}. Is `make run` running?)", file=sys.stderr)
            continue
        buttons = []
        for message in reply.json():
            if message.get("text"):
                print(f"bot> {message['text']}")
            if message.get("image"):
                print(f"bot> [image] {message['image']}")
            for button in message.get("buttons", []):
                buttons.append(button)
                print(f"     [{len(buttons)}] {button['title']}")


if __name__ == "__main__":
    raise SystemExit(main())
