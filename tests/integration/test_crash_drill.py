"""The crash drill's short form (docs/deploy.md, drills/crash.py): ``deconflict serve`` killed with
SIGKILL five times while two parties file under Idempotency-Keys with retries; afterwards every
receipt held is in the log, no key was filed twice, and ``audit verify`` passes. On both stores."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _drill() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_drill", ROOT / "drills" / "crash.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


crash = _drill()
KILLS = 5


def _check(figures: Any) -> None:
    assert figures.failures == [], figures.failures
    assert figures.kills == KILLS
    # The filers kept filing across the kills, and some of their requests met a dead server.
    assert figures.filings >= 2 * KILLS, figures.summary()
    assert figures.retries > 0, figures.summary()
    print(figures.summary())


def test_crash_drill_sqlite(tmp_path: Path) -> None:
    figures = crash.run("SQLite", KILLS, tmp_path, f"sqlite:///{tmp_path / 'drill.sqlite'}", up_s=(0.3, 1.2))
    _check(figures)


@pytest.mark.postgres
def test_crash_drill_postgres(tmp_path: Path) -> None:
    if os.environ.get("DECONFLICT_SKIP_POSTGRES") == "1":
        pytest.skip("DECONFLICT_SKIP_POSTGRES=1")
    with crash.pg_schema(os.environ.get("DECONFLICT_TEST_PG_URL", crash.PG_DEFAULT_URL)) as url:
        figures = crash.run("PostgreSQL", KILLS, tmp_path, url, up_s=(0.3, 1.2))
    _check(figures)


def test_the_drill_finds_a_lost_filing(tmp_path: Path) -> None:
    """The drill's check is not blind: a receipt whose event is not in the log, and a filing no
    receipt covers (as a retry filed twice would leave), are both reported."""
    server = crash.Server(f"sqlite:///{tmp_path / 'drill.sqlite'}", tmp_path)
    token = server.cli("party", "add", "us-af", "--role", "party").strip()
    server.start()
    try:
        filer = crash.Filer(server.url, token, "us-af", 0, crash.threading.Event())
        with crash.BrokerClient(server.url, token) as client:
            for i in range(3):
                filer._file(client, f"k{i}", crash.notice(filer.rng, 0))
    finally:
        server.stop()
    receipts = dict(filer.receipts)
    assert len(receipts) == 3 and crash.check(server, receipts) == []
    forged = {**receipts["k0"], "log_seq": 10_000}
    failures = crash.check(server, {**receipts, "k0": forged})
    assert any("LOST" in f for f in failures), failures
    assert any("does not verify" in f for f in failures), failures
    del receipts["k1"]
    failures = crash.check(server, receipts)
    assert any("a key was filed twice" in f for f in failures), failures
    assert any("no filer holds its receipt" in f for f in failures), failures
