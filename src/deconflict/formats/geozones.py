"""A geozone document in either encoding, told apart by its shape: ED-318's is a GeoJSON
``FeatureCollection`` (:mod:`deconflict.formats.ed318`), ED-269's an object whose ``features`` are
the zones themselves (:mod:`deconflict.formats.ed269`)."""

from __future__ import annotations

import json

from deconflict.domain.errors import FieldError
from deconflict.domain.policy import Limits
from deconflict.formats import ed269, ed318
from deconflict.formats.geozone import Zone

NEITHER = (
    "is neither an ED-269 document (an object whose features are the zones) nor an ED-318 one "
    '(a GeoJSON object with "type": "FeatureCollection")'
)


def read_geozones(
    text: str, party: str, limits: Limits | None = None, window: tuple[float, float] | None = None
) -> tuple[list[Zone], list[FieldError]]:
    """The zones of an ED-269 or ED-318 document as protected sites of ``party``, and every problem
    (its JSON path and why). ``window`` is the activation of permanent zones.

    >>> str(read_geozones('{"zones": []}', "p")[1][0]).startswith("document: is neither an ED-269")
    True
    """
    try:
        doc = json.loads(text)
    except ValueError as e:
        return [], [FieldError("document", f"is not JSON ({e})")]
    if isinstance(doc, dict) and "type" in doc:
        return ed318.read_doc(doc, party, limits or Limits(), window)
    if isinstance(doc, dict) and "features" in doc:
        return ed269.read_doc(doc, party, limits or Limits(), window)
    return [], [FieldError("document", NEITHER)]
