"""Just enough of the socket.io wire protocol (Engine.IO 4 over a websocket) to talk to Rasa's socket.io
channel without a browser: for input the widget never sends, and to reach it through nginx in server mode."""
from __future__ import annotations

import json

import websocket


class RawSocketIO:
    """One socket.io client session on the default namespace; `connected` says whether the channel
    accepted it (it refuses an origin it does not allow). No Origin header unless one is given."""

    def __init__(self, rasa_url: str, origin: str | None = None) -> None:
        url = rasa_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(url, timeout=60, **({"origin": origin} if origin else {"suppress_origin": True}))
        assert self.ws.recv().startswith("0")
        self.ws.send("40")
        self.connected = self.receive_packet("4").startswith("40")

    def receive_packet(self, prefix: str) -> str:
        while True:
            packet = self.ws.recv()
            if packet == "2":
                self.ws.send("3")
            elif packet.startswith(prefix):
                return packet

    def emit(self, event: str, data: dict) -> None:
        self.ws.send("42" + json.dumps([event, data]))

    def receive(self, event: str):
        while True:
            name, data = json.loads(self.receive_packet("42")[2:])
            if name == event:
                return data

    def new_session(self) -> str:
        """A session the server issues (a signed id, bot/channels/sessions.py)."""
        self.emit("session_request", {"session_id": None})
        return self.receive("session_confirm")

    def say(self, message: str, session_id: str) -> dict:
        """One user message; the first bot message of the answer."""
        self.emit("user_uttered", {"message": message, "session_id": session_id})
        return self.receive("bot_uttered")

    def close(self) -> None:
        self.ws.close()
