"""The built-in demo theater: Syria, the morning of 30 September 2015 (see shared/THEATER-2015.md).

Each filing carries the time it reached the broker, so lead times and late notices come out as
they would have: the coalition filed the evening before, the Russian Aerospace Forces about one
hour before their first sorties.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from deconflict.domain.parse import parse_notice, parse_time
from deconflict.domain.policy import Limits
from deconflict.domain.volumes import Notice


@dataclass(frozen=True)
class Filing:
    filed_at: float
    notice: Notice


def load_theater_doc() -> dict[str, Any]:
    text = resources.files("deconflict.demo").joinpath("theater-2015.json").read_text()
    doc: dict[str, Any] = json.loads(text)
    return doc


def theater_filings(limits: Limits | None = None) -> list[Filing]:
    """The demo filings in the order they reached the broker."""
    doc = load_theater_doc()
    out = []
    for i, f in enumerate(doc["filings"]):
        n = parse_notice(f["notice"], limits, f"filings[{i}].notice")
        out.append(Filing(parse_time(f["filed_at"], f"filings[{i}].filed_at"), n))
    return sorted(out, key=lambda f: f.filed_at)
