"""The in-memory store's look-up of a notice's volumes near a volume, judged one notice at a time:
the filter of the SQL store's look-up (:mod:`deconflict.adapters.sql.lookup`) and of the
:class:`~deconflict.domain.index.VolumeIndex`, for the notices the index does not hold (staged in a
transaction) or that are named (``candidates_among``)."""

from __future__ import annotations

import numpy as np

from deconflict.domain.index import within_search
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.volumes import Notice, Volume4D


def near(
    volume: Volume4D,
    policy: SeparationPolicy,
    notice: Notice,
    other: Notice,
    time_margin_s: float,
    vertical_margin_m: float,
) -> list[int]:
    """The volumes of ``other`` that the SQL store's look-up keeps for ``volume`` of ``notice``: live,
    within reach in time and altitude, of another party (or a protected site), then near enough."""
    if not other.state.is_live or other.id == notice.id:
        return []
    if other.protected if notice.protected else other.party == notice.party and not other.protected:
        return []
    reach_t, reach_v = policy.time_s + time_margin_s, policy.max_vertical_m + vertical_margin_m
    near = [
        j
        for j, v in enumerate(other.volumes)
        if v.time_start - volume.time_end <= reach_t
        and volume.time_start - v.time_end <= reach_t
        and v.altitude.lower_m - volume.altitude.upper_m <= reach_v
        and volume.altitude.lower_m - v.altitude.upper_m <= reach_v
    ]
    if not near:
        return []
    vols = [other.volumes[j] for j in near]
    keep = within_search(
        volume,
        policy,
        np.array([v.shape.center[0] for v in vols], float),
        np.array([v.shape.center[1] for v in vols], float),
        np.array([v.shape.bound_m for v in vols], float),
    )
    return [j for j, k in zip(near, keep.tolist(), strict=True) if k]
