"""Parties and their roles: who may do what at the broker."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from deconflict.domain.errors import ValidationError


class Role(StrEnum):
    PARTY = "party"
    """Files notices (and later tracks and messages); reads its own and what is disclosed to it."""
    AUTHORITY = "authority"
    """A party that may also file protected sites."""
    OBSERVER = "observer"
    """Reads only what the admin grants it; files nothing."""
    ADMIN = "admin"
    """Runs the broker: sees everything, files nothing."""

    @property
    def a(self) -> str:
        """The role with its article, for messages.

        >>> Role.OBSERVER.a, Role.PARTY.a
        ('an observer', 'a party')
        """
        return ("an " if self.value[0] in "aeiou" else "a ") + self.value

    @property
    def files_notices(self) -> bool:
        return self in (Role.PARTY, Role.AUTHORITY)

    @property
    def files_sites(self) -> bool:
        return self is Role.AUTHORITY


NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
"""Party and coalition names: lower-case letters, digits, ``.``, ``_``, ``-``; at most 64."""


def check_name(field: str, value: str) -> str:
    """``value`` if it is a valid party/coalition name, else a :class:`ValidationError` on ``field``.

    >>> check_name("name", "ru-vks")
    'ru-vks'
    """
    if not NAME.match(value):
        raise ValidationError.at(
            field, f"{value!r} is not a valid name: use 1–64 of a-z 0-9 . _ - starting with a letter or digit"
        )
    return value


RESERVED_NAMES = frozenset({"admin", "broker", "all"})
"""Names no party may take: the actors the log records for the operator (``admin``) and the broker
itself (``broker``), and the hotline's word for every party (``all``). A party named after an actor
would be taken for it."""


def check_party_name(value: str) -> str:
    """``value`` if a party may be registered under it.

    >>> check_party_name("broker")
    Traceback (most recent call last):
    deconflict.domain.errors.ValidationError: name: 'broker' is reserved (admin, all, broker are the broker's own words)
    """
    check_name("name", value)
    if value in RESERVED_NAMES:
        words = ", ".join(sorted(RESERVED_NAMES))
        raise ValidationError.at("name", f"{value!r} is reserved ({words} are the broker's own words)")
    return value


@dataclass(frozen=True)
class Party:
    name: str
    role: Role
    coalition: str | None = None
    revoked: bool = False
