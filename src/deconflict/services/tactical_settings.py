"""The theater's tactical settings (``[tactical]`` in the configuration)."""

from __future__ import annotations

from dataclasses import dataclass

from deconflict.domain.tactical import DEFAULT_POLICY, TacticalPolicy


@dataclass(frozen=True)
class TacticalSettings:
    """The domain's minima (:data:`~deconflict.domain.tactical.DEFAULT_POLICY`) unless ``[tactical]`` changes them."""

    rpz_m: float = DEFAULT_POLICY.rpz_m
    """Horizontal minimum (5 NM)."""
    hpz_m: float = DEFAULT_POLICY.hpz_m
    """Vertical minimum (1000 ft)."""
    lookahead_s: float = DEFAULT_POLICY.lookahead_s
    track_timeout_s: float = 60.0
    """A track not updated for this long ages out."""
    conformance_grace_s: float = 30.0
    """An aircraft outside its party's volumes for this long is nonconforming."""
    cycle_s: float = 1.0
    """How often the server runs a detection cycle when no report comes; a kept report starts one
    sooner (see ``cycle_min_gap_s``)."""
    cycle_min_gap_s: float = 0.2
    """The least time between the starts of two cycles: a report kept starts the next cycle as soon as
    this much has passed since the last one started (cycles never overlap), so a flood of reports
    cannot keep the cycle thread busy all the time. At most ``cycle_s``."""
    notices_refresh_s: float = 5.0
    """How often the cycle re-reads the notices in force from the store."""
    run_cycles: bool = True
    """Whether this process runs detection cycles: exactly one process per theater should."""
    all_pairs: bool = DEFAULT_POLICY.all_pairs
    """Also alert on pairs of the same party (normally each party separates its own aircraft)."""
    overhead_m: float = 0.0
    """How close (horizontally, within its altitude band) an aircraft may come to a protected site
    before it counts as overhead it: an incursion. 0 = the site's own outline."""
    max_aircraft_per_party: int = 5000
    """Most live aircraft one party may have in the picture; a report that would add more is
    refused whole (429)."""
    states_per_s: float = 10_000.0
    """Track states one party may report per second, on average ..."""
    states_burst: int = 10_000
    """... and at once (a bucket this deep, refilled at ``states_per_s``); a report beyond it is
    refused whole (429, ``Retry-After``)."""

    @property
    def policy(self) -> TacticalPolicy:
        return TacticalPolicy(
            rpz_m=self.rpz_m, hpz_m=self.hpz_m, lookahead_s=self.lookahead_s, all_pairs=self.all_pairs
        )
