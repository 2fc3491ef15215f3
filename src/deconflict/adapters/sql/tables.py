"""The SQL schema as SQLAlchemy Core tables: what the store reads and writes.

Migrations (``migrations/versions``) are the only source of the schema in a database; this module
describes the same tables for queries, and a test checks that the two agree. Everything is portable
SQL (SQLite, PostgreSQL, CockroachDB): text, integers, doubles and booleans, no geometry types.
Times are float epoch seconds (UTC), as everywhere in the domain.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

notices = sa.Table(
    "notices",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("party", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("protected", sa.Boolean, nullable=False),
    sa.Column("received_at", sa.Double, nullable=True),
    sa.Column("time_start", sa.Double, nullable=False),
    sa.Column("time_end", sa.Double, nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # the current version as JSON: see codec.py
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
    sa.Index(None, "party"),
    sa.Index(None, "state"),
    sa.Index("ix_notices_created_at_id", "created_at", "id"),  # the list's pages (migration 0007)
)
"""The current version of every notice (live or not)."""

notice_versions = sa.Table(
    "notice_versions",
    metadata,
    sa.Column("notice_id", sa.Text, sa.ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", sa.Double, nullable=True),
)
"""Every version of every notice, written once and never overwritten."""

volumes = sa.Table(
    "volumes",
    metadata,
    sa.Column("notice_id", sa.Text, sa.ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True),
    sa.Column("time_start", sa.Double, nullable=False),
    sa.Column("time_end", sa.Double, nullable=False),
    sa.Column("alt_lower_m", sa.Double, nullable=False),
    sa.Column("alt_upper_m", sa.Double, nullable=False),
    sa.Column("alt_ref", sa.Text, nullable=False),
    sa.Column("center_lat", sa.Double, nullable=False),
    sa.Column("center_lon", sa.Double, nullable=False),
    sa.Column("bound_m", sa.Double, nullable=False),
    sa.Column("party", sa.Text, nullable=False),
    sa.Column("protected", sa.Boolean, nullable=False),
    sa.Column("live", sa.Boolean, nullable=False),
)
"""The current version's volumes, with the columns the candidate filter needs (the same ones
``VolumeIndex`` keeps in numpy columns)."""

volume_cells = sa.Table(
    "volume_cells",
    metadata,
    sa.Column("notice_id", sa.Text, primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True),
    sa.Column("bucket", sa.Integer, primary_key=True),
    sa.Column("cell", sa.BigInteger, primary_key=True),
    sa.ForeignKeyConstraint(["notice_id", "idx"], ["volumes.notice_id", "volumes.idx"], ondelete="CASCADE"),
    # The 4D index: one B-tree seek per (time bucket, cell key range). It carries the volume's key
    # too, so a probe reads the index only (covering).
    sa.Index("ix_volume_cells_bucket_cell", "bucket", "cell", "notice_id", "idx"),
)
"""(time bucket, S2 cell key) pairs of live volumes, as in :mod:`deconflict.domain.cells`. The
primary key starts with the volume, which serves re-indexing (delete by notice)."""

conflicts = sa.Table(
    "conflicts",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("notice_a", sa.Text, sa.ForeignKey("notices.id"), nullable=False),
    sa.Column("party_a", sa.Text, nullable=False),
    sa.Column("version_a", sa.Integer, nullable=False),
    sa.Column("volume_a", sa.Integer, nullable=False),
    sa.Column("notice_b", sa.Text, sa.ForeignKey("notices.id"), nullable=False),
    sa.Column("party_b", sa.Text, nullable=False),
    sa.Column("version_b", sa.Integer, nullable=False),
    sa.Column("volume_b", sa.Integer, nullable=False),
    sa.Column("protected_site", sa.Boolean, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),  # VolumeConflict as JSON, its area as GeoJSON
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("detected_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
    sa.Column("resolved_at", sa.Double, nullable=True),
    sa.Column("protected_side", sa.Text, nullable=True),  # "a", "b" or NULL: which side is the site
    sa.Index(None, "notice_a"),
    sa.Index(None, "notice_b"),
    sa.Index(None, "state"),
)

filing_lock = sa.Table(
    "filing_lock",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("n", sa.BigInteger, nullable=False),
)
"""One row (id 1). Filing transactions update it first, so they serialize on its row lock
(PostgreSQL) or the database write lock (SQLite) until they commit."""

heartbeat = sa.Table(
    "heartbeat",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("cycle_at", sa.Double, nullable=True),
)
"""One row (id 1): when a tactical detection cycle last ran, in any process on this store (the
latest of them). A starting broker logs it, so that a report does not count the time no broker
watched as time an aircraft spent inside a volume or out of conformance."""

parties = sa.Table(
    "parties",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("coalition", sa.Text, nullable=True),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("revoked_at", sa.Double, nullable=True),
)

credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),  # SHA-256 of the bearer token: never the token
    sa.Column("party", sa.Text, sa.ForeignKey("parties.name"), nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("revoked_at", sa.Double, nullable=True),
    sa.Index(None, "party"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("time", sa.Double, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # canonical JSON
    sa.Column("payload_digest", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.Text, nullable=False),
    sa.Column("hash", sa.Text, nullable=False),
)
"""The append-only, hash-chained event log (see :mod:`deconflict.domain.audit`). Writers append
while holding the filing lock, so sequence numbers follow commit order and readers that poll
``seq > last`` never skip one."""

receipts = sa.Table(
    "receipts",
    metadata,
    sa.Column("notice_id", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("party", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # the signed receipt as JSON
    sa.Column("log_seq", sa.BigInteger, nullable=False),  # the event it signs for (also in the body)
    sa.Index(None, "party"),
    sa.Index(None, "party", "log_seq"),
    sa.Index(None, "log_seq"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("party", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("request_digest", sa.Text, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("response", sa.Text, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
)

conflict_acks = sa.Table(
    "conflict_acks",
    metadata,
    sa.Column("conflict_id", sa.Text, sa.ForeignKey("conflicts.id"), primary_key=True),
    sa.Column("party", sa.Text, primary_key=True),
    sa.Column("acked_at", sa.Double, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
)

webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("party", sa.Text, sa.ForeignKey("parties.name"), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),  # needed in clear to sign each delivery
    sa.Column("cursor", sa.BigInteger, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.Double, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
)

disclosure_rules = sa.Table(
    "disclosure_rules",
    metadata,
    sa.Column("viewer", sa.Text, primary_key=True),
    sa.Column("subject", sa.Text, primary_key=True),
    sa.Column("level", sa.Text, nullable=False),
)
"""Directed rules set by the admin at run time (observer grants, pair levels); they win over the
theater configuration's pairs."""

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, nullable=False),  # one open alert per key (pair, or aircraft and volume)
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("parties", sa.Text, nullable=False),  # JSON list
    sa.Column("body", sa.Text, nullable=False),  # JSON: sides, geometry, volume, as of the last change
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("detected_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
    sa.Column("cleared_at", sa.Double, nullable=True),
    sa.Index(None, "state"),
    sa.Index("ix_alerts_detected_at_id", "detected_at", "id"),
)

alert_parties = sa.Table(
    "alert_parties",
    metadata,
    sa.Column("alert_id", sa.Text, sa.ForeignKey("alerts.id"), primary_key=True),
    sa.Column("party", sa.Text, primary_key=True),
    sa.Index(None, "party"),
)
"""Which parties an alert concerns, so a party's list is one index look-up."""

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("thread_id", sa.Text, nullable=False),  # the id of the thread's first message
    sa.Column("in_reply_to", sa.Text, nullable=True),
    sa.Column("sender", sa.Text, nullable=False),  # a party, or "broker" for the threads it opens
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("priority", sa.Text, nullable=False),
    sa.Column("ref_kind", sa.Text, nullable=True),  # "notice", "conflict", "alert"
    sa.Column("ref_id", sa.Text, nullable=True),
    sa.Column("auto", sa.Boolean, nullable=False),
    sa.Column("sent_at", sa.Double, nullable=False),
    sa.Index("ix_messages_sent_at_id", "sent_at", "id"),
    sa.Index(None, "thread_id"),
    sa.Index(None, "sender"),
    sa.Index(None, "ref_kind", "ref_id"),
)
"""Hotline messages, written once."""

message_recipients = sa.Table(
    "message_recipients",
    metadata,
    sa.Column("message_id", sa.Text, sa.ForeignKey("messages.id"), primary_key=True),
    sa.Column("party", sa.Text, primary_key=True),
    sa.Column("deadline", sa.Double, nullable=True),
    sa.Column("received_at", sa.Double, nullable=True),
    sa.Column("understood_at", sa.Double, nullable=True),
    sa.Column("escalations", sa.Integer, nullable=False),
    sa.Column("next_escalation_at", sa.Double, nullable=True),  # NULL: nothing left to escalate
    sa.Index(None, "party"),
    sa.Index(None, "next_escalation_at"),
)
"""Each recipient's acknowledgement and escalation state."""

sa.Index("ix_events_type_time", events.c.type, events.c.time)
sa.Index("ix_events_type_actor_time", events.c.type, events.c.actor, events.c.time)  # a party's charges (0008)
