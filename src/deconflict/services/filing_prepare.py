"""A filing or update made ready before the filing lock: parsed (by the caller), detected, and
where the filer sees every conflicting party whole, its resolution hints and the notices near it
for the probe rule (:mod:`deconflict.services.probes`).

Each of these is exact geometry: seconds for the heaviest filing the limits allow. Under the lock
they would stall every other party's filing, so they are made here, against a read snapshot, and
:mod:`deconflict.services.filing_flow` brings them up to date under the lock with what changed
since (:func:`~deconflict.services.filing_flow.settle`,
:func:`~deconflict.services.filing_flow.settle_near`; hints are made again there only when the
conflicts they were made for changed). Neither the hints nor the near search is needed when the
filer does not see a conflicting party whole: that conflict charges the probe budget anyway, and
hints are withheld.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deconflict.domain.disclosure_policy import Level
from deconflict.domain.fields import Said
from deconflict.domain.grid import SliceGrid
from deconflict.domain.parties import Party
from deconflict.domain.resolution import resolution_hints
from deconflict.domain.volumes import Notice, Volume4D
from deconflict.services import probes
from deconflict.services.filing import Settings, detect
from deconflict.services.filing_flow import Detected, conflict_keys, near_notices, preslice
from deconflict.services.transaction import BrokerCore
from deconflict.services.wire import NOTHING_ENCODED, Encoded

EarlyHints = tuple[tuple[tuple[int, str | None, int, int], ...], dict[str, Any]]
"""Resolution hints made before the filing lock, with the conflict keys they were made for."""


@dataclass(frozen=True)
class Prepared:
    """A filing or an update's new version, parsed and detected before the filing lock, to be
    written under it (``Notices.file_prepared``, ``Notices.update_prepared``)."""

    notice: Notice
    said: Said
    seen: Detected
    early: EarlyHints | None
    grid: SliceGrid
    enc: Encoded = NOTHING_ENCODED
    """The notice's volumes and the conflicts' slices in their wire and canonical forms."""


def prepare(core: BrokerCore, caller: Party, notice: Notice, said: Said, detect_as: Notice) -> Prepared:
    """``notice`` (as parsed, ``said`` its defaults) detected as ``detect_as`` (the same notice
    under the id it will be stored with, for an update) in one read transaction."""
    sep = core.settings.separation
    near_policy = probes.widened(sep, core.policy.grid)
    with core.store.begin(write=False) as repo:
        # The position first: on PostgreSQL each statement may see later commits, and those are
        # after this position, so settle() and settle_near() check them again.
        seq = repo.last_seq()
        found = detect(repo, detect_as, sep)
        d = core.disclosure(repo)
        whole = all(c.b.protected or d.level(caller, c.b.party) is Level.FULL for c in found)
        near = near_notices(repo, detect_as, near_policy) if whole else None
    seen = Detected(detect_as, found, seq, near, near_policy if whole else None)
    early = None
    if whole and found and not detect_as.protected:
        pairs = [(c.volume_a, c.b.volumes[c.volume_b]) for c in found]
        early = conflict_keys(found), hints_body(core.settings, detect_as, pairs)
    enc = Encoded.of(detect_as, (c.detail for c in found))
    core.store.encode_ahead(detect_as, (c.detail for c in found))
    return Prepared(notice, said, seen, early, preslice(core.policy.grid, found, enc), enc)


def hints_body(settings: Settings, n: Notice, pairs: list[tuple[int, Volume4D]]) -> dict[str, Any]:
    """The ``hints`` of a filing's response: each shift that alone clears the conflicts of ``pairs``
    (volume index of ``n``, the other volume)."""
    h = resolution_hints(n, pairs, settings.separation, settings.hints)
    return {
        "earlier_s": h.earlier_s,
        "later_s": h.later_s,
        "up_m": h.up_m,
        "down_m": h.down_m,
        "note": "each shift alone clears the conflicts listed; a changed notice is checked again when filed",
    }
