"""Editing a golden geozone document for a test case (ED-269 and ED-318 tests share these): a
change sets or deletes the value at a JSON path, and the day the golden zones are active."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from deconflict.domain.times import parse_time

DELETE = object()
"""The value of :func:`set_at` that deletes the key."""
Change = Callable[[Any], None]


def t(text: str) -> float:
    return parse_time(text, "t")


DAY = (t("2015-09-30T00:00:00Z"), t("2015-10-01T00:00:00Z"))
"""The window given to the goldens' permanent zones."""


def set_at(path: list[Any], value: Any) -> Change:
    """A change of a document: ``value`` (a copy) at ``path``, or the key deleted for :data:`DELETE`."""

    def change(doc: Any) -> None:
        node = doc
        for p in path[:-1]:
            node = node[p]
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = copy.deepcopy(value)

    return change


def edited(text: str, change: Change) -> str:
    """The document ``text`` with ``change`` made, as text."""
    doc = json.loads(text)
    change(doc)
    return json.dumps(doc)
