"""A notice's words: the text fields the broker keeps with a version and never reads.

``description`` (the filer's words, lines allowed), ``name`` (what the activity is called: an ACO
measure's ``NAME``, a zone's name) and ``acm_type`` (an ACO airspace control measure's type, such as
``ROZ`` or ``AAR``). Each is kept in :attr:`Notice.extra` under its key and shown with the notice to
whoever may see it whole (docs/notices.md).

>>> read_notice_text({"name": "TANKER TRACK BLUE", "acm_type": "AAR"}, "")
{'name': 'TANKER TRACK BLUE', 'aco_acm': 'AAR'}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from deconflict.domain.errors import ValidationError
from deconflict.domain.volumes import ACM_TYPE, DESCRIPTION, MAX_ACM_TYPE, MAX_DESCRIPTION, MAX_NAME, NAME

_ACM_TYPE = re.compile(rf"[A-Z0-9]{{1,{MAX_ACM_TYPE}}}")


def read_notice_text(obj: Mapping[str, Any], path: str) -> dict[str, str]:
    """The words of a notice's JSON ``obj`` (at ``path``) that it gives, by their keys in
    :attr:`Notice.extra`; each refused with its field and the reason."""
    out: dict[str, str] = {}
    if "name" in obj:
        out[NAME] = _name(obj["name"], _join(path, "name"))
    if "acm_type" in obj:
        out[ACM_TYPE] = _acm_type(obj["acm_type"], _join(path, "acm_type"))
    if "description" in obj:
        out[DESCRIPTION] = _description(obj["description"], _join(path, "description"))
    return out


def notice_text_json(extra: Mapping[str, str]) -> dict[str, str]:
    """The words kept in ``extra`` as the notice's JSON keys (the way back of :func:`read_notice_text`)."""
    keys = (("name", NAME), ("acm_type", ACM_TYPE), ("description", DESCRIPTION))
    return {key: extra[k] for key, k in keys if k in extra}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        kinds = ((bool, "a boolean"), (int | float, "a number"), (list, "a list"), (Mapping, "an object"))
        got = next((say for t, say in kinds if isinstance(value, t)), "null" if value is None else "another type")
        raise ValidationError.at(where, f"must be a string, got {got}")
    if not value.strip():
        raise ValidationError.at(where, "must not be empty (leave it out instead)")
    lone = next((c for c in value if 0xD800 <= ord(c) <= 0xDFFF), None)  # a JSON "\ud800" escape, unpaired
    if lone is not None:
        raise ValidationError.at(where, f"holds an unpaired surrogate U+{ord(lone):04X}: not text")
    return value


def _controls(text: str, where: str, allowed: str) -> None:
    bad = next((c for c in text if (ord(c) < 32 and c not in allowed) or 0x7F <= ord(c) < 0xA0), None)
    if bad is not None:
        but = "; only lines and tabs are allowed" if allowed else "; a name is one line"
        raise ValidationError.at(where, f"holds the control character U+{ord(bad):04X}{but}")


def _description(value: Any, where: str) -> str:
    """Text of at most :data:`MAX_DESCRIPTION` characters, lines and tabs allowed, no other control
    character (a NUL cannot even be stored)."""
    text = _text(value, where)
    if len(text) > MAX_DESCRIPTION:
        raise ValidationError.at(where, f"{len(text)} characters is more than {MAX_DESCRIPTION}")
    _controls(text, where, "\n\t")
    return text


def _name(value: Any, where: str) -> str:
    """One line of at most :data:`MAX_NAME` characters, no control character."""
    text = _text(value, where)
    if len(text) > MAX_NAME:
        raise ValidationError.at(where, f"{len(text)} characters is more than {MAX_NAME}")
    _controls(text, where, "")
    if len(text.splitlines()) != 1:  # U+2028, U+2029, U+001C…: what text readers take for a line's end
        raise ValidationError.at(where, "holds a line or paragraph separator; a name is one line")
    return text


def _acm_type(value: Any, where: str) -> str:
    """Capital letters and digits, 1 to :data:`MAX_ACM_TYPE` of them (``ROZ``, ``AAR``, ``CORRTE``)."""
    text = _text(value, where)
    if not _ACM_TYPE.fullmatch(text):
        why = f"1 to {MAX_ACM_TYPE} capital letters or digits, such as ROZ or AAR"
        raise ValidationError.at(where, f"{text[:40]!r} is not an ACM type: {why}")
    return text
