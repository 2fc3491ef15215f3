"""The store's look-ups of volumes that may be near a volume: the 4D index (S2 cell keys × time
buckets in ``volume_cells``, :func:`candidate_statement`) and the same filter over given notices'
volume rows (:func:`among_statement`). The final centre-distance test is done in Python on the
rows they return (:class:`~deconflict.adapters.sql.repository.SqlRepository`)."""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa

from deconflict.adapters.sql import tables as t
from deconflict.domain import cells
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.volumes import Notice, Volume4D

PAD_PROBE = (-(2**31), 1, 0)
"""A probe that finds nothing (an empty key range in a bucket 1.5 million years before 1970); it
pads the probe list so that a few statement shapes serve every look-up."""
MAX_PROBES = 256
"""Most probes in one statement. SQLite parses ``a OR b OR …`` into a tree as deep as the list and
refuses trees deeper than 1000; a look-up with more probes (a week-long window with hours of
margin over a large shape) is split into several statements."""


def candidate_statement(
    volume: Volume4D,
    policy: SeparationPolicy,
    notice: Notice,
    time_margin_s: float = 0.0,
    vertical_margin_m: float = 0.0,
) -> list[tuple[sa.Select[Any], dict[str, Any]]]:
    """The index look-up for ``volume`` as (statement, parameters) pairs: one pair unless it needs
    more than :data:`MAX_PROBES` probes. It is the filter of ``VolumeIndex._candidate_slots``
    except the final centre-distance test (done in Python on the rows it returns)::

        SELECT v.notice_id, v.idx, v.center_lat, v.center_lon, v.bound_m
        FROM (SELECT DISTINCT notice_id, idx FROM volume_cells
              WHERE bucket = :b0 AND cell BETWEEN :lo0 AND :hi0
                 OR bucket = :b1 AND cell BETWEEN :lo1 AND :hi1 OR …) AS hits  -- bucket × key range
        JOIN volumes v ON v.notice_id = hits.notice_id AND v.idx = hits.idx
        WHERE v.live AND v.time_start - :t1 <= :reach_t AND :t0 - v.time_end <= :reach_t
          AND v.alt_lower_m - :upper <= :reach_v AND :lower - v.alt_upper_m <= :reach_v
          AND <party rule> AND v.notice_id <> :notice_id

    The probes are :func:`~deconflict.domain.cells.lookup_probes`: each key range in each
    six-hour bucket of the widened window (of a long recurring volume's occurrences), and one
    span of them in each long (weekly) bucket.
    Each probe is one B-tree range scan on ``ix_volume_cells_bucket_cell``: SQLite plans the OR as
    a "MULTI-INDEX OR", PostgreSQL as a BitmapOr of index scans; the hits' volumes are then read
    by primary key (or hash-joined with a filtered scan of ``volumes`` where PostgreSQL judges
    that cheaper). The probe is a derived table of its own so that it runs first whatever
    the statistics say (joined directly, SQLite scanned ``volumes`` instead when it was small).
    Both engines see the probe values, so they estimate each range from their statistics. The gaps
    are computed as the in-memory index computes them (the same IEEE double arithmetic), so both
    stores return the same candidates. The probe list is padded with an empty probe to a power of
    two, so that a few statement shapes serve every look-up and each is compiled once.
    """
    reach_t = policy.time_s + time_margin_s
    lat, lon = volume.shape.center
    ranges = cells.lookup_ranges(lat, lon, volume.shape.bound_m + policy.search_m)
    probes = cells.lookup_probes(volume, reach_t, ranges)
    common = reach_params(volume, policy, notice, time_margin_s, vertical_margin_m)
    out = []
    for i in range(0, len(probes), MAX_PROBES):
        chunk = probes[i : i + MAX_PROBES]
        size = 1 << (len(chunk) - 1).bit_length()  # pad to a power of two
        chunk += [PAD_PROBE] * (size - len(chunk))
        params = dict(common)
        for k, (b, lo, hi) in enumerate(chunk):
            params[f"b{k}"], params[f"lo{k}"], params[f"hi{k}"] = b, lo, hi
        out.append((_probe_select(size, notice.protected, notice.id is not None), params))
    return out


def reach_params(
    volume: Volume4D, policy: SeparationPolicy, notice: Notice, time_margin_s: float, vertical_margin_m: float
) -> dict[str, Any]:
    """The parameters of :func:`_within_reach`: ``volume``'s window and band, how far they reach."""
    return {
        "t0": volume.time_start,
        "t1": volume.time_end,
        "reach_t": policy.time_s + time_margin_s,
        "lower": volume.altitude.lower_m,
        "upper": volume.altitude.upper_m,
        "reach_v": policy.max_vertical_m + vertical_margin_m,
        "party": notice.party,
        "notice_id": notice.id,
    }


@functools.lru_cache(maxsize=64)
def _probe_select(n_probes: int, protected: bool, has_id: bool) -> sa.Select[Any]:
    def p(name: str, type_: sa.types.TypeEngine[Any]) -> sa.BindParameter[Any]:
        return sa.bindparam(name, type_=type_)

    vc, v = t.volume_cells, t.volumes
    probes = sa.or_(
        *(
            sa.and_(
                vc.c.bucket == p(f"b{k}", sa.Integer()),
                vc.c.cell.between(p(f"lo{k}", sa.BigInteger()), p(f"hi{k}", sa.BigInteger())),
            )
            for k in range(n_probes)
        )
    )
    hits = sa.select(vc.c.notice_id, vc.c.idx).where(probes).distinct().subquery("hits")
    stmt = (
        sa.select(v.c.notice_id, v.c.idx, v.c.center_lat, v.c.center_lon, v.c.bound_m)
        .select_from(hits)
        .join(v, sa.and_(v.c.notice_id == hits.c.notice_id, v.c.idx == hits.c.idx))
    )
    return _within_reach(stmt, protected, has_id)


@functools.lru_cache(maxsize=8)
def among_statement(protected: bool, has_id: bool) -> sa.Select[Any]:
    """:func:`_probe_select` for the volumes of the notices in ``:ids``, without the cell index."""
    v = t.volumes
    stmt = sa.select(v.c.notice_id, v.c.idx, v.c.center_lat, v.c.center_lon, v.c.bound_m).where(
        v.c.notice_id.in_(sa.bindparam("ids", expanding=True))
    )
    return _within_reach(stmt, protected, has_id)


def _within_reach(stmt: sa.Select[Any], protected: bool, has_id: bool) -> sa.Select[Any]:
    """``stmt`` over ``volumes`` kept to the live volumes within reach in time and altitude of the
    parameters :func:`reach_params` gives, of another party (or a protected site)."""

    def p(name: str, type_: sa.types.TypeEngine[Any]) -> sa.BindParameter[Any]:
        return sa.bindparam(name, type_=type_)

    double: sa.Double[float] = sa.Double()
    v = t.volumes
    stmt = stmt.where(
        v.c.live,
        v.c.time_start - p("t1", double) <= p("reach_t", double),
        p("t0", double) - v.c.time_end <= p("reach_t", double),
        v.c.alt_lower_m - p("upper", double) <= p("reach_v", double),
        p("lower", double) - v.c.alt_upper_m <= p("reach_v", double),
    )
    if protected:  # a protected site meets every notice, never another site
        stmt = stmt.where(sa.not_(v.c.protected))
    else:
        stmt = stmt.where(sa.or_(v.c.party != p("party", sa.Text()), v.c.protected))
    if has_id:
        stmt = stmt.where(v.c.notice_id != p("notice_id", sa.Text()))
    return stmt
