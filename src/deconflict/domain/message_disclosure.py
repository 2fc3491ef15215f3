"""What each caller sees of a hotline message: a party is named only to those who may name it.

The hotline exists so that parties can talk about a conflict even where they may not know each
other, so the broker *delivers* every message it accepts, but it shows each viewer only the names
that viewer may know (:func:`may_name`): the sender as ``from`` (else ``null``), each recipient as
``party`` (else ``null``). A view that leaves a name out carries ``relayed: true``: the broker
passed the message between the viewer and a party it does not name to it.

Who may name whom (the same rule decides whom a sender may address by name, see
:mod:`deconflict.services.hotline`):

- oneself, the broker (``broker``) and, for the admin, everyone; the admin's parties are named to
  everyone (the operator is known to all);
- another party or authority: at ``conflicts-only`` or above, the level at which a conflict
  names the other side; at ``existence`` a party may know that something conflicts, not who;
- an observer: only through an explicit rule (or a coalition the admin made it a member of) of
  ``conflicts-only`` or above; the policy's default between parties is not a grant on observers;
- a name the broker does not know: never.

Pure, like :mod:`deconflict.domain.disclosure`, whose :class:`~deconflict.domain.disclosure.Disclosure`
methods call these functions.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from deconflict.domain.event_types import EventType
from deconflict.domain.hotline import BROKER
from deconflict.domain.parties import Party, Role

if TYPE_CHECKING:
    from deconflict.domain.disclosure import Disclosure

MESSAGE_EVENTS = frozenset({EventType.MESSAGE_SENT, EventType.MESSAGE_ACKNOWLEDGED})
"""Payload ``{"message": <full message>}`` (see :func:`deconflict.domain.hotline.message_json`);
an acknowledgement adds ``party`` and ``state``."""
OVERDUE_EVENT = EventType.MESSAGE_OVERDUE
"""Payload ``{"message": <full message>, "party": <overdue recipient>, "round", "deadline"}``."""

_HEAD_KEYS = ("id", "thread_id", "in_reply_to")
_BODY_KEYS = ("subject", "text", "priority", "ref", "auto", "sent_at")
_RECIPIENT_KEYS = ("state", "deadline", "received_at", "understood_at", "escalations", "standing")
_OBSERVED_MESSAGE_KEYS = ("id", "thread_id", "priority", "auto", "sent_at")


def may_name(d: Disclosure, viewer: Party, subject: str) -> bool:
    """Whether ``viewer`` may know party ``subject`` by name on the hotline (the module's rules)."""
    from deconflict.domain.disclosure_policy import Level  # the levels live with the policy

    if subject in (viewer.name, BROKER) or viewer.role is Role.ADMIN:
        return True
    known = d.parties.get(subject)
    if known is None:
        return False
    if known.role is Role.ADMIN:
        return True
    if known.role is Role.OBSERVER:
        granted = (viewer.name, subject) in d.policy.rules
        member = viewer.coalition is not None and viewer.coalition == known.coalition
        if not (granted or member):
            return False
    return d.level(viewer, subject) >= Level.CONFLICTS_ONLY


def names_every_recipient(d: Disclosure, viewer: Party, message: Mapping[str, Any]) -> bool:
    """Whether ``viewer`` may name every recipient of ``message``: only then is the sender's
    ``message.sent`` its own record, whole in its audit export (else a stub, like others' events)."""
    return all(may_name(d, viewer, r["party"]) for r in message["to"])


def plain_order(recipients: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recipients in an order that tells nothing the entries do not: the named ones sorted by name,
    then the unnamed ones sorted by what is shown of them (state, deadline, ...). The stored order
    (by name, or as the sender listed them) would place a hidden recipient relative to the named
    ones, and so tell whether its name sorts before the viewer's own."""
    named = sorted((r for r in recipients if r["party"] is not None), key=lambda r: str(r["party"]))
    unnamed = sorted((r for r in recipients if r["party"] is None), key=lambda r: json.dumps(r, sort_keys=True))
    return named + unnamed


def message_view(d: Disclosure, viewer: Party, message: Mapping[str, Any]) -> dict[str, Any] | None:
    """What ``viewer`` sees of a hotline message, or ``None``: the sender and the recipients see it,
    with the names they may know (:func:`may_name`); the admin sees it whole. Nobody else does
    (observers hear only of overdue acknowledgements, :func:`overdue_view`)."""
    if viewer.role is Role.ADMIN:
        return {**copy.deepcopy(dict(message)), "relayed": False}
    sender = message["from"]
    if viewer.name != sender and all(r["party"] != viewer.name for r in message["to"]):
        return None
    view: dict[str, Any] = {key: copy.deepcopy(message.get(key)) for key in _HEAD_KEYS}
    view["from"] = sender if may_name(d, viewer, sender) else None
    shown = [
        {
            "party": r["party"] if may_name(d, viewer, r["party"]) else None,
            **{key: copy.deepcopy(r.get(key)) for key in _RECIPIENT_KEYS},
        }
        for r in message["to"]
    ]
    view["to"] = plain_order(shown)
    view.update({key: copy.deepcopy(message.get(key)) for key in _BODY_KEYS})
    view["relayed"] = view["from"] is None or any(r["party"] is None for r in shown)
    return view


def _named(viewer: Party, view: Mapping[str, Any], party: str) -> bool:
    return party == viewer.name or party == view["from"] or any(r["party"] == party for r in view["to"])


def message_event_view(d: Disclosure, viewer: Party, type: str, payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """A ``message.*`` event as ``viewer`` sees it (the admin: whole); ``party`` (the acknowledging or
    overdue recipient) is named only where the viewer's view of the message names it."""
    if viewer.role is Role.ADMIN:
        return copy.deepcopy(dict(payload))
    if type == OVERDUE_EVENT:
        return overdue_view(d, viewer, payload)
    message = message_view(d, viewer, payload["message"])
    if message is None:
        return None
    out: dict[str, Any] = {"message": message}
    if "party" in payload:
        out["party"] = payload["party"] if _named(viewer, message, payload["party"]) else None
        out["state"] = payload.get("state")
    return out


def overdue_view(d: Disclosure, viewer: Party, payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """An overdue acknowledgement goes to the sender, to the recipient, and to every observer (and
    the admin). An observer learns that a message went unanswered, when and how urgent it was;
    it sees a party named only where :func:`may_name` lets it (a ``conflicts-only`` grant), and the
    subject and text only where it sees the sender ``full``."""
    from deconflict.domain.disclosure_policy import Level

    message: Mapping[str, Any] = payload["message"]
    extra = {"round": payload.get("round"), "deadline": payload.get("deadline")}
    if viewer.role is not Role.OBSERVER:
        if viewer.name not in (message["from"], payload["party"]):
            return None  # another recipient's lateness is between it and the sender
        view = message_view(d, viewer, message)
        if view is None:
            return None
        party = payload["party"] if _named(viewer, view, payload["party"]) else None
        return {"message": view, "party": party, **extra}
    sender = message["from"]

    def name(p: str) -> str | None:
        return p if may_name(d, viewer, p) else None

    out: dict[str, Any] = {k: copy.deepcopy(message.get(k)) for k in _OBSERVED_MESSAGE_KEYS}
    out["from"] = name(sender)
    if sender != BROKER and d.level(viewer, sender) is Level.FULL:
        out["subject"], out["text"] = message.get("subject"), message.get("text")
    ref = message.get("ref")
    out["ref"] = None if ref is None else {"kind": ref.get("kind")}
    return {"message": out, "party": name(payload["party"]), **extra}
