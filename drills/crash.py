"""The crash drill: ``deconflict serve`` killed with SIGKILL at random moments while parties file.

Filers post notices through the party client (``deconflict.clients.party``), each under its own
``Idempotency-Key``, and retry every failure that is the server's (not reached, 5xx) with the same
key and body until they get a reply; a killer thread sends SIGKILL to the server a random moment
after each start and starts it again on the same port. At the end the server is stopped, the log
exported with ``deconflict audit export`` and checked:

- ``deconflict audit verify --key`` passes on it (the chain, the signed head, every receipt in it);
- every receipt a filer holds verifies with the broker's key, and the event it names is in the log
  with its hash (the filing was not lost);
- the log holds exactly one ``notice.filed`` per Idempotency-Key, each the notice of a receipt
  held (nothing was filed twice).

Run (docs/deploy.md): ``python drills/crash.py --store sqlite --kills 100`` or ``--store postgres``
(a schema of its own in ``--pg``'s database, dropped afterwards). Exit status 0 when every check
passed, 1 with each failure printed. ``tests/integration/test_crash_drill.py`` runs a short form.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deconflict.adapters.keys import load_existing_key
from deconflict.clients.party import BrokerClient
from deconflict.clients.responses import ClientError
from deconflict.domain.audit import Receipt, verify_receipt
from deconflict.domain.times import format_time

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the test loads this file by its path

from processes import EXE, free_port, kill, pg_schema, serve_env, start_serve, stop, wait_serving

PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
START_TIMEOUT_S = 120.0
"""How long a start may take before the drill gives up (a loaded 2-core machine takes seconds)."""
PARTIES = ("us-af", "ru-vks")


@dataclass
class Figures:
    store: str
    kills: int = 0
    filings: int = 0
    retries: int = 0
    ready_s: list[float] = field(default_factory=list)
    """Seconds from each restart's exec to ``/readyz`` 200."""
    elapsed_s: float = 0.0
    failures: list[str] = field(default_factory=list)

    def quantile(self, q: float) -> float:
        ordered = sorted(self.ready_s)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    def summary(self) -> str:
        return (
            f"{self.store}: {self.kills} kills, {self.filings} filings, {self.retries} retries, "
            f"ready after restart p50 {self.quantile(0.5):.2f} s p99 {self.quantile(0.99):.2f} s "
            f"(max {max(self.ready_s, default=float('nan')):.2f} s, mean "
            f"{statistics.fmean(self.ready_s) if self.ready_s else float('nan'):.2f} s), "
            f"{self.elapsed_s:.0f} s in all: " + ("OK" if not self.failures else f"{len(self.failures)} FAILURES")
        )


class Server:
    """``deconflict serve`` on one port of loopback, started and killed again and again."""

    def __init__(self, db_url: str, workdir: Path) -> None:
        self.db_url = db_url
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = workdir / "theater.toml"
        self.config.write_text(f'[audit]\nkey_file = "{workdir / "broker.key"}"\n')
        self.env = serve_env()
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def cli(self, *args: str) -> str:
        """A ``deconflict`` command on the drill's store; its stdout (exit status other than 0 raises)."""
        r = subprocess.run(
            [EXE, *args, "--db", self.db_url, "--config", str(self.config)],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            raise RuntimeError(f"deconflict {' '.join(args)} exited {r.returncode}: {r.stderr[-2000:]}")
        return r.stdout

    def start(self) -> float:
        """Start it and wait for ``/readyz``; the seconds that took."""
        self.starts += 1
        log = self.workdir / f"serve-{self.starts:04d}.log"
        began = time.monotonic()
        args = ["--port", str(self.port), "--db", self.db_url, "--config", str(self.config)]
        self.proc = start_serve(args, self.workdir, self.env, log)
        with BrokerClient(self.url, None, timeout_s=5) as probe:

            def ready() -> bool:
                try:
                    probe.ready()
                except ClientError:
                    return False
                return True

            wait_serving(self.proc, ready, log, START_TIMEOUT_S, 0.02)
        return time.monotonic() - began

    def kill(self) -> None:
        assert self.proc is not None
        kill(self.proc, START_TIMEOUT_S)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, START_TIMEOUT_S)


def notice(rng: random.Random, area: int) -> dict[str, Any]:
    """A one-circle notice an hour from now somewhere in a 2° square of its own for each party
    (``area``): other parties' notices never meet it, so the theater's probe budget (50 a day of
    filings that meet another party's) does not stop the drill."""
    now = time.time()
    lat, lng = 30 + 3 * area + rng.random() * 2, 36 + rng.random() * 2
    return {
        "volumes": [
            {
                "volume": {
                    "outline_circle": {"center": {"lat": lat, "lng": lng}, "radius": {"value": 5, "units": "KM"}},
                    "altitude_lower": {"value": 3000, "reference": "AMSL", "units": "M"},
                    "altitude_upper": {"value": 6000, "reference": "AMSL", "units": "M"},
                },
                "time_start": {"value": format_time(now + 3600), "format": "RFC3339"},
                "time_end": {"value": format_time(now + 7200), "format": "RFC3339"},
            }
        ]
    }


class Filer(threading.Thread):
    """One party filing notices one after another, each retried under its key until it is answered."""

    def __init__(self, url: str, token: str, name: str, area: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.party, self.area, self.stop_after = url, token, name, area, stop
        self.rng = random.Random(area)
        self.receipts: dict[str, dict[str, Any]] = {}
        """Idempotency-Key → the receipt its reply carried."""
        self.retries = 0
        self.error: str | None = None

    def run(self) -> None:
        with BrokerClient(self.url, self.token, timeout_s=15) as client:
            i = 0
            while not self.stop_after.is_set() and self.error is None:
                key = f"{self.party}-{i:06d}"
                self._file(client, key, notice(self.rng, self.area))
                i += 1

    def _file(self, client: BrokerClient, key: str, body: dict[str, Any]) -> None:
        give_up = time.monotonic() + START_TIMEOUT_S * 2
        while True:
            try:
                self.receipts[key] = client.file(body, idempotency_key=key)["receipt"]
                return
            except ClientError as e:
                if not (e.network or e.status == 429) or time.monotonic() > give_up:
                    self.error = f"{key}: {e.line()}"
                    return
                self.retries += 1
                time.sleep(0.05)


def run(
    store: str,
    kills: int,
    workdir: Path,
    db_url: str,
    *,
    filers: int = 2,
    seed: int = 1,
    up_s: tuple[float, float] = (0.3, 2.0),
    say: bool = False,
) -> Figures:
    """The drill on ``db_url``: ``kills`` SIGKILLs, each a random ``up_s`` after the server was ready."""
    figures = Figures(store)
    rng = random.Random(seed)
    began = time.monotonic()
    server = Server(db_url, workdir)
    tokens = {name: server.cli("party", "add", name, "--role", "party").strip() for name in PARTIES[:filers]}
    server.start()
    stop = threading.Event()
    threads = [Filer(server.url, tokens[n], n, i, stop) for i, n in enumerate(tokens)]
    try:
        for t in threads:
            t.start()
        for k in range(kills):
            time.sleep(rng.uniform(*up_s))
            server.kill()
            figures.kills += 1
            figures.ready_s.append(server.start())
            if say:
                print(f"kill {k + 1}/{kills}: ready again in {figures.ready_s[-1]:.2f} s", file=sys.stderr)
        time.sleep(rng.uniform(*up_s))  # the last restart serves filings too
    finally:
        stop.set()
        for t in threads:
            t.join(START_TIMEOUT_S * 3)
        server.stop()
    figures.failures += [f"filer {t.party}: {t.error}" for t in threads if t.error]
    receipts = {k: r for t in threads for k, r in t.receipts.items()}
    figures.filings = len(receipts)
    figures.retries = sum(t.retries for t in threads)
    figures.failures += check(server, receipts)
    figures.elapsed_s = time.monotonic() - began
    return figures


def check(server: Server, receipts: dict[str, dict[str, Any]]) -> list[str]:
    """What is wrong with the store's log, given the receipts the filers hold (nothing: ``[]``)."""
    failures = []
    export = server.workdir / "export.json"
    server.cli("audit", "export", "--out", str(export))
    public = load_existing_key(server.workdir / "broker.key").public_key_b64()
    verify = subprocess.run([EXE, "audit", "verify", str(export), "--key", public], capture_output=True, text=True)
    if verify.returncode != 0:
        failures.append(f"audit verify exited {verify.returncode}: {(verify.stdout + verify.stderr)[-2000:]}")
    doc = json.loads(export.read_text())
    events = {e["seq"]: e for e in doc["events"]}
    for key, raw in receipts.items():
        receipt = Receipt.from_json(raw)
        if not verify_receipt(receipt, public):
            failures.append(f"{key}: the receipt does not verify with the broker's key")
        event = events.get(receipt.log_seq)
        if event is None or event["hash"] != receipt.log_hash:
            failures.append(f"{key}: receipt for seq {receipt.log_seq} but the log does not hold that event: LOST")
    filed = [e["payload"]["notice"]["id"] for e in doc["events"] if e.get("type") == "notice.filed"]
    held = {r["notice_id"] for r in receipts.values()}
    if len(filed) != len(set(filed)):
        failures.append("a notice id was filed twice")
    if len(filed) != len(receipts):
        failures.append(f"{len(filed)} notices filed for {len(receipts)} Idempotency-Keys: a key was filed twice")
    failures += [f"{nid}: filed, but no filer holds its receipt" for nid in sorted(set(filed) - held)]
    return failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="python drills/crash.py")
    ap.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--kills", type=int, default=100, help="SIGKILLs (default 100)")
    ap.add_argument("--filers", type=int, default=2, choices=(1, 2), help="parties filing at once (default 2)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--pg",
        default=os.environ.get("DECONFLICT_TEST_PG_URL", PG_DEFAULT_URL),
        help="PostgreSQL database for --store postgres (a schema of its own is made in it)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, export)")
    a = ap.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="deconflict-crash-"))
    if a.store == "sqlite":
        figures = run(
            "SQLite", a.kills, workdir, f"sqlite:///{workdir / 'drill.sqlite'}", filers=a.filers, seed=a.seed, say=True
        )
    else:
        with pg_schema(a.pg) as url:
            figures = run("PostgreSQL", a.kills, workdir, url, filers=a.filers, seed=a.seed, say=True)
    for f in figures.failures:
        print(f"FAILED: {f}")
    print(figures.summary())
    print(f"work directory: {workdir}" if a.keep else "", end="\n" if a.keep else "")
    if not a.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if figures.failures else 0


if __name__ == "__main__":
    sys.exit(main())
