"""Whom a hotline message goes to: the names a sender may address, ``"all"``, and a reply's thread.

A sender addresses by name only the parties it may name (:func:`deconflict.domain.message_disclosure.may_name`:
at ``conflicts-only`` and above, observers only by a grant). A name it may not name, a revoked
party, a reserved name and a name that does not exist all get the same answer, byte for byte
(:data:`NOT_ADDRESSABLE`), so the hotline is no oracle for who is registered at the broker.
``"all"`` and a reply without ``to`` reach parties whatever their names: the views then leave out
the names the sender and each recipient may not know.
"""

from __future__ import annotations

from deconflict.domain.disclosure import Disclosure
from deconflict.domain.errors import ValidationError
from deconflict.domain.hotline import Message
from deconflict.domain.parties import RESERVED_NAMES, Party, Role
from deconflict.services.ports import BrokerRepository

NOT_ADDRESSABLE = "names no party you can address at this broker"
"""The one answer for an unknown, revoked, reserved or undisclosed name (the name is not repeated)."""


def _live(p: Party | None) -> bool:
    return p is not None and not p.revoked and p.name not in RESERVED_NAMES


def recipients(repo: BrokerRepository, d: Disclosure, caller: Party, to: tuple[str, ...] | None) -> list[str]:
    """The recipients of a new message: ``to``'s names (each one the caller may name), or with
    ``None`` (``"all"``) every live party but the sender and the broker's admins."""
    parties = {p.name: p for p in repo.list_parties()}
    if to is None:
        names = [n for n, p in sorted(parties.items()) if _live(p) and p.role is not Role.ADMIN and n != caller.name]
        if not names:
            raise ValidationError.at("to", "there is no other party to send to")
        return names
    for i, name in enumerate(to):
        if name == caller.name:
            raise ValidationError.at(f"to[{i}]", "a party does not send messages to itself")
        if not _live(parties.get(name)) or not d.may_name(caller, name):
            raise ValidationError.at(f"to[{i}]", NOT_ADDRESSABLE)
    return list(to)


def thread_recipients(repo: BrokerRepository, caller: Party, original: Message) -> list[str]:
    """A reply without ``to``: the thread's other live participants (not the broker), named to the
    caller or not."""
    names = sorted(original.participants() - {caller.name})
    live = [n for n in names if _live(repo.get_party(n))]
    if not live:
        raise ValidationError.at("to", "the thread has no other participant: name the recipients")
    return live
