"""The statements of every filing and every request, built once with bound parameters.

SQLAlchemy builds a statement and its cache key again each time one is written inline
(``sa.select(t.notices.c.body).where(t.notices.c.id == notice_id)``): on this project's 2-core
machine about 75 µs against 23 µs for the same statement built once (SQLite; 276 against 166 µs on
PostgreSQL, where the round trip is most of the rest). A filing runs about 25 statements, so the
ones on its path, and those of authentication, are built here once and given their values when
run; what the database sees is the same SQL. Statements whose shape depends on their arguments
(lists, pages, reports) stay where they are used.
"""

from __future__ import annotations

import sqlalchemy as sa

from deconflict.adapters.sql import tables as t
from deconflict.domain.disclosure import NOTICE_EVENTS

_n, _e, _p, _c, _k = t.notices, t.events, t.parties, t.conflicts, t.idempotency_keys

LOCK = sa.update(t.filing_lock).where(t.filing_lock.c.id == 1).values(n=t.filing_lock.c.n + 1)
"""Take the filing lock (the one row every writer updates first)."""

NOTICE_BODY = sa.select(_n.c.body).where(_n.c.id == sa.bindparam("id"))
NOTICE_OWNER = sa.select(_n.c.party, _n.c.protected).where(_n.c.id == sa.bindparam("id"))
NOTICE_BODIES = sa.select(_n.c.id, _n.c.body).where(_n.c.id.in_(sa.bindparam("ids", expanding=True)))
INSERT_NOTICE = sa.insert(_n)
INSERT_VERSION = sa.insert(t.notice_versions)
INSERT_VOLUMES = sa.insert(t.volumes)

_either = sa.or_(_c.c.notice_a == sa.bindparam("id"), _c.c.notice_b == sa.bindparam("id"))
CONFLICTS_OF = sa.select(_c).where(_either)
CONFLICTS_IN_STATE = sa.select(_c).where(_either, _c.c.state == sa.bindparam("state"))
INSERT_CONFLICT = sa.insert(_c)

LAST_EVENT = sa.select(_e).order_by(_e.c.seq.desc()).limit(1)
LAST_SEQ = sa.select(sa.func.max(_e.c.seq))
INSERT_EVENTS = sa.insert(_e)
INSERT_RECEIPT = sa.insert(t.receipts)
EVENT_TIMES = (
    sa.select(_e.c.time)
    .where(
        _e.c.type == sa.bindparam("type"),
        _e.c.actor == sa.bindparam("actor"),
        _e.c.time > sa.bindparam("since"),
        _e.c.time < sa.bindparam("until"),
    )
    .order_by(_e.c.time.desc())
    .limit(sa.bindparam("limit"))
)


def _notice_ids_since(dialect: str) -> sa.Select[tuple[str | None]]:
    # The id is read by the database: a notice event carries the whole notice (100 kB for the
    # heaviest), which decoded here would cost the filing milliseconds under the filing lock.
    if dialect == "postgresql":
        nid = sa.func.json_extract_path_text(sa.cast(_e.c.payload, sa.JSON), "notice", "id")
    else:
        nid = sa.func.json_extract(_e.c.payload, "$.notice.id")
    # Only the events after seq, by the key: with the type in the WHERE clause SQLite searched
    # the (type, time) index for every notice event ever logged instead (tests/integration/
    # test_log_reads_scale.py). The type is tested in the select list, where it picks no index:
    # only notice events' payloads are read.
    notice_id = sa.case((_e.c.type.in_(sorted(NOTICE_EVENTS)), nid), else_=sa.null())
    return sa.select(notice_id).where(_e.c.seq > sa.bindparam("seq"))


_NOTICE_IDS_SINCE = {d: _notice_ids_since(d) for d in ("postgresql", "sqlite")}


def notice_ids_since(dialect: str) -> sa.Select[tuple[str | None]]:
    """The ids of the notices changed after a log position (``seq``), for a dialect by name (any
    other than PostgreSQL is given SQLite's ``json_extract``)."""
    return _NOTICE_IDS_SINCE["postgresql" if dialect == "postgresql" else "sqlite"]


PARTY = sa.select(_p).where(_p.c.name == sa.bindparam("name"))
PARTIES = sa.select(_p).order_by(_p.c.name)
PARTY_FOR_TOKEN = (
    sa.select(_p)
    .join(t.credentials, t.credentials.c.party == _p.c.name)
    .where(
        t.credentials.c.token_hash == sa.bindparam("token_hash"),
        t.credentials.c.revoked_at.is_(None),
        _p.c.revoked_at.is_(None),
    )
)
DISCLOSURE_RULES = sa.select(t.disclosure_rules)
IDEMPOTENT_RESPONSE = sa.select(_k).where(_k.c.party == sa.bindparam("party"), _k.c.key == sa.bindparam("key"))
INSERT_IDEMPOTENT = sa.insert(_k)

INSERT_MESSAGES = sa.insert(t.messages)
INSERT_RECIPIENTS = sa.insert(t.message_recipients)
