"""An in-memory 4D index of volumes: O(log n + k) look-ups on S2 cell × time-bucket keys.

Each time bucket holds its cell keys as a few sorted runs of geometrically decreasing size (a
log-structured merge) plus a small unsorted tail of recent inserts, so an insert costs amortized
O(log n) numpy work and a look-up costs a binary search per run and key range plus the candidates
it returns.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from deconflict.domain import cells
from deconflict.domain.geodesy import FloatArray, IntArray, distances_m
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.strategic import Conflict, may_conflict, volume_conflict
from deconflict.domain.volumes import Notice, Volume4D

TAIL = 256
"""Inserts buffered per bucket before they become a sorted run."""
RUN_RATIO = 4
"""Adjacent sorted runs are merged until each is more than this many times the next."""


@dataclass
class _Bucket:
    """Keys of one time bucket as a few sorted runs plus a small unsorted tail.

    Runs shrink geometrically (each at least ``RUN_RATIO`` times the next), so there are
    O(log n) of them and every key is merged O(log n) times: inserts cost amortized O(log n) numpy
    work instead of re-sorting the whole bucket, and a look-up is a binary search per run.
    """

    runs: list[tuple[IntArray, IntArray]] = field(default_factory=list)
    tail_keys: IntArray = field(default_factory=lambda: np.empty(TAIL, np.int64))
    tail_slots: IntArray = field(default_factory=lambda: np.empty(TAIL, np.int64))
    tail_n: int = 0

    def add(self, keys: list[int], slot: int) -> None:
        for k in keys:
            if self.tail_n == TAIL:
                self._flush()
            self.tail_keys[self.tail_n] = k
            self.tail_slots[self.tail_n] = slot
            self.tail_n += 1

    def _flush(self) -> None:
        order = np.argsort(self.tail_keys[: self.tail_n], kind="stable")
        self.runs.append((self.tail_keys[: self.tail_n][order].copy(), self.tail_slots[: self.tail_n][order].copy()))
        self.tail_n = 0
        while len(self.runs) >= 2 and len(self.runs[-2][0]) <= RUN_RATIO * len(self.runs[-1][0]):
            (k1, s1), (k2, s2) = self.runs[-2], self.runs.pop()
            k = np.concatenate([k1, k2])
            order = np.argsort(k, kind="stable")  # two sorted runs: timsort merges them in linear time
            self.runs[-1] = (k[order], np.concatenate([s1, s2])[order])

    def find(self, lo: IntArray, hi: IntArray) -> list[IntArray]:
        out: list[IntArray] = []
        for keys, slots in self.runs:
            i0 = keys.searchsorted(lo, "left")
            i1 = keys.searchsorted(hi, "right")
            out.extend(slots[a:b] for a, b in zip(i0.tolist(), i1.tolist(), strict=True) if b > a)
        if self.tail_n:
            tk = self.tail_keys[: self.tail_n]
            hit = ((tk[None, :] >= lo[:, None]) & (tk[None, :] <= hi[:, None])).any(axis=0)
            out.append(self.tail_slots[: self.tail_n][hit])
        return out


def within_search(
    volume: Volume4D, policy: SeparationPolicy, lat: FloatArray, lon: FloatArray, bound_m: FloatArray
) -> npt.NDArray[np.bool_]:
    """The last pre-filter of every store: stored shapes (centre ``lat``/``lon``, bound ``bound_m``)
    whose bounding caps come within ``policy.search_m`` of the volume's cap."""
    clat, clon = volume.shape.center
    d = distances_m(np.full(len(lat), clat), np.full(len(lat), clon), lat, lon)
    keep: npt.NDArray[np.bool_] = d - bound_m - volume.shape.bound_m <= policy.search_m
    return keep


class _Columns:
    """Per-volume attributes as growable numpy columns, for vectorized filtering."""

    NAMES = ("t0", "t1", "lo", "hi", "lat", "lon", "bound")

    def __init__(self) -> None:
        self.n = 0
        cap = 1024
        self.f = {name: np.empty(cap) for name in self.NAMES}
        self.party = np.empty(cap, np.int64)
        self.protected = np.empty(cap, bool)
        self.alive = np.empty(cap, bool)

    def append(self, v: Volume4D, party: int, protected: bool) -> int:
        if self.n == len(self.alive):
            cap = 2 * self.n
            self.f = {k: np.resize(a, cap) for k, a in self.f.items()}
            self.party = np.resize(self.party, cap)
            self.protected = np.resize(self.protected, cap)
            self.alive = np.resize(self.alive, cap)
        i = self.n
        row = (
            v.time_start,
            v.time_end,
            v.altitude.lower_m,
            v.altitude.upper_m,
            *v.shape.center,
            v.shape.bound_m,
        )
        for name, value in zip(self.NAMES, row, strict=True):
            self.f[name][i] = value
        self.party[i] = party
        self.protected[i] = protected
        self.alive[i] = True
        self.n += 1
        return i


class VolumeIndex:
    """Notices' volumes, indexed for "which stored volumes may conflict with this one".

    >>> idx = VolumeIndex()
    >>> len(idx)
    0
    """

    def __init__(self) -> None:
        self._buckets: dict[int, _Bucket] = {}
        self._cols = _Columns()
        self._refs: list[tuple[Hashable, int]] = []
        self._notices: dict[Hashable, Notice] = {}
        self._slots_of: dict[Hashable, list[int]] = {}
        self._party_codes: dict[str, int] = {}
        self._live = 0

    def __len__(self) -> int:
        """Number of indexed volumes."""
        return self._live

    def notices(self) -> Iterator[tuple[Hashable, Notice]]:
        return iter(self._notices.items())

    def add(self, key: Hashable, notice: Notice) -> None:
        """Index every volume of ``notice`` under ``key`` (replacing what ``key`` held)."""
        if key in self._notices:
            self.remove(key)
        party = self._party_codes.setdefault(notice.party, len(self._party_codes))
        slots = []
        for i, v in enumerate(notice.volumes):
            slot = self._cols.append(v, party, notice.protected)
            self._refs.append((key, i))
            keys = cells.store_keys(v.shape.center[0], v.shape.center[1], v.shape.bound_m)
            for b in cells.store_buckets(v.time_start, v.time_end):
                self._buckets.setdefault(b, _Bucket()).add(keys, slot)
            slots.append(slot)
        self._notices[key] = notice
        self._slots_of[key] = slots
        self._live += len(slots)

    def remove(self, key: Hashable) -> None:
        """Forget a notice (its stale keys are skipped by the ``alive`` mask)."""
        for slot in self._slots_of.pop(key, []):
            self._cols.alive[slot] = False
            self._live -= 1
        self._notices.pop(key, None)

    def candidates(
        self,
        volume: Volume4D,
        policy: SeparationPolicy,
        notice: Notice | None = None,
        time_margin_s: float = 0.0,
        vertical_margin_m: float = 0.0,
    ) -> list[tuple[Hashable, int]]:
        """(key, volume index) of stored volumes that may be within ``policy`` of ``volume``
        (widened by the margins), after the party rule when ``notice`` is given.

        A superset of the true conflicts: exact geometry is left to the caller.
        """
        slots = self._candidate_slots(volume, policy, notice, time_margin_s, vertical_margin_m)
        return [self._refs[s] for s in slots.tolist()]

    def _candidate_slots(
        self,
        v: Volume4D,
        policy: SeparationPolicy,
        notice: Notice | None,
        time_margin_s: float,
        vertical_margin_m: float,
    ) -> IntArray:
        reach_t = policy.time_s + time_margin_s
        lat, lon = v.shape.center
        ranges = cells.lookup_ranges(lat, lon, v.shape.bound_m + policy.search_m)
        probes: dict[int, tuple[list[int], list[int]]] = {}
        for b, lo_key, hi_key in cells.lookup_probes(v, reach_t, ranges):
            if b in self._buckets:
                los, his = probes.setdefault(b, ([], []))
                los.append(lo_key)
                his.append(hi_key)
        found: list[IntArray] = []
        for b, (los, his) in probes.items():
            found.extend(self._buckets[b].find(np.array(los, np.int64), np.array(his, np.int64)))
        if not found:
            return np.empty(0, np.int64)
        s = np.unique(np.concatenate(found))
        c, f = self._cols, self._cols.f
        keep = c.alive[s]
        keep &= np.maximum(f["t0"][s] - v.time_end, v.time_start - f["t1"][s]) <= reach_t
        vreach = policy.max_vertical_m + vertical_margin_m
        keep &= np.maximum(f["lo"][s] - v.altitude.upper_m, v.altitude.lower_m - f["hi"][s]) <= vreach
        if notice is not None:
            if notice.protected:
                keep &= ~c.protected[s]
            else:
                code = self._party_codes.get(notice.party, -1)
                keep &= (c.party[s] != code) | c.protected[s]
        s = s[keep]
        if len(s):
            s = s[within_search(v, policy, f["lat"][s], f["lon"][s], f["bound"][s])]
        return s

    def conflicts(self, notice: Notice, policy: SeparationPolicy, exclude: Hashable | None = None) -> list[Conflict]:
        """Exact conflicts of ``notice`` with the stored notices (other than ``exclude``)."""
        out: list[Conflict] = []
        for i, v in enumerate(notice.volumes):
            for key, j in self.candidates(v, policy, notice):
                if key == exclude:
                    continue
                other = self._notices[key]
                if not may_conflict(notice, other):
                    continue
                detail = volume_conflict(v, other.volumes[j], policy)
                if detail is not None:
                    out.append(Conflict(notice, i, other, j, detail))
        return out
