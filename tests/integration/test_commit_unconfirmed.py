"""A COMMIT whose wait for the synchronous standby is cancelled is never reported as done.

PostgreSQL, asked to cancel a session that waits for its synchronous standby, ends the wait with a
WARNING and answers the COMMIT as if it were done, the transaction on the primary alone (a failover
would lose it). The broker must not answer such a filing with its receipt. A throwaway PostgreSQL
server of its own (``initdb``, run as the ``postgres`` user) names a standby that never comes
(``synchronous_standby_names``), so that every COMMIT waits; the test cancels the filing's session
while it waits. Needs root and the PostgreSQL server binaries, like the failover drill; it fails
saying which is missing unless ``DECONFLICT_SKIP_POSTGRES=1``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from api_support import free_port
from cluster import pg_bin_dir
from replica_support import wait_for

from builders import circle_volume, file
from deconflict.adapters.sql.store import open_store
from deconflict.domain.audit import BrokerKey
from deconflict.domain.errors import CommitUnconfirmed
from deconflict.domain.parties import Role
from deconflict.services.broker import Broker

pytestmark = pytest.mark.postgres


def _as_postgres(*cmd: str) -> None:
    r = subprocess.run(
        ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *cmd],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
    )
    assert r.returncode == 0, f"{cmd[0]}: {r.stderr.decode() or r.stdout.decode()}"


@pytest.fixture
def waiting_server() -> Iterator[str]:
    """A PostgreSQL server whose COMMITs wait for a standby named ``nosuch`` that never connects
    (``synchronous_commit = local`` by default for the setup; a session that sets it ``on`` waits);
    its base URL."""
    if os.environ.get("DECONFLICT_SKIP_POSTGRES") == "1":
        pytest.skip("DECONFLICT_SKIP_POSTGRES=1")
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.fail("needs root and setpriv (util-linux) to run a PostgreSQL server as the postgres user")
    bin_dir = pg_bin_dir()  # the failover drill's: the newest server under /usr/lib/postgresql
    home = Path(tempfile.mkdtemp(prefix="dcf-syncrep-"))  # pytest's own folder is root's alone (0700)
    data = home / "pg"
    data.mkdir()
    shutil.chown(home, "postgres", "postgres")
    shutil.chown(data, "postgres", "postgres")
    _as_postgres(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    port = free_port()
    opts = (
        f"-p {port} -c listen_addresses=127.0.0.1 -k {data} -c synchronous_standby_names=nosuch "
        "-c synchronous_commit=local -c fsync=off"
    )
    log = str(home / "server.log")  # the server's output there, not in this process's pipes
    _as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", log, "-o", opts, "-w", "-t", "60", "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        _as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(home, ignore_errors=True)


def test_a_filing_whose_standby_wait_is_cancelled_is_not_answered_as_filed(waiting_server: str) -> None:
    setup = open_store(waiting_server)  # migrated and parties added with synchronous_commit = local
    key = BrokerKey.generate()
    party, _ = Broker(setup, lambda: 1_443_571_200.0, key).add_party("us-af", Role.PARTY)
    setup.close()
    store = open_store(waiting_server + "?options=-csynchronous_commit%3Don", upgrade=False)
    broker = Broker(store, lambda: 1_443_571_200.0, key)
    v = circle_volume(35.3, 36.6, 8000, "2015-09-30T07:30:00Z", "2015-09-30T10:30:00Z", 3000, 8000, reference="AMSL")
    outcome: list[object] = []

    def filing() -> None:
        try:
            outcome.append(file(broker, party, {"id": "held", "volumes": [v]}))
        except Exception as e:
            outcome.append(e)

    t = threading.Thread(target=filing)
    t.start()
    admin = sa.create_engine(waiting_server, poolclass=sa.NullPool)
    try:
        with admin.connect() as c:
            waiting = "SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep'"
            pid = wait_for("a COMMIT waiting for the standby", lambda: c.execute(sa.text(waiting)).scalar(), 30)
            c.execute(sa.text("SELECT pg_cancel_backend(:pid)"), {"pid": pid})
        t.join(30)
        assert not t.is_alive()
        assert len(outcome) == 1 and isinstance(outcome[0], CommitUnconfirmed), outcome
        assert "synchronous replication" in str(outcome[0])
        with admin.connect() as c:  # it does stand on the primary: the answer was not a lie of "not filed"
            assert c.execute(sa.text("SELECT count(*) FROM notices")).scalar() == 1
    finally:
        admin.dispose()
        store.close()
