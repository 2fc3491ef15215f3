"""Small notice builders in the F3548 JSON shape, and the broker's commands made from such bodies,
shared by the tests (importable as `builders`)."""

from __future__ import annotations

import math
from typing import Any

from deconflict.domain.parties import Party
from deconflict.domain.units import EARTH_RADIUS_M
from deconflict.services.broker import Broker
from deconflict.services.commands import (
    parse_acknowledge_message,
    parse_file_notice,
    parse_send_message,
    parse_update_notice,
)
from deconflict.services.hotline import Hotline
from deconflict.services.transaction import Outcome

T0 = "2015-09-30T07:00:00Z"
T1 = "2015-09-30T09:00:00Z"


def circle_volume(
    lat: float,
    lon: float,
    radius_m: float,
    start: str = T0,
    end: str = T1,
    lo: float = 1000.0,
    hi: float = 5000.0,
    *,
    reference: str = "W84",
    radius_units: str = "M",
) -> dict[str, Any]:
    """One circle volume; ``radius_m`` is in ``radius_units`` when they are given."""
    return {
        "volume": {
            "outline_circle": {
                "center": {"lat": lat, "lng": lon},
                "radius": {"value": radius_m, "units": radius_units},
            },
            "altitude_lower": {"value": lo, "reference": reference, "units": "M"},
            "altitude_upper": {"value": hi, "reference": reference, "units": "M"},
        },
        "time_start": {"value": start, "format": "RFC3339"},
        "time_end": {"value": end, "format": "RFC3339"},
    }


def circle_notice_of(
    party: str, nid: str | None, lat: float, lon: float, radius_m: float = 5000.0, **kw: Any
) -> dict[str, Any]:
    """A notice document of ``party`` (as a file or the operator holds it); an API body, which takes
    the caller's party, is ``api_support.circle_notice``."""
    doc: dict[str, Any] = {"party": party, "volumes": [circle_volume(lat, lon, radius_m, **kw)]}
    if nid is not None:
        doc["id"] = nid
    return doc


def offset(lat: float, lon: float, bearing: float, dist_m: float) -> tuple[float, float]:
    """A point ``dist_m`` from (lat, lon) on ``bearing`` (degrees), by the flat-earth step the
    property tests place aircraft with (clamped to ±89.5° latitude, longitude wrapped)."""
    b = math.radians(bearing)
    la = lat + math.degrees(dist_m * math.cos(b) / EARTH_RADIUS_M)
    lo = lon + math.degrees(dist_m * math.sin(b) / (EARTH_RADIUS_M * max(math.cos(math.radians(lat)), 0.05)))
    return max(-89.5, min(89.5, la)), (lo + 180) % 360 - 180


# The broker's commands made from request bodies, as the API makes them (services/commands.py):
# for tests that drive the services directly with the bodies a client would send.


def file(
    broker: Broker, caller: Party, body: Any, *, site: bool = False, idempotency_key: str | None = None
) -> Outcome:
    return broker.file(parse_file_notice(caller, body, broker.core.limits, site=site, idempotency_key=idempotency_key))


def update(broker: Broker, caller: Party, notice_id: str, body: Any, replaces: int | None, site: bool) -> Outcome:
    cmd = parse_update_notice(caller, notice_id, body, broker.core.limits, replaces_version=replaces, site=site)
    return broker.update(cmd)


def send(hotline: Hotline, caller: Party, body: Any) -> Outcome:
    return hotline.send(parse_send_message(caller, body))


def ack(hotline: Hotline, caller: Party, message_id: str, body: Any) -> Outcome:
    return hotline.acknowledge(parse_acknowledge_message(caller, message_id, body))
