"""Need-to-know disclosure: what each caller may see of each notice, conflict and event.

The broker stores notices and conflicts whole (the event log must prove what happened); every
read goes through :class:`Disclosure`, which cuts the full JSON forms down to what the theater's
:class:`DisclosurePolicy` lets the caller see. The module is pure: it takes and returns plain
dicts, so it knows nothing of the store or the wire beyond the shapes of the full forms.

Views are built from allow-lists, never by deleting keys from the full form: a key added to the
full forms later stays hidden from everyone but the admin until it is added here on purpose.

>>> from deconflict.domain.parties import Party, Role
>>> policy = DisclosurePolicy().with_pair("ru-vks", "us-af", Level.EXISTENCE)
>>> d = Disclosure(policy, {})
>>> d.level(Party("ru-vks", Role.PARTY), "us-af").text
'existence'
>>> d.level(Party("ru-vks", Role.PARTY), "tr-haf").text
'conflicts-only'
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from deconflict.domain.coarse_area import coarse_area
from deconflict.domain.disclosure_policy import DisclosurePolicy, Level
from deconflict.domain.event_types import EventType
from deconflict.domain.message_disclosure import (
    MESSAGE_EVENTS,
    OVERDUE_EVENT,
    may_name,
    message_event_view,
    message_view,
)
from deconflict.domain.parties import Party, Role
from deconflict.domain.probes import FLAG_EVENT

NOTICE_EVENTS = frozenset(
    {
        EventType.NOTICE_FILED,
        EventType.NOTICE_UPDATED,
        EventType.NOTICE_ACTIVATED,
        EventType.NOTICE_ENDED,
        EventType.NOTICE_CANCELLED,
    }
)
"""Events whose payload is ``{"notice": <full notice>, "content_hash", "lead_time_s", "late"}``."""
CONFLICT_EVENTS = frozenset({EventType.CONFLICT_CREATED, EventType.CONFLICT_UPDATED, EventType.CONFLICT_RESOLVED})
"""Events whose payload is ``{"conflict": <full conflict>}``."""
ACK_EVENT = EventType.CONFLICT_ACKNOWLEDGED
"""Payload ``{"conflict": <full conflict>, "party": <acknowledging party>, "ack": "received-and-understood"}``."""
ALERT_EVENTS = frozenset({EventType.ALERT_CREATED, EventType.ALERT_UPDATED, EventType.ALERT_CLEARED})
"""Events whose payload is ``{"alert": <full alert>}`` (see :func:`deconflict.domain.alerts.alert_json`)."""
_ALERT_KEYS = ("id", "kind", "severity", "state", "detected_at", "updated_at", "cleared_at")
_AIRCRAFT_IDENTITY = ("party", "aircraft", "callsign")
_AIRCRAFT_STATE = ("lat", "lon", "alt_m", "alt_ref", "gs_mps", "trk_deg", "vs_mps", "velocity_known")
PARTY_PRIVATE_EVENTS = frozenset(
    {EventType.WEBHOOK_SET, EventType.WEBHOOK_REMOVED, EventType.TOKEN_ROTATED, EventType.REPORT_COMPLIANCE}
)
"""Events about one party's own settings (payload key ``party``): that party and the admin see them."""

PUBLIC_EVENTS = frozenset({EventType.POLICY_RECORDED, EventType.KEY_ROTATED})
"""The theater's agreed definitions, and the rotations of the broker's signing key (every party
follows them to verify its export): every party sees them, whole, live and in its export."""

_CONFLICT_KEYS = ("id", "state", "detected_at", "updated_at", "resolved_at")
"""Conflict fields every viewer of a conflict sees."""
_SIDE_KEYS = ("party", "notice", "version", "volume", "protected_site")
"""Side fields shown at ``conflicts-only`` and above."""


class Disclosure:
    """Applies a :class:`DisclosurePolicy` to the full JSON forms of notices, conflicts and events.

    ``parties`` (name → :class:`Party`) supplies subjects' coalitions; it is read at each call, so
    a live mapping stays current. Every view returned is a fresh copy: changing it never changes
    the stored form.
    """

    __slots__ = ("parties", "policy")

    def __init__(self, policy: DisclosurePolicy, parties: Mapping[str, Party]) -> None:
        self.policy = policy
        self.parties = parties

    def level(self, viewer: Party, subject: str) -> Level:
        """The level ``viewer`` has on the activity of party ``subject``.

        In order: one's own activity and the admin → ``full``; an explicit rule; the same coalition →
        ``full``; an observer → ``none``; otherwise the policy's default. A subject not in
        ``parties`` has no coalition.
        """
        if viewer.name == subject or viewer.role is Role.ADMIN:
            return Level.FULL
        rule = self.policy.rules.get((viewer.name, subject))
        if rule is not None:
            return rule
        known = self.parties.get(subject)
        coalition = None if known is None else known.coalition
        if viewer.coalition is not None and viewer.coalition == coalition:
            return Level.FULL
        if viewer.role is Role.OBSERVER:
            # Observers see only what the admin grants (a rule, or a coalition membership).
            return Level.NONE
        return self.policy.default

    def notice_view(self, viewer: Party, notice: Mapping[str, Any]) -> dict[str, Any] | None:
        """``notice`` whole (a copy) if the viewer may see it, else ``None``.

        A notice is seen only whole, at ``full``; below that another party's notice is seen only as
        a conflict's slice. Protected sites are public to everyone: their purpose is to be kept clear.
        """
        if self.sees_notice(viewer, notice["party"], notice.get("protected_site") is True):
            return copy.deepcopy(dict(notice))
        return None

    def sees_notice(self, viewer: Party, party: str, protected: bool) -> bool:
        """Whether ``viewer`` sees a notice of ``party`` (a protected site if ``protected``) whole:
        the one decision behind :meth:`notice_view`, a notice by id and the lists of notices."""
        return protected or self.level(viewer, party) is Level.FULL

    def conflict_view(self, viewer: Party, conflict: Mapping[str, Any]) -> dict[str, Any] | None:
        """What ``viewer`` sees of ``conflict``, or ``None`` if it does not see that conflict at all.

        The admin sees it whole. A party or authority sees only conflicts it is a side of; an
        observer only those where it has at least ``existence`` on a side that is not a protected
        site. Each side is shown as is at ``conflicts-only`` and above and as ``{"hidden": true}``
        below. The slice is shown exactly when every side is at ``full``, quantized outward to the
        policy's grid when the lowest is ``conflicts-only``; below, the view carries only the time
        window in whole ``existence_time_s`` steps and a whole-degree ``area``. ``disclosure``
        names the lowest side level.
        """
        if viewer.role is Role.ADMIN:
            return copy.deepcopy(dict(conflict))
        sides: list[Mapping[str, Any]] = list(conflict["sides"])
        levels = [self._side_level(viewer, side) for side in sides]
        if viewer.role.files_notices:
            if not any(side["party"] == viewer.name for side in sides):
                return None
            # Whatever the policy says, a party must learn that its own activity is in conflict.
            levels = [max(level, Level.EXISTENCE) for level in levels]
        elif viewer.role is Role.OBSERVER:
            # A protected site is public, so seeing "the site side" would grant nothing: an observer
            # needs a grant on a party actually involved.
            if not any(lv >= Level.EXISTENCE for side, lv in zip(sides, levels, strict=True) if not _is_site(side)):
                return None
        else:  # pragma: no cover - every Role is handled above; a new role sees nothing until decided
            return None

        view: dict[str, Any] = {key: copy.deepcopy(conflict.get(key)) for key in _CONFLICT_KEYS}
        view["sides"] = [_side_view(side, lv) for side, lv in zip(sides, levels, strict=True)]
        lowest = min(levels)
        slice_ = conflict["slice"]
        grid = self.policy.grid
        if lowest >= Level.FULL:
            view["slice"] = copy.deepcopy(dict(slice_))
        elif lowest >= Level.CONFLICTS_ONLY:
            view["slice"] = grid.slice(slice_)
        else:
            window = slice_["time_window"]
            view["time_window"] = grid.window(window["start"], window["end"], grid.existence_time_s)
            view["area"] = coarse_area(slice_["overlap"])
        # A side below existence (an observer's ungranted side) is shown exactly as an existence one.
        view["disclosure"] = max(lowest, Level.EXISTENCE).text
        return view

    def event_view(self, viewer: Party, type: str, payload: Mapping[str, Any]) -> dict[str, Any] | None:
        """What ``viewer`` sees of one event-log event of type ``type``; ``None``: the event is not shown.

        Notice events follow :meth:`notice_view` (shown whole or not at all); conflict events carry
        :meth:`conflict_view`; an acknowledgement names the acknowledging party only where its side
        is shown; a party's webhook and token events go to that party; every other type (party
        management, policy changes, broker events, types added later) only to the admin.
        """
        if viewer.role is Role.ADMIN:
            return copy.deepcopy(dict(payload))
        if type in NOTICE_EVENTS:
            if self.notice_view(viewer, payload["notice"]) is None:
                return None
            return copy.deepcopy(dict(payload))
        if type in CONFLICT_EVENTS:
            view = self.conflict_view(viewer, payload["conflict"])
            return None if view is None else {"conflict": view}
        if type == ACK_EVENT:
            return self._ack_view(viewer, payload)
        if type in PARTY_PRIVATE_EVENTS:
            return copy.deepcopy(dict(payload)) if payload.get("party") == viewer.name else None
        if type in ALERT_EVENTS:
            alert = self.alert_view(viewer, payload["alert"])
            return None if alert is None else {"alert": alert}
        if type in MESSAGE_EVENTS or type == OVERDUE_EVENT:
            return message_event_view(self, viewer, type, payload)
        if type in PUBLIC_EVENTS:
            return copy.deepcopy(dict(payload))
        if type == FLAG_EVENT:
            return self._flag_view(viewer, payload)
        return None

    def _flag_view(self, viewer: Party, payload: Mapping[str, Any]) -> dict[str, Any] | None:
        """A flagged filing: its filer sees why; a party it met sees why and its own conflicts with
        it, and who filed it only at ``conflicts-only`` and above (as those conflicts show it)."""
        filer = payload["party"]
        reasons = list(payload["reasons"])
        if viewer.name == filer:
            return {"party": filer, "notice": payload["notice"], "version": payload["version"], "reasons": reasons}
        touched: Mapping[str, Any] = payload["touched"]
        if viewer.name not in touched:
            return None
        named = self.level(viewer, filer) >= Level.CONFLICTS_ONLY
        return {
            "party": filer if named else None,
            "notice": payload["notice"] if named else None,
            "version": payload["version"] if named else None,
            "reasons": reasons,
            "conflicts": list(touched[viewer.name]),
        }

    def message_view(self, viewer: Party, message: Mapping[str, Any]) -> dict[str, Any] | None:
        """What ``viewer`` sees of a hotline message, or ``None``: the sender and the recipients,
        each party named only where the viewer may name it (:mod:`deconflict.domain.message_disclosure`)."""
        return message_view(self, viewer, message)

    def may_name(self, viewer: Party, subject: str) -> bool:
        """Whether ``viewer`` may know party ``subject`` by name on the hotline (and address it)."""
        return may_name(self, viewer, subject)

    def alert_view(self, viewer: Party, alert: Mapping[str, Any]) -> dict[str, Any] | None:
        """What ``viewer`` sees of a tactical alert, or ``None``.

        Safety first, identity by policy: a party told of a predicted loss of separation or an
        incursion always gets the other aircraft's state (position, altitude, velocity) and the
        geometry, because it needs them to stay clear; it gets the other aircraft's party, id and
        callsign only at ``conflicts-only`` and above, and another party's volume (notice id and
        party) likewise (protected sites are public). A nonconformance alert concerns one party's
        own aircraft: that party, and observers granted ``conflicts-only`` or more on it. Parties
        see only alerts about their own aircraft or volumes; observers those where a grant reaches.
        """
        if viewer.role is Role.ADMIN:
            return copy.deepcopy(dict(alert))
        sides: list[Mapping[str, Any]] = list(alert.get("sides", []))
        volume: Mapping[str, Any] | None = alert.get("volume")
        owners = [side["party"] for side in sides] + ([volume["party"]] if volume is not None else [])
        involved = viewer.name in owners
        if viewer.role.files_notices and not involved:
            return None
        if alert.get("kind") == "nonconformance":
            if not involved and self.level(viewer, sides[0]["party"]) < Level.CONFLICTS_ONLY:
                return None
            out: dict[str, Any] = {key: copy.deepcopy(alert.get(key)) for key in _ALERT_KEYS}
            out["sides"] = [_aircraft_view(side, Level.FULL) for side in sides]
            out["geometry"] = copy.deepcopy(alert.get("geometry"))
            return out
        levels = [self.level(viewer, side["party"]) for side in sides]
        vol_level = Level.FULL if volume is None or _is_site(volume) else self.level(viewer, volume["party"])
        if involved:
            levels = [max(lv, Level.EXISTENCE) for lv in levels]
            vol_level = max(vol_level, Level.EXISTENCE)
        elif max(levels + ([vol_level] if volume is not None and not _is_site(volume) else [])) < Level.EXISTENCE:
            return None
        view: dict[str, Any] = {key: copy.deepcopy(alert.get(key)) for key in _ALERT_KEYS}
        view["sides"] = [_aircraft_view(side, lv) for side, lv in zip(sides, levels, strict=True)]
        if volume is not None:
            view["volume"] = (
                {key: copy.deepcopy(volume[key]) for key in ("party", "notice", "volume", "protected_site")}
                if vol_level >= Level.CONFLICTS_ONLY
                else {"hidden": True}
            )
        # The geometry places each aircraft relative to the other: a viewer not involved gets it
        # only when it sees every side at least as existence.
        if involved or min([*levels, vol_level]) >= Level.EXISTENCE:
            view["geometry"] = copy.deepcopy(alert.get("geometry"))
        view["disclosure"] = max(min([*levels, vol_level]), Level.EXISTENCE).text
        return view

    def _side_level(self, viewer: Party, side: Mapping[str, Any]) -> Level:
        if side["party"] == viewer.name or _is_site(side):
            return Level.FULL
        return self.level(viewer, side["party"])

    def _ack_view(self, viewer: Party, payload: Mapping[str, Any]) -> dict[str, Any] | None:
        view = self.conflict_view(viewer, payload["conflict"])
        if view is None:
            return None
        acker = payload.get("party")
        # The acknowledging party is named only where the view already names it: as the viewer
        # itself, or as the party of a side shown. A hidden side's acknowledgement stays anonymous.
        named = acker == viewer.name or any(side.get("party") == acker for side in view["sides"])
        return {"conflict": view, "ack": payload.get("ack"), "party": acker if named else None}


def _aircraft_view(side: Mapping[str, Any], level: Level) -> dict[str, Any]:
    if level >= Level.CONFLICTS_ONLY:
        return {key: copy.deepcopy(side.get(key)) for key in _AIRCRAFT_IDENTITY + _AIRCRAFT_STATE}
    if level >= Level.EXISTENCE:  # where it is and where it goes: what the other side needs to stay clear
        return {"hidden": True, **{key: side.get(key) for key in _AIRCRAFT_STATE}}
    return {"hidden": True}


def _is_site(side: Mapping[str, Any]) -> bool:
    return side.get("protected_site") is True


def _side_view(side: Mapping[str, Any], level: Level) -> dict[str, Any]:
    if level >= Level.CONFLICTS_ONLY:
        return {key: copy.deepcopy(side[key]) for key in _SIDE_KEYS if key in side}
    return {"hidden": True}
