"""An XML document read for a format's reader (:mod:`deconflict.formats.aixm`): parsed with
:mod:`defusedxml` (no DTD, no entities, no external references), each element with the line it
starts on and its path from the root, and the problems found in it as :class:`BadElement`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import Element, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from deconflict.formats import Problem


class BadElement(Exception):
    def __init__(self, line: int, path: str, reason: str) -> None:
        self.problem = Problem(line, path, reason)


class _Lines(TreeBuilder):
    """A tree builder that notes the line each element starts on (for the problems' locations)."""

    def __init__(self) -> None:
        super().__init__()
        self.parser: DefusedXMLParser | None = None
        self.lines: dict[int, int] = {}
        self.kept: list[Element] = []  # ids stay valid while the elements live

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        e = super().start(tag, attrs)
        self.kept.append(e)
        self.lines[id(e)] = self.parser.parser.CurrentLineNumber if self.parser is not None else 0
        return e


@dataclass(frozen=True)
class XmlNode:
    """An element with its path from the root (``hasMember[2]/Airspace/timeSlice[1]/…``) and line."""

    e: Element
    path: str
    line: int


def local_name(tag: str) -> tuple[str, str]:
    ns, _, name = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return ns, name


class XmlDoc:
    def __init__(self, lines: dict[int, int]) -> None:
        self.lines = lines

    def node(self, e: Element, path: str) -> XmlNode:
        return XmlNode(e, path, self.lines.get(id(e), 0))

    def children(self, n: XmlNode) -> Iterator[XmlNode]:
        """Each child element, its path numbered when its name repeats (``geometryComponent[2]``)."""
        kids = list(n.e)
        names = [local_name(k.tag)[1] for k in kids]
        count = Counter(names)  # once per parent: a document of many members is read in linear time
        seen: dict[str, int] = {}
        for k, name in zip(kids, names, strict=True):
            seen[name] = seen.get(name, 0) + 1
            step = f"{name}[{seen[name]}]" if count[name] > 1 else name
            yield self.node(k, f"{n.path}/{step}")

    def below(self, n: XmlNode) -> Iterator[XmlNode]:
        """``n`` and every element under it, with their paths."""
        yield n
        for c in self.children(n):
            yield from self.below(c)

    def one(self, n: XmlNode, ns: str, name: str, *, optional: bool = False) -> XmlNode | None:
        found = [c for c in self.children(n) if local_name(c.e.tag) == (ns, name)]
        if len(found) > 1:
            raise BadElement(found[1].line, found[1].path, f"more than one {name}: only one is read here")
        if not found and not optional:
            raise BadElement(n.line, f"{n.path}/{name}", "missing")
        return found[0] if found else None

    def need(self, n: XmlNode, ns: str, name: str) -> XmlNode:
        found = self.one(n, ns, name)
        assert found is not None
        return found

    def text(self, n: XmlNode, ns: str, name: str) -> tuple[XmlNode, str]:
        c = self.need(n, ns, name)
        if len(c.e):
            raise BadElement(c.line, c.path, "must hold text, not elements")
        return c, (c.e.text or "").strip()


def parse_xml(text: str) -> tuple[Element, dict[int, int]]:
    """An XML document's root and the line of each element (by ``id``); refuses a DTD, entities and
    external references (:mod:`defusedxml`) with :class:`XmlError`."""
    lines = _Lines()
    parser = DefusedXMLParser(target=lines, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    lines.parser = parser
    try:
        parser.feed(text)
        root = parser.close()
    except ParseError as e:
        raise XmlError(e.position[0], f"not well-formed XML: {e}") from None
    except DefusedXmlException as e:
        line = parser.parser.CurrentLineNumber
        raise XmlError(line, f"refused: {e} (a DTD, entities and external references are not read)") from None
    return root, lines.lines


class XmlError(ValueError):
    """A document that is not XML, or that holds what is never read (a DTD, an entity), at ``line``."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
