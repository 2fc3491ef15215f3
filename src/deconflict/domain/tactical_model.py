"""What tactical detection takes and gives: the minima (:class:`TacticalPolicy`), the aircraft
states (:class:`States`) and the pairs found (:class:`Conflicts`), as struct-of-arrays.

The detection itself, and the definitions it follows, are in :mod:`deconflict.domain.tactical`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from deconflict.domain.errors import ValidationError
from deconflict.domain.geodesy import BoolArray, FloatArray, IntArray
from deconflict.domain.units import FOOT_M, NAUTICAL_MILE_M


@dataclass(frozen=True)
class TacticalPolicy:
    """The tactical minima: horizontal ``rpz_m``, vertical ``hpz_m``, look-ahead ``lookahead_s``.

    ``all_pairs=False`` compares only aircraft of different groups (parties).

    >>> TacticalPolicy(rpz_m=-1)
    Traceback (most recent call last):
    ...
    deconflict.domain.errors.ValidationError: rpz_m: must be a finite number > 0, got -1
    """

    rpz_m: float = 5 * NAUTICAL_MILE_M
    hpz_m: float = 1000 * FOOT_M
    lookahead_s: float = 300.0
    all_pairs: bool = False

    def __post_init__(self) -> None:
        for name in ("rpz_m", "hpz_m", "lookahead_s"):
            value = getattr(self, name)
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or value <= 0:
                raise ValidationError.at(name, f"must be a finite number > 0, got {value!r}")
        if not isinstance(self.all_pairs, bool):
            raise ValidationError.at("all_pairs", f"must be true or false, got {self.all_pairs!r}")


DEFAULT_POLICY = TacticalPolicy()
"""5 NM, 1000 ft, 300 s, different parties only: the default of every detection function."""


@dataclass(frozen=True)
class States:
    """Aircraft states, one row per aircraft (struct of arrays, SI units, degrees WGS84).

    ``trk_deg`` is the true track (clockwise from north), ``vs_mps`` positive up. ``group`` is the
    party of each aircraft; ``None`` makes every aircraft its own party.

    >>> s = States.from_arrays(lat=[0, 0], lon=[0, 1], alt_m=[1e4, 1e4], gs_mps=[200, 200],
    ...                        trk_deg=[90, 270], vs_mps=[0, 0])
    >>> len(s), s.lat.dtype
    (2, dtype('float64'))
    """

    lat: FloatArray
    lon: FloatArray
    alt_m: FloatArray
    gs_mps: FloatArray
    trk_deg: FloatArray
    vs_mps: FloatArray
    group: IntArray | None = None

    @classmethod
    def from_arrays(
        cls,
        *,
        lat: npt.ArrayLike,
        lon: npt.ArrayLike,
        alt_m: npt.ArrayLike,
        gs_mps: npt.ArrayLike,
        trk_deg: npt.ArrayLike,
        vs_mps: npt.ArrayLike,
        group: npt.ArrayLike | None = None,
    ) -> States:
        """Contiguous float64 (int64 for ``group``) copies, checked: equal lengths, finite values,
        latitudes within ±90°, ground speeds ≥ 0. Raises :class:`ValidationError` naming the field."""
        cols = {"lat": lat, "lon": lon, "alt_m": alt_m, "gs_mps": gs_mps, "trk_deg": trk_deg, "vs_mps": vs_mps}
        arrays: dict[str, FloatArray] = {}
        for name, value in cols.items():
            a = np.ascontiguousarray(value, dtype=np.float64)
            if a.ndim != 1:
                raise ValidationError.at(name, f"must be one-dimensional, got shape {a.shape}")
            if not np.isfinite(a).all():
                raise ValidationError.at(name, f"must be finite (row {int(np.flatnonzero(~np.isfinite(a))[0])})")
            arrays[name] = a
        n = len(arrays["lat"])
        for name, a in arrays.items():
            if len(a) != n:
                raise ValidationError.at(name, f"has {len(a)} rows, lat has {n}")
        if n and (np.abs(arrays["lat"]) > 90).any():
            raise ValidationError.at("lat", "must be within [-90, 90] degrees")
        if n and (arrays["gs_mps"] < 0).any():
            raise ValidationError.at("gs_mps", "must be ≥ 0")
        groups: IntArray | None = None
        if group is not None:
            g = np.asarray(group)
            if g.ndim != 1 or len(g) != n:
                raise ValidationError.at("group", f"must be one-dimensional with {n} rows, got shape {g.shape}")
            if n and not np.issubdtype(g.dtype, np.integer):
                raise ValidationError.at("group", f"must hold integers (party indices), got {g.dtype}")
            groups = np.ascontiguousarray(g, dtype=np.int64)
        return cls(group=groups, **arrays)

    def __len__(self) -> int:
        return len(self.lat)


@dataclass(frozen=True)
class Conflicts:
    """Pairs in conflict or in loss of separation, one row per pair, ``i < j``, sorted by (i, j).

    Times are from now (s), distances in metres; ``dalt_m`` is ``alt_i - alt_j``; ``los`` marks the
    pairs already in loss of separation (``dist < R`` and ``|dalt| < H``).
    """

    i: IntArray
    j: IntArray
    tcpa_s: FloatArray
    dcpa_m: FloatArray
    tin_s: FloatArray
    tout_s: FloatArray
    dist_m: FloatArray
    dalt_m: FloatArray
    los: BoolArray

    def __len__(self) -> int:
        return len(self.i)

    def pairs(self) -> set[tuple[int, int]]:
        """The pairs as a set of ``(i, j)`` tuples (for comparisons)."""
        return set(zip(self.i.tolist(), self.j.tolist(), strict=True))

    def take(self, rows: IntArray | BoolArray) -> Conflicts:
        """The selected rows (an index array or a mask)."""
        return Conflicts(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @classmethod
    def empty(cls) -> Conflicts:
        z = np.zeros(0)
        k = np.zeros(0, dtype=np.int64)
        return cls(k, k.copy(), z, z.copy(), z.copy(), z.copy(), z.copy(), z.copy(), np.zeros(0, dtype=bool))

    @classmethod
    def concat(cls, parts: list[Conflicts]) -> Conflicts:
        """Rows of several results, sorted by (i, j)."""
        if not parts:
            return cls.empty()
        out = cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})
        return out.take(np.lexsort((out.j, out.i)))
