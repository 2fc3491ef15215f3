"""A fake broker for the replay and feed tests: a real HTTP server on 127.0.0.1 that records every
``POST /v1/tracks`` and answers as ``respond`` decides."""

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


@dataclass
class Received:
    path: str
    token: str
    states: list[dict[str, Any]]


class FakeBroker:
    """``received`` holds every request in order; ``respond`` may be changed while it runs."""

    def __init__(self, respond: Respond = accept_all) -> None:
        self.received: list[Received] = []
        self.respond = respond
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                outer.received.append(Received(self.path, token, body["states"]))
                status, doc = outer.respond(token, body["states"])
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
