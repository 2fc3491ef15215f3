"""Reading JSON values at the boundary, each refusal a :class:`ValidationError` naming the field by
its path as the user wrote it (``volumes[2].volume.outline_polygon.vertices[3].lat``), and
:data:`Said`, where the parsers note the defaults they apply."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from deconflict.domain.errors import ValidationError
from deconflict.domain.strict import KEYS, check_keys


def join_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def as_object(value: Any, path: str, keys: str | None = None) -> Mapping[str, Any]:
    """``value`` as an object; with ``keys`` (a document type of :data:`KEYS`), refused if it holds
    a key that type does not have."""
    if not isinstance(value, Mapping):
        raise ValidationError.at(path, f"must be an object, got {kind_of(value)}")
    if keys is not None:
        check_keys(value, KEYS[keys], path)
    return value


def as_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValidationError.at(path, f"must be a list, got {kind_of(value)}")
    return value


def required(obj: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in obj or obj[key] is None:
        raise ValidationError.at(join_path(path, key), "is required")
    return obj[key]


def as_number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError.at(path, f"must be a number, got {kind_of(value)}")
    try:
        f = float(value)
    except OverflowError:  # an integer too large for a float
        f = math.inf
    if not math.isfinite(f):
        raise ValidationError.at(path, "must be a finite number (NaN and infinity are refused)")
    return f


def as_string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ValidationError.at(path, f"must be a string, got {kind_of(value)}")
    return value


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


Said = list[dict[str, str]]
"""Where a parser notes each default it applies, ``{"field": path, "value": what}``, so a response
can say so (the API's ``defaults``). Units are never defaulted: a missing one is refused."""


def say(said: Said | None, path: str, value: str) -> None:
    if said is not None:
        said.append({"field": path, "value": value})
