"""The exception tree drawn in ``domain/errors.py``'s docstring is the real one: every class it
names exists where it says, derives from the class it is drawn under, and has the builtin base the
drawing gives in brackets; so the API's and the CLI's single mapping of ``DeconflictError`` covers
every error a caller can act on."""

from __future__ import annotations

import builtins
import importlib
import re

from deconflict.domain import errors

ROW = re.compile(r"^(?P<indent>[ │]*)(?:├──|└──) (?P<name>[\w.]+)(?: \((?P<base>\w+)\))?")


def _resolve(name: str) -> type:
    module, _, cls = name.rpartition(".")
    where = importlib.import_module(f"deconflict.{module}") if module else errors
    found = getattr(where, cls)
    assert isinstance(found, type), name
    return found


def test_every_class_in_the_drawn_tree_derives_from_its_parent() -> None:
    doc = errors.__doc__ or ""
    parents: list[type] = [errors.DeconflictError]
    rows = 0
    for line in doc.splitlines():
        m = ROW.match(line.strip("\n")[4:] if line.startswith("    ") else line)
        if not m:
            continue
        depth = len(m["indent"]) // 4
        cls = _resolve(m["name"])
        del parents[depth + 1 :]
        assert issubclass(cls, parents[depth]), f"{m['name']} is drawn under {parents[depth].__name__}"
        if m["base"]:
            assert issubclass(cls, getattr(builtins, m["base"])), f"{m['name']} is drawn as a {m['base']}"
        parents.append(cls)
        rows += 1
    assert rows >= 14


def test_a_change_of_another_party_s_notice_is_forbidden() -> None:
    from deconflict.services.filing import NotOwnerError

    assert issubclass(NotOwnerError, errors.Forbidden)
