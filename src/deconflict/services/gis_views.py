"""What a caller may see, as GeoJSON features: the broker's disclosure-cut views of notices,
protected sites and conflicts (``Broker.list_notices``, ``Broker.list_conflicts``), never the stored
forms, so a GIS export (``deconflict export geojson --as``, ``GET /v1/exports/geojson``) shows
nothing the caller could not read over the JSON API."""

from __future__ import annotations

from typing import Any

from deconflict.domain.parties import Party
from deconflict.formats.gis import feature_collection
from deconflict.services.broker import Broker, NoticeFilter
from deconflict.services.ports import ConflictState


def visible_collection(broker: Broker, caller: Party, all_conflicts: bool = False) -> dict[str, Any]:
    """Every notice and protected site ``caller`` may see and its conflicts (open ones only, unless
    ``all_conflicts``), as a FeatureCollection."""
    notices: list[dict[str, Any]] = []
    conflicts: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page, cursor = broker.list_notices(caller, NoticeFilter(), cursor)
        notices += page
        if cursor is None:
            break
    while True:
        page, cursor = broker.list_conflicts(caller, None if all_conflicts else ConflictState.OPEN, cursor)
        conflicts += page
        if cursor is None:
            break
    return feature_collection(notices, conflicts)
