"""The failover drill: the broker on a three-node Patroni cluster (drills/cluster.py) keeps every
filing it acknowledged through the faults Patroni's own acceptance tests make.

    python drills/failover.py --rounds 3                  # all five faults, three rounds each
    python drills/failover.py --faults primary-kill,standby-kill --rounds 1 --json out.json

Needs root (network namespaces), Debian's ``patroni`` and ``etcd-server``; run on a machine (or
container) of its own: it makes a bridge and three namespaces, and removes them when it ends.

``deconflict serve`` runs in the root namespace on the multi-host URL (``target_session_attrs=
read-write``: libpq connects to whichever node accepts writes). Bounded concurrent filers (``--filers``)
file notices, each with its own ``Idempotency-Key``; an attempt that got no answer, a timeout, a 503
or a 429 is retried with the same key and body until it is acknowledged (201, or the replayed 201).
Every signed receipt is kept. Each round waits for a healthy cluster and a flowing stream of
filings, makes its fault, lifts it (for the faults that last) and waits for the cluster to heal.

Then, on the cluster as it ends:

- ``deconflict audit export`` of the final log, checked by ``deconflict audit verify`` against the
  broker's key, once as exported and once with every receipt the filers kept in place of the
  export's own: each receipt's event is in the final log with the hash the receipt names (a receipt
  issued on a timeline that was later cut off would name a hash that is not there);
- every acknowledged key's notice is logged filed exactly once, and no key was filed twice;
- the log on every node is the log on the primary (no node kept a forked timeline).

Per fault it reports the longest stretch without an acknowledged filing, when it ended (the first
filing acknowledged after the fault: the time to recover), the filings acknowledged in the round,
the attempts that failed and those that stalled (took longer than :data:`STALL_S`).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster import TTL_S, Cluster, ClusterUnavailable, Node
from filers import Broker, Filers, verify_final

FAULTS = ("primary-kill", "patroni-stop", "etcd-stop", "link-cut", "standby-kill")
HOLD_S = TTL_S + 5
"""How long the lasting faults (a stopped process, a cut link) last: past Patroni's leader TTL, so
that the cluster must act on them."""
STALL_S = 2.0
HEAL_TIMEOUT_S = 120.0


@dataclass
class Round:
    fault: str
    round: int
    target: str
    gap_s: float
    """The longest stretch without an acknowledged filing, from the fault to the round's end."""
    recover_s: float
    """From the fault to the end of that stretch: the first filing acknowledged after it."""
    filings: int
    failed_attempts: int
    stalled_attempts: int
    max_attempt_s: float
    primary_after: str


def make_fault(cluster: Cluster, fault: str) -> tuple[Node, Callable[[], None] | None]:
    """Make ``fault``; the node it hit and what lifts it (``None``: the cluster mends it itself)."""
    primary = cluster.primary()
    assert primary is not None
    if fault == "primary-kill":
        cluster.signal_postmaster(primary, signal.SIGKILL)
        return primary, None
    if fault == "standby-kill":
        standby = cluster.sync_standby()
        assert standby is not None, cluster.describe()
        cluster.signal_postmaster(standby, signal.SIGKILL)
        return standby, None
    if fault == "patroni-stop":
        cluster.signal_patroni(primary, signal.SIGSTOP)
        return primary, lambda: cluster.signal_patroni(primary, signal.SIGCONT)
    if fault == "etcd-stop":
        cluster.signal_etcd(signal.SIGSTOP)
        return primary, lambda: cluster.signal_etcd(signal.SIGCONT)
    if fault == "link-cut":
        cluster.link(primary, up=False)
        return primary, lambda: cluster.link(primary, up=True)
    raise ValueError(f"--faults: unknown fault {fault!r}; one of {', '.join(FAULTS)}")


def run_round(cluster: Cluster, filers: Filers, fault: str, n: int, log: Callable[[str], None]) -> Round:
    cluster.wait("a healthy cluster before the fault", cluster.healthy, HEAL_TIMEOUT_S)
    mark = time.monotonic()
    cluster.wait("filings acknowledged before the fault", lambda: filers.acknowledged_since(mark) >= 3, 60)
    t0 = time.monotonic()
    node, lift = make_fault(cluster, fault)
    log(f"{fault} #{n}: {node.name} hit; {cluster.describe()}")
    if lift is not None:
        time.sleep(HOLD_S)  # the fault lasts; nothing is waited for, the clock is the point
        lift()
        log(f"{fault} #{n}: lifted after {HOLD_S} s")
    healed_from = time.monotonic()
    cluster.wait(
        f"filings acknowledged after {fault}", lambda: filers.acknowledged_since(healed_from) >= 1, HEAL_TIMEOUT_S
    )
    cluster.wait(f"the cluster healed after {fault}", cluster.healthy, HEAL_TIMEOUT_S)
    end = time.monotonic()
    cluster.wait("a filing after the round", lambda: filers.acknowledged_since(end) >= 1, HEAL_TIMEOUT_S)
    end = time.monotonic()
    acks = [t for t in filers.ack_times() if t0 <= t <= end]
    gap, gap_end, prev = 0.0, t0, t0
    for t in [*acks, end]:
        if t - prev > gap:
            gap, gap_end = t - prev, t
        prev = t
    attempts = filers.attempts_between(t0, end)
    primary = cluster.primary()
    return Round(
        fault=fault,
        round=n,
        target=node.name,
        gap_s=round(gap, 2),
        recover_s=round(gap_end - t0, 2),
        filings=len(acks),
        failed_attempts=sum(1 for a in attempts if not a.ok),
        stalled_attempts=sum(1 for a in attempts if a.seconds > STALL_S),
        max_attempt_s=round(max((a.seconds for a in attempts), default=0.0), 2),
        primary_after=primary.name if primary else "?",
    )


@dataclass
class Outcome:
    rounds: list[Round]
    receipts: int
    keys_started: int
    problems: list[str]


def drill(
    faults: list[str],
    rounds: int,
    n_filers: int = 4,
    log: Callable[[str], None] = print,
    keep_logs: Path | None = None,
) -> Outcome:
    """Run the drill; ``problems`` is empty when nothing acknowledged was lost (see the module)."""
    for f in faults:
        if f not in FAULTS:
            raise ValueError(f"--faults: unknown fault {f!r}; one of {', '.join(FAULTS)}")
    with Cluster(keep_logs=keep_logs) as cluster:
        log(f"cluster up: {cluster.describe()}")
        with Broker(cluster.url(), cluster.dir / "broker") as broker:
            filers = Filers(broker.url, broker.token, n_filers)
            done: list[Round] = []
            unhealed: list[str] = []
            try:
                for fault, n in ((f, n) for f in faults for n in range(1, rounds + 1)):
                    try:
                        r = run_round(cluster, filers, fault, n, log)
                    except AssertionError as e:  # the cluster did not heal: say so, then check what was kept
                        unhealed.append(f"{fault} #{n}: {e}")
                        log(f"  {unhealed[-1]}")
                        break
                    log(f"  {asdict(r)}")
                    done.append(r)
            finally:
                filers.stop(HEAL_TIMEOUT_S)
            cluster.wait("a primary at the end", lambda: cluster.primary() is not None, HEAL_TIMEOUT_S)
            problems = unhealed + filers.problems + verify_final(cluster, broker, filers)
            return Outcome(done, len(filers.receipts), filers.keys_started, problems)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--faults", default=",".join(FAULTS), help="comma-separated, of: " + ", ".join(FAULTS))
    p.add_argument("--rounds", type=int, default=1, help="rounds of each fault")
    p.add_argument("--filers", type=int, default=4, help="concurrent filers")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--logs", type=Path, help="keep the logs of etcd, Patroni, PostgreSQL and the broker here")
    a = p.parse_args(argv)

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)  # the cluster is torn down on the way out

    for sig in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: a shell's background job ignores it
        signal.signal(sig, interrupted)
    start = time.monotonic()
    try:
        out = drill([f.strip() for f in a.faults.split(",") if f.strip()], a.rounds, a.filers, keep_logs=a.logs)
    except ClusterUnavailable as e:
        print(f"failover drill: {e}", file=sys.stderr)
        return 2
    print(f"\n{out.receipts} receipts kept of {out.keys_started} keys, {time.monotonic() - start:.0f} s in all")
    print("| fault | round | hit | recover s | longest gap s | filings | failed | stalled | slowest s |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in out.rounds:
        print(
            f"| {r.fault} | {r.round} | {r.target} | {r.recover_s} | {r.gap_s} | {r.filings} | "
            f"{r.failed_attempts} | {r.stalled_attempts} | {r.max_attempt_s} |"
        )
    if a.json:
        a.json.write_text(json.dumps({"rounds": [asdict(r) for r in out.rounds], "receipts": out.receipts,
                                      "problems": out.problems}, indent=2))  # fmt: skip
    for problem in out.problems:
        print(f"PROBLEM: {problem}")
    print("OK: nothing acknowledged was lost" if not out.problems else f"{len(out.problems)} problems")
    return 1 if out.problems else 0


if __name__ == "__main__":
    sys.exit(main())
