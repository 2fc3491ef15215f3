"""A fake broker for the replay and feed tests: a real HTTP server on 127.0.0.1 that records every
``POST /v1/tracks`` and answers as ``respond`` decides, and answers ``GET /v1/me`` as ``me`` decides
(by default: a token ``dcf_NAME`` is party NAME's, any other is refused with 401)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Respond = Callable[[str, list[dict[str, Any]]], tuple[int, Any]]
"""(token, states) → (status, body): a JSON document, or bytes sent as text."""


def accept_all(token: str, states: list[dict[str, Any]]) -> tuple[int, Any]:
    return 200, {"accepted": len(states), "rejected": []}


def me_by_token(token: str) -> tuple[int, Any]:
    """As the broker's ``GET /v1/me``: ``dcf_NAME`` is party NAME's token; anything else is unknown."""
    if token.startswith("dcf_"):
        return 200, {"party": token.removeprefix("dcf_"), "role": "party", "coalition": None}
    return 401, {"error": "unauthorized", "message": "unknown token"}


@dataclass
class Received:
    path: str
    token: str
    states: list[dict[str, Any]]


class FakeBroker:
    """``received`` holds every request in order; ``respond`` may be changed while it runs."""

    def __init__(self, respond: Respond = accept_all, me: Callable[[str], tuple[int, Any]] = me_by_token) -> None:
        self.received: list[Received] = []
        """The ``POST /v1/tracks`` requests."""
        self.asked: list[str] = []
        """The tokens of the ``GET /v1/me`` requests."""
        self.respond = respond
        self.me = me
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if self.path == "/v1/me":
                    outer.asked.append(token)
                    self.answer(*outer.me(token))
                else:
                    self.answer(404, {"detail": "Not Found"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                outer.received.append(Received(self.path, token, body["states"]))
                self.answer(*outer.respond(token, body["states"]))

            def answer(self, status: int, doc: Any) -> None:
                data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain" if isinstance(doc, bytes) else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def batches(self) -> list[list[dict[str, Any]]]:
        """The requests that carried states (a feed's first, empty one only checks the token)."""
        return [r.states for r in self.received if r.states]

    def states(self) -> list[dict[str, Any]]:
        return [s for r in self.received for s in r.states]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
