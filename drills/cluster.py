"""A three-node PostgreSQL cluster under Patroni with one etcd, each PostgreSQL node in its own
network namespace, for the failover drill (docs/deploy.md, "The Patroni cluster").

Layout: a bridge ``<prefix>br`` in the root namespace at 10.<net>.0.1/24; namespaces ``<prefix>n1..3``
each joined to it by a veth pair (``eth0`` inside, at 10.<net>.0.11..13). etcd runs in the root
namespace on the bridge's address; each namespace runs Patroni as the ``postgres`` user, which runs
PostgreSQL on its namespace's address, port 5432. Everything lives in one temporary directory and
is torn down by :meth:`Cluster.close` (processes killed, namespaces and links deleted, the
directory removed), which the context manager calls even when the drill fails.

Needs root (namespaces, veth), Debian's ``patroni``, ``etcd-server`` and the PostgreSQL server
binaries (``/usr/lib/postgresql/<major>/bin``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from processes import wait_for

TTL_S = 10
"""Patroni's leader key lifetime: a primary whose Patroni cannot renew it for this long is replaced."""
LOOP_WAIT_S = 1
RETRY_TIMEOUT_S = 4
START_TIMEOUT_S = 180.0
"""Generous: bootstrap and two base backups on a loaded 2-core machine."""


class ClusterUnavailable(RuntimeError):
    """The machine cannot run the cluster (not root, no namespaces, a package missing): says which."""


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(list(cmd), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip() or r.stdout.strip()}")
    return r


def pg_bin_dir() -> Path:
    """The newest installed PostgreSQL server's binaries."""
    root = Path("/usr/lib/postgresql")
    majors = sorted((p for p in root.glob("*") if (p / "bin" / "postgres").exists()), key=lambda p: int(p.name))
    if not majors:
        raise ClusterUnavailable("no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql)")
    return majors[-1] / "bin"


def check_machine() -> None:
    """Raise :class:`ClusterUnavailable` naming what this machine lacks for the cluster."""
    if os.geteuid() != 0:
        raise ClusterUnavailable("the Patroni cluster needs root (network namespaces, veth pairs)")
    for exe, pkg in (("patroni", "patroni"), ("etcd", "etcd-server"), ("ip", "iproute2"), ("setpriv", "util-linux")):
        if shutil.which(exe) is None:
            raise ClusterUnavailable(f"{exe} is not installed (apt-get install -y {pkg})")
    pg_bin_dir()
    probe = f"dcfprobe{os.getpid()}"
    r = _run("ip", "netns", "add", probe, check=False)
    if r.returncode != 0:
        raise ClusterUnavailable(f"cannot create a network namespace: {r.stderr.strip()}")
    _run("ip", "netns", "del", probe, check=False)


@dataclass
class Node:
    name: str
    netns: str
    host: str
    dir: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.dir / "data"

    def postmaster_pid(self) -> int | None:
        """The running postmaster's pid, from its pid file (``None`` when it is not running)."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def rest(self, path: str = "patroni", timeout: float = 2.0) -> dict[str, Any] | None:
        """Patroni's REST answer for ``path`` (``None`` when it does not answer)."""
        try:
            with urllib.request.urlopen(f"http://{self.host}:8008/{path}", timeout=timeout) as r:
                out: dict[str, Any] = json.loads(r.read())
                return out
        except urllib.error.HTTPError as e:
            try:
                body: dict[str, Any] = json.loads(e.read())
                return body
            except ValueError:
                return None
        except (OSError, ValueError):
            return None


class Cluster:
    """Start with :meth:`start`; always :meth:`close` (or use ``with``)."""

    def __init__(self, prefix: str | None = None, net: int | None = None, keep_logs: Path | None = None) -> None:
        self.keep_logs = keep_logs
        """Where :meth:`close` copies the logs of etcd, Patroni and PostgreSQL (``None``: nowhere)."""
        # Per process by default: two drills on one machine (two test runs) do not meet.
        self.prefix = prefix or f"dc{os.getpid() % 100_000}"
        self.net = net or 100 + os.getpid() % 150
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.prefix}-cluster-"))
        self.bridge = f"{self.prefix}br"
        self.bridge_ip = f"10.{self.net}.0.1"
        self.nodes = [
            Node(f"pg{i}", f"{self.prefix}n{i}", f"10.{self.net}.0.{10 + i}", self.dir / f"pg{i}") for i in (1, 2, 3)
        ]
        self.etcd: subprocess.Popen[bytes] | None = None
        self.scope = f"{self.prefix}-drill"

    # -- set up -------------------------------------------------------------------------------

    def __enter__(self) -> Cluster:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def start(self) -> None:
        check_machine()
        self._teardown_network()  # what a killed earlier run left behind
        self._network()
        self._start_etcd()
        os.chmod(self.dir, 0o755)
        for node in self.nodes:
            node.dir.mkdir()
            shutil.chown(node.dir, "postgres", "postgres")
            node.dir.chmod(0o700)
            (node.dir / "patroni.yml").write_text(self._patroni_config(node))
        self.start_patroni(self.nodes[0])
        self.wait("a primary", lambda: self.primary() is not None)
        for node in self.nodes[1:]:
            self.start_patroni(node)
        self.wait("two streaming standbys, one synchronous", self.healthy)

    def _network(self) -> None:
        _run("ip", "link", "add", self.bridge, "type", "bridge")
        _run("ip", "addr", "add", f"{self.bridge_ip}/24", "dev", self.bridge)
        _run("ip", "link", "set", self.bridge, "up")
        for i, node in enumerate(self.nodes, 1):
            outside = f"{self.prefix}v{i}"
            _run("ip", "netns", "add", node.netns)
            _run("ip", "link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", node.netns)
            _run("ip", "link", "set", outside, "master", self.bridge)
            _run("ip", "link", "set", outside, "up")
            _run("ip", "-n", node.netns, "addr", "add", f"{node.host}/24", "dev", "eth0")
            _run("ip", "-n", node.netns, "link", "set", "eth0", "up")
            _run("ip", "-n", node.netns, "link", "set", "lo", "up")

    def _teardown_network(self) -> None:
        for node in self.nodes:
            _run("ip", "netns", "del", node.netns, check=False)  # takes its veth end, and the pair
        _run("ip", "link", "del", self.bridge, check=False)

    def _start_etcd(self) -> None:
        d = self.dir / "etcd"
        d.mkdir()
        client = f"http://{self.bridge_ip}:2379"
        peer = f"http://{self.bridge_ip}:2380"
        with (self.dir / "etcd.log").open("wb") as out:
            self.etcd = subprocess.Popen(
                ["etcd", "--name", "e1", "--data-dir", str(d), "--listen-client-urls", client,
                 "--advertise-client-urls", client, "--listen-peer-urls", peer,
                 "--initial-advertise-peer-urls", peer, "--initial-cluster", f"e1={peer}",
                 "--enable-v2=true"],
                stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "ETCD_UNSUPPORTED_ARCH": "arm64"},
            )  # fmt: skip

        def up() -> bool:
            try:
                with urllib.request.urlopen(f"{client}/health", timeout=2) as r:
                    return bool(json.loads(r.read()).get("health") == "true")
            except (OSError, ValueError):
                return False

        self.wait("etcd", up, 60)

    def _patroni_config(self, node: Node) -> str:
        cfg = {
            "scope": self.scope,
            "name": node.name,
            "restapi": {"listen": f"{node.host}:8008", "connect_address": f"{node.host}:8008"},
            "etcd3": {"host": f"{self.bridge_ip}:2379"},
            "bootstrap": {
                "dcs": {
                    "ttl": TTL_S,
                    "loop_wait": LOOP_WAIT_S,
                    "retry_timeout": RETRY_TIMEOUT_S,
                    "maximum_lag_on_failover": 1048576,
                    "synchronous_mode": True,
                    "synchronous_mode_strict": True,
                    "postgresql": {
                        "use_pg_rewind": True,
                        "parameters": {
                            "wal_log_hints": "on",
                            "max_connections": 100,
                            "shared_buffers": "32MB",
                            "wal_keep_size": "256MB",
                        },
                    },
                },
                "initdb": [{"encoding": "UTF8"}, "data-checksums"],
                "pg_hba": [
                    "local all all trust",
                    "host all all 0.0.0.0/0 trust",
                    "host replication all 0.0.0.0/0 trust",
                ],
            },
            "postgresql": {
                "listen": f"{node.host}:5432",
                "connect_address": f"{node.host}:5432",
                "data_dir": str(node.data_dir),
                "bin_dir": str(pg_bin_dir()),
                "pgpass": str(node.dir / "pgpass"),
                # A node that cannot rejoin by pg_rewind (its timeline diverged before the last
                # checkpoint) is cloned afresh from the primary instead of staying down.
                "remove_data_directory_on_rewind_failure": True,
                "remove_data_directory_on_diverged_timelines": True,
                "authentication": {
                    "superuser": {"username": "postgres", "password": "drill"},
                    "replication": {"username": "replicator", "password": "drill"},
                    "rewind": {"username": "postgres", "password": "drill"},
                },
                "parameters": {"unix_socket_directories": str(node.dir)},
                "pg_hba": [
                    "local all all trust",
                    "host all all 0.0.0.0/0 trust",
                    "host replication all 0.0.0.0/0 trust",
                ],
            },
            "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False, "nosync": False},
        }
        return json.dumps(cfg, indent=2)  # JSON is YAML

    def start_patroni(self, node: Node) -> None:
        with (node.dir.parent / f"{node.name}.log").open("ab") as out:
            node.proc = subprocess.Popen(
                ["ip", "netns", "exec", node.netns, "setpriv", "--reuid=postgres", "--regid=postgres",
                 "--init-groups", "patroni", str(node.dir / "patroni.yml")],
                stdout=out, stderr=subprocess.STDOUT, cwd=node.dir, start_new_session=True,
            )  # fmt: skip

    # -- state --------------------------------------------------------------------------------

    def wait(self, what: str, check: Callable[[], Any], timeout_s: float = START_TIMEOUT_S) -> Any:
        """``check()``'s first truthy answer; an :class:`AssertionError` with the members' state after ``timeout_s``."""
        return wait_for(what, check, timeout_s, 0.2, self.describe)

    def members(self) -> list[dict[str, Any]]:
        """The members as any answering Patroni lists them."""
        for node in self.nodes:
            got = node.rest("cluster", timeout=1.0)
            if got and "members" in got:
                members: list[dict[str, Any]] = got["members"]
                return members
        return []

    def describe(self) -> str:
        return (
            "; ".join(
                f"{m.get('name')} {m.get('role')} {m.get('state')} tl {m.get('timeline')} lag {m.get('lag')}"
                for m in self.members()
            )
            or "no Patroni answers"
        )

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def primary(self) -> Node | None:
        for m in self.members():
            if m.get("role") == "leader" and m.get("state") == "running":
                return self.node(m["name"])
        return None

    def sync_standby(self) -> Node | None:
        for m in self.members():
            if m.get("role") == "sync_standby" and m.get("state") in ("running", "streaming"):
                return self.node(m["name"])
        return None

    def healthy(self) -> bool:
        """A primary, and both others streaming, one of them synchronous."""
        members = [m for m in self.members() if m.get("state") in ("running", "streaming")]
        roles = sorted(m.get("role", "") for m in members)
        timelines = {m.get("timeline") for m in members}
        return roles == ["leader", "replica", "sync_standby"] and len(timelines) == 1 and None not in timelines

    def url(self, dbname: str = "postgres") -> str:
        """The broker's multi-host URL: libpq tries each host and keeps the one that accepts writes."""
        hosts = "&".join(f"host={n.host}:5432" for n in self.nodes)
        return f"postgresql+psycopg://postgres@/{dbname}?{hosts}&target_session_attrs=read-write&connect_timeout=3"

    def dsn(self, node: Node, dbname: str = "postgres") -> str:
        """A direct libpq connection string to one node."""
        return f"host={node.host} port=5432 user=postgres dbname={dbname} connect_timeout=3"

    # -- faults -------------------------------------------------------------------------------

    def signal_postmaster(self, node: Node, sig: signal.Signals) -> None:
        pid = node.postmaster_pid()
        if pid is None:
            raise RuntimeError(f"{node.name}: no postmaster running")
        os.kill(pid, sig)

    def signal_patroni(self, node: Node, sig: signal.Signals) -> None:
        assert node.proc is not None
        node.proc.send_signal(sig)

    def signal_etcd(self, sig: signal.Signals) -> None:
        assert self.etcd is not None
        self.etcd.send_signal(sig)

    def link(self, node: Node, up: bool) -> None:
        _run("ip", "-n", node.netns, "link", "set", "eth0", "up" if up else "down")

    # -- tear down ----------------------------------------------------------------------------

    def close(self) -> None:
        """Kill everything, delete the namespaces and links, remove the directory."""
        procs: list[subprocess.Popen[bytes]] = [n.proc for n in self.nodes if n.proc is not None]
        for node in self.nodes:
            if node.proc is not None and node.proc.poll() is None:
                os.killpg(node.proc.pid, signal.SIGCONT)
        if self.etcd is not None:
            procs.append(self.etcd)
            if self.etcd.poll() is None:
                self.etcd.send_signal(signal.SIGCONT)
        for node in self.nodes:
            pid = node.postmaster_pid()
            if pid is not None:
                os.kill(pid, signal.SIGKILL)  # its children exit with it (they watch the postmaster)
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait(30)
        for node in self.nodes:  # backends of a killed postmaster, if any still linger
            _kill_by_data_dir(node.data_dir)
        self._teardown_network()
        if self.keep_logs is not None:
            self.keep_logs.mkdir(parents=True, exist_ok=True)
            for f in [*self.dir.glob("*.log"), *self.dir.glob("*/*.log"), *self.dir.glob("pg*/data/log/*")]:
                shutil.copy(f, self.keep_logs / f"{f.parent.name}-{f.name}" if f.parent != self.dir else self.keep_logs)
        shutil.rmtree(self.dir, ignore_errors=True)


def _kill_by_data_dir(data_dir: Path) -> None:
    needle = str(data_dir).encode()
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            cmdline = (pid_dir / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_dir.name), signal.SIGKILL)
