"""What the drills and the replica tests share about the processes they run: the ``deconflict``
command beside this Python, a free loopback port, ``deconflict serve`` started and awaited until
it answers, stopped or killed, and waiting for a condition with a deadline (never a fixed sleep).

The drills import it by its file's folder (``drills/`` on ``sys.path``, as ``python drills/x.py``
has it), the tests through pytest's ``pythonpath`` (pyproject.toml), and the benchmarks that need a
PostgreSQL schema of their own by putting the folder on ``sys.path``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

EXE = str(Path(sys.executable).with_name("deconflict"))
"""The ``deconflict`` command installed beside the running Python."""


def free_port() -> int:
    """A port of loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve_env() -> dict[str, str]:
    """This process's environment without any ``DECONFLICT_`` variable: a child reads only the
    settings its command line and configuration file give it."""
    return {k: v for k, v in os.environ.items() if not k.startswith("DECONFLICT_")}


def wait_for(
    what: str,
    check: Callable[[], Any],
    timeout_s: float,
    every_s: float = 0.02,
    describe: Callable[[], str] | None = None,
) -> Any:
    """``check()``'s first truthy answer, looked for every ``every_s`` until ``timeout_s``; then an
    :class:`AssertionError` naming ``what`` (and ``describe()``, the state at that moment)."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            said = f"; {describe()}" if describe is not None else ""
            raise AssertionError(f"{what}: not within {timeout_s:g} s{said}")
        time.sleep(every_s)


def start_serve(args: Sequence[str], workdir: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``deconflict serve *args`` in ``workdir``, its output (both streams) written to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [EXE, "serve", *args], cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT
        )  # fmt: skip


def answers_ready(url: str) -> bool:
    """Whether the server at ``url`` answers ``/readyz`` with 200 (not reached: False)."""
    try:
        return httpx.get(f"{url}/readyz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def wait_serving(
    proc: subprocess.Popen[bytes], ready: Callable[[], bool], log: Path, timeout_s: float, every_s: float
) -> None:
    """Wait until ``ready()``; a server that exits first, or is not ready within ``timeout_s``, is an
    :class:`AssertionError` with the end of its ``log``."""

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"deconflict serve exited {proc.returncode}: {log.read_text()[-3000:]}")
        return ready()

    wait_for("deconflict serve answers /readyz", up, timeout_s, every_s, lambda: log.read_text()[-3000:])


def kill(proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGKILL: no shutdown, no goodbye to the database; returns once it is gone."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout_s)


def stop(proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGTERM, and SIGKILL when it has not exited within ``timeout_s`` (nothing if it has exited)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            kill(proc, timeout_s)


@contextmanager
def pg_schema(base_url: str, prefix: str = "drill") -> Iterator[str]:
    """A URL whose connections see only a new schema of ``base_url``'s database, dropped afterwards."""
    base = sa.make_url(base_url)
    admin = sa.create_engine(base, poolclass=sa.NullPool)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except BaseException:
        admin.dispose()
        raise
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()
