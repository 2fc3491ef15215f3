"""`deconflict serve` as a user runs it, in a real process: a port another process holds is refused
before anything is created; a free one serves the API."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from replica_support import EXE

START_TIMEOUT_S = 60.0
"""Generous: a loaded 2-core CI machine takes seconds to import the broker."""


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DECONFLICT_")}


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port another process (here: this one) is listening on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_a_port_in_use_is_refused_before_the_store_or_the_key_is_made(tmp_path: Path, held_port: int) -> None:
    p = subprocess.run(
        [EXE, "serve", "--port", str(held_port), "--db", str(tmp_path / "s.sqlite")],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )
    assert p.returncode == 2, (p.stdout, p.stderr)
    (line,) = p.stderr.strip().splitlines()
    assert f"127.0.0.1:{held_port}" in line and "in use" in line, line
    assert "http://" not in p.stdout  # no URL that would lead to the other process
    assert sorted(os.listdir(tmp_path)) == []  # no store, no key


def test_a_bad_host_is_refused_with_one_line(tmp_path: Path) -> None:
    p = subprocess.run(
        [EXE, "serve", "--host", "no-such-host.invalid", "--port", "8000", "--db", str(tmp_path / "s.sqlite")],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )
    assert p.returncode == 2, (p.stdout, p.stderr)
    (line,) = p.stderr.strip().splitlines()
    assert "--host no-such-host.invalid" in line, line
    assert sorted(os.listdir(tmp_path)) == []


def test_a_free_port_serves_the_api_on_the_socket_it_checked(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [EXE, "serve", "--port", str(port), "--db", str(tmp_path / "s.sqlite")],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        ready = False
        while not ready and time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                time.sleep(0.1)
        assert ready, proc.poll()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=START_TIMEOUT_S)
    assert f"API and docs: http://127.0.0.1:{port}/docs" in out
    assert (tmp_path / "s.sqlite").exists() and (tmp_path / "deconflict-broker.key").exists()


def test_a_port_out_of_range_is_refused_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from deconflict.cli import app

    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["serve", "--port", "70000", "--db", str(tmp_path / "s.sqlite")], env=clean_env())
    assert r.exit_code == 2 and r.stderr == "--port 70000: must be 0 to 65535\n", r.output
    assert sorted(os.listdir(tmp_path)) == []
