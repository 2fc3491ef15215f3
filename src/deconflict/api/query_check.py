"""Refuse a query parameter the operation does not take. A misspelt filter (``?stat=open``) that
were silently dropped would answer with everything, and the caller would act on a picture it did
not ask for; so every name the route does not declare is a 422 that names it and lists what the
operation takes."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from deconflict.domain.errors import FieldError, ValidationError


def _names(dependant: Dependant) -> set[str]:
    out = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        out |= _names(sub)
    return out


def _takes(route: APIRoute) -> tuple[str, ...]:
    """The query parameters ``route`` declares, its dependencies' included, sorted (a walk over a
    handful of fields: not worth a cache keyed on a route, which is not hashable)."""
    return tuple(sorted(_names(route.dependant)))


def _template(request: Request, route: APIRoute) -> str:
    """The path template the request matched, as the OpenAPI document names it: ``route.path``
    lacks the prefix its router was included under, which is the request path's leading segments
    (a path parameter never holds a ``/``)."""
    ours = route.path.split("/")
    given = request.url.path.split("/")
    return "/".join(given[: len(given) - len(ours) + 1] + ours[1:])


def refuse_unknown_query(request: Request) -> None:
    """A dependency: a 422 naming every query parameter the route does not declare, once each, in
    the order given."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    takes = _takes(route)
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in takes]
    if not unknown:
        return
    operation = f"{request.method} {_template(request, route)}"
    which = f"it takes {', '.join(takes) or 'none'}"
    raise ValidationError(
        [
            FieldError(f"query.{name}", f"is not a parameter of {operation} ({which})")
            if name
            else FieldError("query", f"a parameter has no name (`?=…`); {operation}: {which}")
            for name in unknown
        ]
    )
