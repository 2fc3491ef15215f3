"""``deconflict serve --workers N`` (cli/serve_workers.py): N processes on one port and one PostgreSQL
act as one broker; a worker that dies is started again; SIGTERM stops them all. Refused on SQLite."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path

import httpx
import pytest
from api_support import free_port
from processes import answers_ready, serve_env, start_serve, wait_serving
from replica_support import (
    EXE,
    START_TIMEOUT_S,
    WAIT_S,
    add_parties,
    notice_now,
    wait_for,
    write_config,
)

from deconflict.adapters.sql.store import open_store
from deconflict.domain.parties import Role


def worker_pids(parent: int) -> set[int]:
    """The workers ``parent`` started (multiprocessing spawns them; its resource tracker is left out)."""
    out = subprocess.run(["pgrep", "-P", str(parent), "-f", "spawn_main"], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


def test_workers_need_postgresql(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.sqlite'}"

    def serve(workers: int) -> subprocess.CompletedProcess[str]:
        args = [EXE, "serve", "--db", db, "--port", str(free_port()), "--workers", str(workers)]
        return subprocess.run(
            args, capture_output=True, text=True, env=serve_env(), cwd=tmp_path, timeout=START_TIMEOUT_S
        )

    r = serve(2)
    assert r.returncode == 2
    assert "--workers 2: needs PostgreSQL" in r.stderr
    r = serve(0)
    assert r.returncode == 2 and "--workers 0: must be 1 to 64" in r.stderr


@pytest.mark.postgres
def test_two_workers_serve_as_one_broker_and_a_dead_one_comes_back(pg_url: str, tmp_path: Path) -> None:
    open_store(pg_url).close()  # migrated, for the parties
    tokens = add_parties(pg_url, [("red", Role.PARTY), ("blue", Role.PARTY)])
    config = write_config(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    args = ["--port", str(port), "--db", pg_url, "--config", str(config), "--workers", "2"]
    proc = start_serve(args, tmp_path, serve_env(), log)
    workers: set[int] = set()
    try:
        wait_serving(proc, lambda: answers_ready(url), log, START_TIMEOUT_S, 0.1)
        workers = wait_for("two workers", lambda: w if len(w := worker_pids(proc.pid)) == 2 else None)

        def leaders() -> set[int]:
            """/leaderz on fresh connections: 200 from the leader, 503 from the other worker."""
            return {httpx.get(f"{url}/leaderz", timeout=10).status_code for _ in range(20)}

        wait_for("both workers answer, one of them leading", lambda: leaders() == {200, 503}, START_TIMEOUT_S)

        # Filings from several clients at once, answered by either worker.
        errors: list[str] = []

        def file(k: int) -> None:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['red']}"}, timeout=30) as c:
                for i in range(5):
                    r = c.post("/v1/notices", json=notice_now(35.0 + k * 0.5, 36.0 + i * 0.5, f"w{k}-{i}"))
                    if r.status_code != 201:
                        errors.append(r.text)

        filers = [threading.Thread(target=file, args=(k,)) for k in range(4)]
        for th in filers:
            th.start()
        for th in filers:
            th.join(WAIT_S * 4)
        assert not errors

        # Blue's stream (served by one worker) hears of blue's filing (made through a new connection,
        # whichever worker takes it), and that filing finds red's w0-0 (filed through either).
        answers: list[httpx.Response] = []

        def blue_files() -> None:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['blue']}"}, timeout=30) as c:
                answers.append(c.post("/v1/notices", json=notice_now(35.0, 36.0, "b-1")))

        filer = threading.Thread(target=blue_files)
        with (
            httpx.Client(base_url=url, timeout=httpx.Timeout(10, read=WAIT_S)) as c,
            c.stream("GET", "/v1/events", headers={"Authorization": f"Bearer {tokens['blue']}"}) as r,
        ):
            assert r.status_code == 200
            for line in r.iter_lines():
                if line == ": caught up":
                    filer.start()
                if line.startswith("data: ") and '"blue:b-1"' in line:
                    break  # the stream's connection closes here
        filer.join(WAIT_S)
        assert answers and answers[0].status_code == 201, answers
        assert [c["sides"][1]["notice"] for c in answers[0].json()["conflicts"]] == ["red:w0-0"]

        # A worker killed outright is started again, and the broker answers all along.
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        wait_for(
            "the dead worker replaced",
            lambda: len(w := worker_pids(proc.pid)) == 2 and victim not in w,
            START_TIMEOUT_S,
            0.1,
        )
        wait_for("both workers answer again", lambda: leaders() == {200, 503}, START_TIMEOUT_S)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(START_TIMEOUT_S)
    assert proc.returncode == 0
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # every worker stopped with the parent
