"""Every event type the documentation names is one the broker really logs.

The broker writes its events in one place, ``Transaction.log(actor, type, payload)``
(``services/``); this test reads every such call in ``src/`` and works out the type it writes: a
member of ``EventType`` (``domain/event_types.py``, read from its source) or a string, a module
constant, a name or an f-string such as ``f"conflict.{kind}"`` whose ``kind`` runs over the
literal tuples of its ``for`` loop or the values of a dict literal, or a parameter of the enclosing
function, followed to every call of that function. A member that is never logged counts for
nothing: the docs may name only what the broker really writes. The docs (``docs/*.md``, the README and the
modules' docstrings, which are doctests) then may name only those types; ``conflict.opened`` in
docs/webhooks.md, where the broker writes ``conflict.created``, sent webhook receivers looking for
an event that never comes.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "deconflict"


def _enum_members(path: Path, name: str) -> dict[str, str]:
    """``MEMBER = "text"`` of the enum class ``name`` defined in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
    return {
        t.id: node.value.value
        for node in cls.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        for t in node.targets
        if isinstance(t, ast.Name)
    }


EVENT_TYPES = _enum_members(SRC / "domain" / "event_types.py", "EventType")
"""``EventType``'s members by name: ``EventType.NOTICE_FILED`` in a call reads as ``notice.filed``."""


def _literal(node: ast.AST | None) -> str | None:
    """The event type a node writes as it stands: a string, or a member of ``EventType``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "EventType":
        assert node.attr in EVENT_TYPES, f"EventType has no member {node.attr}"
        return EVENT_TYPES[node.attr]
    return None


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "literal"`` (or ``NAME = EventType.MEMBER``) assignments."""
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and (value := _literal(node.value)) is not None:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = value
    return out


def _values_of(name: str, scope: ast.AST) -> set[str]:
    """The literal strings ``name`` takes in ``scope``: the first items of the tuples a ``for
    name, … in ((…), …)`` loop or comprehension runs over (written there or bound to a name in
    ``scope``), or the values of a dict literal bound to ``name``."""
    found: set[str] = set()
    literals = {  # names bound to a literal tuple or list in scope: ``kinds = (("created", …), …)``
        t.id: node.value
        for node in ast.walk(scope)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple | ast.List)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    for node in ast.walk(scope):
        loop = isinstance(node, ast.For | ast.comprehension)
        if loop and isinstance(node.iter, ast.Name) and node.iter.id in literals:
            node = ast.For(target=node.target, iter=literals[node.iter.id], body=[], orelse=[])
        if isinstance(node, ast.For | ast.comprehension) and isinstance(node.iter, ast.Tuple | ast.List):
            target = node.target
            index = None
            if isinstance(target, ast.Name) and target.id == name:
                index = -1
            elif isinstance(target, ast.Tuple):
                for i, elt in enumerate(target.elts):
                    if isinstance(elt, ast.Name) and elt.id == name:
                        index = i
            if index is None:
                continue
            for item in node.iter.elts:
                value = item if index == -1 else (item.elts[index] if isinstance(item, ast.Tuple) else None)
                if (text := _literal(value)) is not None:
                    found.add(text)
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Dict)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        ):
            found |= {text for v in node.value.values if (text := _literal(v)) is not None}
    return found


class _Source:
    """Every function of ``src/`` with its file's module constants, and every call by name."""

    def __init__(self) -> None:
        self.functions: list[tuple[ast.FunctionDef, dict[str, str], str]] = []
        for path in sorted(SRC.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            constants = _module_strings(tree)
            for fn in ast.walk(tree):
                if isinstance(fn, ast.FunctionDef):
                    self.functions.append((fn, constants, str(path.relative_to(ROOT))))

    def calls_of(self, name: str) -> list[tuple[ast.Call, ast.FunctionDef, dict[str, str], str]]:
        out = []
        for fn, constants, path in self.functions:
            for node in ast.walk(fn):
                if isinstance(node, ast.Call):
                    called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                    if called == name:
                        out.append((node, fn, constants, path))
        return out

    def expand(self, arg: ast.expr, fn: ast.FunctionDef, constants: dict[str, str], where: str) -> set[str]:
        if (text := _literal(arg)) is not None:
            return {text}
        if isinstance(arg, ast.Name) and arg.id in constants:
            return {constants[arg.id]}
        if isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name):  # ``logged[state]``
            values = _values_of(arg.value.id, fn)
            assert values, f"{where}: no literal values for {arg.value.id} in {ast.unparse(arg)}"
            return values
        params = [a.arg for a in fn.args.args]
        if isinstance(arg, ast.Name) and arg.id in params:  # passed in: follow every caller
            index = params.index(arg.id) - (1 if params and params[0] == "self" else 0)
            out: set[str] = set()
            for call, caller, caller_constants, path in self.calls_of(fn.name):
                if index < len(call.args):
                    out |= self.expand(call.args[index], caller, caller_constants, f"{path}:{call.lineno}")
            assert out, f"{where}: no call of {fn.name} passes a literal {arg.id}"
            return out
        if isinstance(arg, ast.Name) and (values := _values_of(arg.id, fn)):  # a loop's variable
            return values
        if isinstance(arg, ast.JoinedStr):
            out = {""}
            for part in arg.values:
                if isinstance(part, ast.Constant):
                    out = {o + str(part.value) for o in out}
                    continue
                assert isinstance(part, ast.FormattedValue)
                inner = part.value
                name = inner.value if isinstance(inner, ast.Subscript) else inner
                assert isinstance(name, ast.Name), f"{where}: cannot read the event type {ast.unparse(arg)}"
                values = _values_of(name.id, fn)
                assert values, f"{where}: no literal values for {name.id} in {ast.unparse(arg)}"
                out = {o + v for o in out for v in values}
            return out
        raise AssertionError(f"{where}: cannot read the event type {ast.unparse(arg)}; keep it a literal")


def emitted_event_types() -> set[str]:
    """Every type passed to a transaction's ``log(actor, type, payload)`` or ``log_many(actor,
    [(type, payload), …])`` in ``src/``."""
    source = _Source()
    types: set[str] = set()
    for call, fn, constants, path in source.calls_of("log"):
        on_tx = isinstance(call.func, ast.Attribute) and getattr(call.func.value, "id", None) == "tx"
        if on_tx and len(call.args) >= 2:
            types |= source.expand(call.args[1], fn, constants, f"{path}:{call.lineno}")
    # The batched form: ``tx.log_many(actor, [(type, payload) for … in …])``.
    for call, fn, constants, path in source.calls_of("log_many"):
        on_tx = isinstance(call.func, ast.Attribute) and getattr(call.func.value, "id", None) == "tx"
        if not on_tx or len(call.args) < 2:
            continue
        where = f"{path}:{call.lineno}"
        batch = call.args[1]
        elements = batch.elts if isinstance(batch, ast.List | ast.Tuple) else [getattr(batch, "elt", None)]
        for element in elements:
            assert isinstance(element, ast.Tuple) and element.elts, f"{where}: log_many takes (type, payload) pairs"
            types |= source.expand(element.elts[0], fn, constants, where)
    return types


TOKEN = r"([a-z]+)\.(\*{1,2}|[a-z_]+(?:\|[a-z_]+)*)"
NAMED = re.compile(rf"`{TOKEN}`|[\"']{TOKEN}[\"']|(?:event|Event-Type):[ \t]*{TOKEN}\b")
"""An event type as the docs write one: in code quotes (```conflict.created```, ```alert.*```,
```notice.filed|updated```), in a string (``"type":"conflict.created"``), or after ``event:`` or
``X-Deconflict-Event-Type:``. Not a bare ``notice.id`` in a code sample, which is Python."""
FILE_SUFFIXES = {"key", "pem", "log", "pub", "sqlite", "md", "py", "html", "json", "toml", "csv", "gz", "txt"}


def documented_event_types(text: str, families: set[str]) -> set[str]:
    """The event types named in ``text``: words of an event family, one per name (``a|b`` forms
    expanded; a trailing ``*`` kept as a wildcard)."""
    out: set[str] = set()
    for m in NAMED.finditer(text):
        groups = [g for g in m.groups() if g is not None]
        family, names = groups[0], groups[1]
        if family not in families or names in FILE_SUFFIXES:
            continue
        out |= {f"{family}.{n}" for n in names.split("|")}
    return out


def doc_texts() -> dict[str, tuple[str, set[str]]]:
    """Each document's text and the names that are its code's variables there (a function's
    parameters: ``policy.search_m`` in a docstring is an attribute, not an event)."""
    docs = {
        str(p.relative_to(ROOT)): (p.read_text(encoding="utf-8"), set[str]())
        for p in sorted((ROOT / "docs").glob("*.md"))
    }
    docs["README.md"] = ((ROOT / "README.md").read_text(encoding="utf-8"), set())
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node, clean=False)
                if doc:
                    function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                    params = {a.arg for a in node.args.args} if function else set()
                    docs[f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 1)}"] = (doc, params)
    return docs


def test_the_scan_finds_the_broker_events() -> None:
    """The scan itself: it sees the literal, constant and f-string forms."""
    types = emitted_event_types()
    assert {"notice.filed", "notice.ended", "conflict.created", "conflict.resolved", "alert.cleared"} <= types
    assert {"message.overdue", "policy.recorded", "broker.started", "report.compliance"} <= types
    assert "conflict.opened" not in types


def test_the_scan_reads_event_type_members() -> None:
    """``EventType.NOTICE_FILED`` in a call reads as the text the log stores; a member the enum
    does not have fails the scan. Every member is logged somewhere, and nothing outside the enum."""
    assert _literal(ast.parse("EventType.NOTICE_FILED", mode="eval").body) == "notice.filed"
    with pytest.raises(AssertionError, match="EventType has no member NOTICE_OPENED"):
        _literal(ast.parse("EventType.NOTICE_OPENED", mode="eval").body)
    assert emitted_event_types() == set(EVENT_TYPES.values())


def test_the_doc_scan_reads_the_forms_the_docs_use() -> None:
    families = {"conflict", "notice", "alert"}
    text = (
        "`conflict.created|updated`; X-Deconflict-Event-Type: conflict.opened\n"
        '{"type":"notice.filed"} `alert.*` `broker.log` "notice.json" print(notice.id) conflict.resolved'
    )
    assert documented_event_types(text, families) == {
        "conflict.created",
        "conflict.updated",
        "conflict.opened",
        "notice.filed",
        "alert.*",
    }


def test_every_event_type_in_the_docs_is_one_the_broker_emits() -> None:
    emitted = emitted_event_types()
    families = {t.split(".")[0] for t in emitted}
    wrong: list[str] = []
    named = 0
    for where, (text, variables) in doc_texts().items():
        for t in sorted(documented_event_types(text, families - variables)):
            named += 1
            family, _, name = t.partition(".")
            ok = any(e.startswith(f"{family}.") for e in emitted) if name.startswith("*") else t in emitted
            if not ok:
                wrong.append(f"{where}: {t}")
    assert named > 20  # the docs do name events: the scan found them
    assert wrong == [], f"event types the broker never emits: {wrong}; it emits {sorted(emitted)}"
