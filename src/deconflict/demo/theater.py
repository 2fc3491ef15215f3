"""The built-in demo theater: Syria, the morning of 30 September 2015 (see shared/THEATER-2015.md).

Each filing carries the time it reached the broker, so lead times and late notices come out as
they would have: the coalition filed the evening before, the Russian Aerospace Forces about one
hour before their first sorties.

The parties then answer some of the broker's threads about the conflicts it found, each at the
broker-clock time the theater names (``acknowledgements``): some before the deadline, some after,
and one thread not at all, so that a compliance report over the demo shows every case. They answer
as a party would, through the broker's own services: acknowledging the conflict
(:meth:`Broker.acknowledge`, which answers its thread too) or the thread itself
(:meth:`Hotline.acknowledge`, ``received`` or ``understood``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, MutableSequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from deconflict.domain.errors import ValidationError
from deconflict.domain.hotline import AckState
from deconflict.domain.notice_json import parse_notice
from deconflict.domain.parties import Role
from deconflict.domain.policy import Limits
from deconflict.domain.times import parse_time
from deconflict.domain.volumes import Notice
from deconflict.formats.aco import read_aco
from deconflict.formats.notam import read_notams
from deconflict.services.broker import Broker
from deconflict.services.commands import AcknowledgeMessage
from deconflict.services.hotline import Hotline


@dataclass(frozen=True)
class Filing:
    filed_at: float
    notice: Notice


def load_theater_doc() -> dict[str, Any]:
    """The built-in theater, its imported files read in (see :func:`with_import_texts`)."""
    here = resources.files("deconflict.demo")
    doc: dict[str, Any] = json.loads(here.joinpath("theater-2015.json").read_text())
    return with_import_texts(doc, lambda name: here.joinpath(name).read_text())


def with_import_texts(doc: dict[str, Any], read: Callable[[str], str]) -> dict[str, Any]:
    """``doc`` with the text of each of its ``imports`` read in by ``read`` (a file name, as the
    theater gives it, to its text): an import names its ``file`` beside the theater's JSON, or
    holds the file's ``text`` itself."""
    imports = doc.get("imports", [])
    if not isinstance(imports, list):
        raise ValidationError.at("imports", "must be a list of {filed_at, format, party, file}")
    out = []
    for i, imp in enumerate(imports):
        if isinstance(imp, dict) and isinstance(imp.get("text"), str):
            out.append(imp)
            continue
        if not isinstance(imp, dict) or not isinstance(imp.get("file"), str):
            why = "required: the name of a file beside the theater (or its text)"
            raise ValidationError.at(f"imports[{i}].file", why)
        try:
            out.append({**imp, "text": read(imp["file"])})
        except (OSError, UnicodeDecodeError) as e:
            raise ValidationError.at(f"imports[{i}].file", f"{imp['file']!r} cannot be read: {e}") from None
    return {**doc, "imports": out}


IMPORT_FORMATS = ("aco", "notam")
"""The airspace formats a theater's ``imports`` may be written in (read as ``deconflict import`` reads them)."""


def theater_filings(limits: Limits | None = None, doc: dict[str, Any] | None = None) -> list[Filing]:
    """The demo filings (of ``doc``, else the built-in theater) in the order they reached the broker:
    its notices as JSON and those of its imported files (an ACO message, NOTAMs), each of those
    filed at its file's ``filed_at``."""
    doc = load_theater_doc() if doc is None else doc
    out = []
    for i, f in enumerate(doc["filings"]):
        n = parse_notice(f["notice"], limits, f"filings[{i}].notice")
        out.append(Filing(parse_time(f["filed_at"], f"filings[{i}].filed_at"), n))
    for i, imp in enumerate(doc.get("imports", [])):
        at = parse_time(imp.get("filed_at"), f"imports[{i}].filed_at")
        out += [Filing(at, n) for n in _imported(imp, f"imports[{i}]", limits)]
    return sorted(out, key=lambda f: f.filed_at)


def _imported(imp: dict[str, Any], where: str, limits: Limits | None) -> list[Notice]:
    """The notices of one imported file; any problem refuses the theater, naming the file's line."""
    fmt, party, text = imp.get("format"), imp.get("party"), imp.get("text")
    if fmt not in IMPORT_FORMATS:
        raise ValidationError.at(f"{where}.format", f"{fmt!r}: use one of {', '.join(IMPORT_FORMATS)}")
    if not isinstance(party, str) or not party:
        raise ValidationError.at(f"{where}.party", "required: the party whose file it is")
    if not isinstance(text, str):
        raise ValidationError.at(f"{where}.file", "not read in (load the theater with with_import_texts)")
    if fmt == "aco":
        got = read_aco(text, party, limits)
        notices, problems = got.notices, [str(p) for p in got.problems]
    else:
        kind = imp.get("kind", "activity")
        read, bad = read_notams(text, party, kind, limits)
        notices, problems = [r.notice for r in read], [str(p) for p in bad]
    if problems:  # the first, with its line, set or field, as ``deconflict import`` names it
        raise ValidationError.at(f"{where}.file", f"{imp.get('file', 'text')}: {problems[0]}")
    return notices


@dataclass(frozen=True)
class Acknowledgement:
    """A party's answer to the broker's thread about the conflict between two notices, at ``at``
    (broker clock): ``via`` ``"conflict"`` acknowledges the conflict (received and understood,
    never approved), ``"hotline"`` the thread, with ``state`` ``received`` or ``understood``."""

    at: float
    party: str
    notices: frozenset[str]
    via: str
    state: AckState = AckState.UNDERSTOOD


def theater_acknowledgements(doc: dict[str, Any] | None = None) -> list[Acknowledgement]:
    """The demo's acknowledgements (of ``doc``, else the built-in theater) in the order they reach
    the broker."""
    doc = load_theater_doc() if doc is None else doc
    # the theater names notices by the ids their parties chose; the broker keeps them as party:id
    owner = {str(f.notice.id): f.notice.party for f in theater_filings(None, doc)}
    out = []
    for i, a in enumerate(doc.get("acknowledgements", [])):
        where = f"acknowledgements[{i}]"
        if a["via"] not in ("conflict", "hotline"):
            raise ValidationError.at(f"{where}.via", f"{a['via']!r}: use conflict or hotline")
        state = AckState(a.get("state", AckState.UNDERSTOOD.value))
        at = parse_time(a["at"], f"{where}.at")
        notices = frozenset(f"{owner[nid]}:{nid}" for nid in a["conflict"])
        out.append(Acknowledgement(at, a["party"], notices, a["via"], state))
    return sorted(out, key=lambda a: a.at)


def acknowledge_theater(broker: Broker, clock: MutableSequence[float]) -> list[Acknowledgement]:
    """Give the theater's acknowledgements in ``broker``, whose clock reads ``clock[0]`` (moved to
    each one's time); returns those given now. One already given, or whose time lies before the
    last entry of the log (a store that went on after the demo), is left as it is: the broker's
    clock never runs backwards, and running the demo again changes nothing.

    Each party acts as itself: it is registered (with its theater role) if the store does not know
    it yet, the way a party first connects to answer; a revoked one does not answer.
    """
    hotline = Hotline(broker)
    given = []
    for a in theater_acknowledgements():
        if give_acknowledgement(broker, hotline, a, clock):
            given.append(a)
    return given


def give_acknowledgement(
    broker: Broker,
    hotline: Hotline,
    a: Acknowledgement,
    clock: MutableSequence[float] | None = None,
    doc: dict[str, Any] | None = None,
) -> bool:
    """Give one of the theater's acknowledgements, if it is still to give; True when given.

    With ``clock`` (the broker's settable clock, ``--once``) it is moved to ``a.at`` first, and an
    acknowledgement whose time lies before the log's last entry is left out; without it (the live
    demo, whose clock runs on by itself) it is given now, the caller having waited for ``a.at``.
    """
    roles = {p["name"]: Role(p["role"]) for p in (load_theater_doc() if doc is None else doc)["parties"]}
    with broker.store.begin(write=False) as repo:
        last = repo.last_event()
        if clock is not None and last is not None and a.at < last.time:
            return False
        conflict = next(
            (c for c in repo.list_conflicts() if {c.notice_a, c.notice_b} == a.notices),
            None,
        )
        if conflict is None:  # the theater's notices were changed in this store
            return False
        threads = [m for m in repo.messages_about("conflict", conflict.id) if m.auto]
        answered = [m for m in threads if (r := m.recipient(a.party)) is not None and r.acked_at is not None]
        party = repo.get_party(a.party)
    if not threads or answered or (party is not None and party.revoked):
        return False
    if clock is not None:
        clock[0] = a.at
    if party is None:
        party, _token = broker.add_party(a.party, roles.get(a.party, Role.PARTY))  # no token is shown
    if a.via == "conflict":
        broker.acknowledge(party, conflict.id)
    else:
        for m in threads:
            hotline.acknowledge(AcknowledgeMessage(party, m.id, a.state))
    return True
