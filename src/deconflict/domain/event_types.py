"""The types of the events in the broker's log: one name per kind of change.

An :class:`EventType` is a :class:`str` whose value is the text the log stores, the stream and the
webhooks send, and the docs name (``notice.filed``). A new event type is added here, logged
through ``tx.log``, given a row in the disclosure tests, and documented (docs/audit.md,
docs/webhooks.md); ``tests/e2e/test_docs_event_types.py`` reads the members ``tx.log`` is given
and refuses docs that name a type the broker never logs.

>>> EventType.NOTICE_FILED == "notice.filed", EventType.NOTICE_FILED.family
(True, 'notice')
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    PARTY_ADDED = "party.added"
    PARTY_REVOKED = "party.revoked"
    TOKEN_ROTATED = "token.rotated"
    DISCLOSURE_SET = "disclosure.set"
    POLICY_RECORDED = "policy.recorded"
    BROKER_STARTED = "broker.started"
    KEY_ROTATED = "key.rotated"
    NOTICE_FILED = "notice.filed"
    NOTICE_UPDATED = "notice.updated"
    NOTICE_ACTIVATED = "notice.activated"
    NOTICE_ENDED = "notice.ended"
    NOTICE_CANCELLED = "notice.cancelled"
    NOTICE_PROBE_FLAGGED = "notice.probe_flagged"
    PROBE_CHARGED = "probe.charged"
    CONFLICT_CREATED = "conflict.created"
    CONFLICT_UPDATED = "conflict.updated"
    CONFLICT_RESOLVED = "conflict.resolved"
    CONFLICT_ACKNOWLEDGED = "conflict.acknowledged"
    ALERT_CREATED = "alert.created"
    ALERT_UPDATED = "alert.updated"
    ALERT_CLEARED = "alert.cleared"
    MESSAGE_SENT = "message.sent"
    MESSAGE_ACKNOWLEDGED = "message.acknowledged"
    MESSAGE_OVERDUE = "message.overdue"
    WEBHOOK_SET = "webhook.set"
    WEBHOOK_REMOVED = "webhook.removed"
    REPORT_COMPLIANCE = "report.compliance"

    @property
    def family(self) -> str:
        """What the event is about: the part before the dot."""
        return self.value.partition(".")[0]
