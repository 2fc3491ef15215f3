"""``deconflict client watch`` and ``audit`` against a real broker on both stores: the live stream
as readable lines, resumed from the last event after the server drops the connection (the
server is stopped and started again on the same port), and the audit export verified."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from api_support import Api, Server, circle_notice, free_port
from test_client import client_env, file_pair, invoke, run

from deconflict.domain.audit import BrokerKey
from deconflict.domain.volumes import NoticeState

WAIT_S = 90.0
"""How long to wait for a line: CI is a loaded two-core machine."""


class Lines:
    """A process's output lines as they come (a thread per stream), waited for by content."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[str] = []
        self._q: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._q.put(line.rstrip("\n"))
        self._q.put(None)

    def wait_for(self, match: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + WAIT_S
        for line in self.seen:
            if match(line):
                return line
        while True:
            try:
                line = self._q.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {what} within {WAIT_S:g} s; got {self.seen}") from None
            if line is None:
                raise AssertionError(f"the output ended before {what}; got {self.seen}")
            self.seen.append(line)
            if match(line):
                return line


def restart_on_same_port(api: Api) -> None:
    """Stop the server (every open stream is dropped) and serve the same app on the same port."""
    import uvicorn

    port, app = api.server.port, api.server.server.config.app
    api.server.stop()
    again = Server.__new__(Server)
    again.port, again.url = port, api.server.url
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    for _ in range(50):  # the port can take a moment to be free again
        again.server = uvicorn.Server(config)
        again.thread = threading.Thread(target=again.server.run, daemon=True)
        again.thread.start()
        deadline = time.monotonic() + 30
        while not again.server.started and again.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if again.server.started:
            api.server = again
            return
        again.server.should_exit = True
        again.thread.join(10)
        time.sleep(0.2)
    raise AssertionError(f"could not serve on port {port} again")


def ids(lines: list[str]) -> list[int]:
    return [int(line.split()[0].removeprefix("#")) for line in lines if line.startswith("#")]


def test_watch_shows_the_conflict_and_resumes_after_the_server_drops_the_stream(api: Api, tmp_path: Path) -> None:
    assert api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-1")).status_code == 201
    proc = subprocess.Popen(
        [sys.executable, "-m", "deconflict", "client", "watch", "--after", "0"],
        env=client_env(api, "ru-vks", tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        out.wait_for(lambda s: "notice.filed ru-vks:vks-1 v1 accepted" in s, "the replayed filing")
        r = api.as_("us-af").post("/v1/notices", json=circle_notice(id="us-1"))
        [c] = r.json()["conflicts"]
        line = out.wait_for(lambda s: f"conflict.created {c['id']}" in s, "the conflict, live")
        # ru-vks sees the overlap at conflicts-only: widened outward to whole 304.8 m and 15 min steps
        assert line.endswith(
            f"conflict.created {c['id']} us-af:us-1 vol 0 ↔ ru-vks:vks-1 vol 0, 0.00 km apart, 2743–8230 m, "
            "2015-09-30 07:15 → 10:45 UTC (on the grid)"
        )
        out.wait_for(lambda s: " message.sent " in s and "from broker to ru-vks, us-af [priority]" in s, "the thread")
        before = ids(out.seen)[-1]

        restart_on_same_port(api)  # meanwhile ru-vks ends its notice
        api.broker.set_state(api.broker.party("ru-vks"), "ru-vks:vks-1", NoticeState.ENDED, None, False)

        out.wait_for(lambda s: f"conflict.resolved {c['id']}" in s, "the resolution, after the reconnection")
        note = err.wait_for(lambda s: s.startswith("stream: "), "a note of the reconnection")
        assert f"reconnecting after event {before}" in note
        seen = ids(out.seen)
        assert seen == sorted(set(seen))  # in order, none twice
        assert seen == [int(e["id"]) for e in api.events("ru-vks", after=0)]  # none missed
    finally:
        proc.terminate()
        proc.wait(30)
    assert "Traceback" not in "\n".join(err.seen)


def test_watch_as_json_lines_stops_after_count_or_idle(api: Api, tmp_path: Path) -> None:
    conflict = file_pair(api, tmp_path)
    expected = api.events("ru-vks", after=0)
    r = invoke(api, "ru-vks", tmp_path, "watch", "--after", "0", "--json", "--count", str(len(expected)))
    assert r.exit_code == 0, r.output
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert [e["id"] for e in events] == [int(e["id"]) for e in expected]
    assert {"type": "conflict.created", "id": conflict["id"]} in [
        {"type": e["type"], "id": e["data"].get("conflict", {}).get("id")} for e in events
    ]
    r = invoke(api, "ru-vks", tmp_path, "watch", "--after", str(events[-1]["id"]), "--idle", "0.5")
    assert r.exit_code == 0 and r.stdout == ""


def test_watch_without_a_broker_is_one_line(api: Api, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    r = invoke(api, "ru-vks", tmp_path, "watch", DECONFLICT_URL=url)
    assert r.exit_code == 4
    assert r.stderr == f"error: cannot reach the broker at {url}/v1/events: connection refused\n"


def test_the_audit_export_is_fetched_and_verified(api: Api, tmp_path: Path) -> None:
    file_pair(api, tmp_path)
    key = run(api, "ru-vks", tmp_path, "key")
    assert key.returncode == 0 and key.stdout.strip() == api.broker.key.public_key_b64()
    pub = tmp_path / "broker.pub"
    pub.write_text(key.stdout)
    log = tmp_path / "log.json"

    r = run(api, "ru-vks", tmp_path, "audit", "-o", str(log), "--key", str(pub))
    assert r.returncode == 0, r.stderr
    [verdict] = r.stdout.splitlines()
    assert verdict.startswith("OK: ") and "checked with the key you gave" in verdict
    assert json.loads(log.read_text())["head"]["seq"] == api.broker.last_seq()
    # the file it kept verifies with the local command too
    local = subprocess.run(
        [sys.executable, "-m", "deconflict", "audit", "verify", str(log), "--key", str(pub)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert local.returncode == 0 and local.stdout.startswith("OK: "), local.stdout + local.stderr

    other = BrokerKey.generate().public_key_b64()
    r = invoke(api, "ru-vks", tmp_path, "audit", "--key", other)
    assert r.exit_code == 1 and r.stdout.splitlines()[-1].startswith("FAILED: ")
    # Without --key the export is only consistent with the key it carries: exit 3, as `audit verify`.
    r = invoke(api, "ru-vks", tmp_path, "audit")
    assert r.exit_code == 3 and r.stdout.startswith("UNTRUSTED KEY: ")
    r = invoke(api, "ru-vks", tmp_path, "audit", "--key", str(tmp_path / "missing.pub"))
    assert r.exit_code == 2 and r.stderr.startswith("--key: ")
