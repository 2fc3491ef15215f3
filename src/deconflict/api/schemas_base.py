"""What the request and response schemas share: the strict object configuration (the parsers
refuse a key they do not know), optional keys without a null default, and the patterns of an RFC 3339
time and of a string that is not blank."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

RFC3339 = r"^\s*\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\s*$"
"""An RFC 3339 time with its offset, as ``domain/times.py`` reads it."""


def no_null_defaults(schema: dict[str, Any]) -> None:
    """An optional key may be left out, not sent as null: drop the ``"default": null`` pydantic writes
    for ``X | SkipJsonSchema[None] = None``."""
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]


def strict(**rules: Any) -> ConfigDict:
    """The configuration of a request object: the parsers refuse a key they do not know
    (``additionalProperties: false``); ``rules`` are added to its schema as they are."""

    def extra(schema: dict[str, Any]) -> None:
        no_null_defaults(schema)
        schema.update(rules)

    return ConfigDict(extra="forbid", json_schema_extra=extra)


STRICT = strict()

NOT_BLANK = r"\S"
"""A string with something in it besides white space (the parsers strip it)."""


def one_of(schema: dict[str, Any]) -> None:
    """Exactly one of the alternatives (pydantic writes ``anyOf`` for a plain union)."""
    schema["oneOf"] = schema.pop("anyOf")
