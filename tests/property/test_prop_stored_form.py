"""A listed notice's JSON made from its stored text against the oracle: decode the stored text to a
notice and encode its wire form (what the list did before, and what a notice by id still does).

The list of notices builds each notice's wire form from the text the store keeps, copying the
volumes as stored (less their exact values) and decoding only the short keys around them
(:func:`deconflict.adapters.sql.codec.listed_notice`). For random notices (every shape kind,
several volumes, flight levels, schedules, times with microseconds, descriptions and names with
quotes, backslashes, non-ASCII letters and the very separators the splitting looks for) the text
must be the bytes ``JSONResponse`` writes for the decoded notice's wire form, and the party and
flag that disclosure decides on must be the decoded notice's, for random viewers and policies.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from prop_shapes import specs, volume

from deconflict.adapters.sql.codec import _listed_from_text, listed_notice, notice_body, notice_from_body
from deconflict.domain.disclosure import Disclosure
from deconflict.domain.disclosure_policy import DisclosurePolicy, Level
from deconflict.domain.parties import Party, Role
from deconflict.domain.schedule import DailyWindow, Schedule
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.domain.volumes import DESCRIPTION, AltitudeBand, AltitudeReference, Notice, NoticeState, Volume4D
from deconflict.services.wire import notice_json, wire_text

NASTY = ['"', "\\", ',"volumes":', '],"version":', ',"exact_si":{"a":1}', '{"volume":', "é", "航空", "\u2028", "}"]
"""Pieces of text that the splitting of the stored text looks for, or that JSON writes escaped."""
PARTIES = ("us-af", "uk-raf", "ru-vks", "sy-gaca", "un-ocha")

texts = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=8)), max_size=6).map("".join)


@st.composite
def schedules(draw: st.DrawFn) -> Schedule | None:
    if not draw(st.booleans()):
        return None
    windows = []
    for _ in range(draw(st.integers(1, 2))):
        start = draw(st.integers(0, 1439))
        end = (start + draw(st.integers(1, 1439))) % 1440 or 1440  # not the start; 24:00, not 00:00
        windows.append(DailyWindow(start * 60, end * 60))
    days = frozenset(draw(st.sets(st.integers(0, 6), min_size=1)))
    return Schedule(tuple(windows), days)


@st.composite
def notices(draw: st.DrawFn) -> Notice:
    vols = []
    for _ in range(draw(st.integers(1, 3))):
        center = (draw(st.floats(-80, 80)), draw(st.floats(-180, 180)))
        ref = draw(st.sampled_from(list(AltitudeReference)))
        lower = draw(st.floats(0 if ref is AltitudeReference.STD else -400, 20_000))  # no negative flight level
        upper = lower + draw(st.floats(1, 5_000))
        schedule = draw(schedules())
        t0 = draw(st.floats(0, 4e9))  # any float: the exact values keep what RFC 3339 text rounds
        t1 = t0 + draw(st.floats(60, 4e5) if schedule is None else st.floats(8 * 86400, 4e6))  # a week: active
        spec = replace(draw(specs(center)), via_json=False)  # the parser would round the times
        vols.append(replace(volume(spec, lower, upper, ref, t0, t1), schedule=schedule))
    extra: dict[str, str] = draw(st.dictionaries(st.sampled_from(["ACM", "x", DESCRIPTION]), texts, max_size=3))
    party = draw(st.one_of(st.sampled_from(PARTIES), texts.filter(bool)))
    return Notice(
        party=party,
        volumes=tuple(vols),
        id=f"{party}:{draw(texts)}",
        kind=draw(st.sampled_from(["activity", "protected-site", "exercise"])),
        version=draw(st.integers(1, 10**6)),
        state=draw(st.sampled_from(list(NoticeState))),
        received_at=draw(st.one_of(st.none(), st.floats(0, 4e9))),
        protected=draw(st.booleans()),
        extra=extra,
    )


@st.composite
def viewers(draw: st.DrawFn) -> Party:
    return Party(
        draw(st.sampled_from([*PARTIES, "admin"])),
        draw(st.sampled_from(list(Role))),
        draw(st.sampled_from([None, "coalition", "other"])),
    )


@st.composite
def disclosures(draw: st.DrawFn) -> Disclosure:
    policy = DisclosurePolicy(default=draw(st.sampled_from(list(Level))))
    for _ in range(draw(st.integers(0, 4))):
        viewer, subject = draw(st.sampled_from(PARTIES)), draw(st.sampled_from(PARTIES))
        policy = policy.with_grant(viewer, subject, draw(st.sampled_from(list(Level))))
    coalitions = {p: Party(p, Role.PARTY, draw(st.sampled_from([None, "coalition", "other"]))) for p in PARTIES}
    return Disclosure(policy, coalitions)


@settings(max_examples=300, deadline=None)
@given(notices(), viewers(), disclosures())
def test_the_text_made_from_the_stored_one_is_the_decoded_notices_wire_form(
    n: Notice, viewer: Party, d: Disclosure
) -> None:
    body = notice_body(n)
    decoded = notice_from_body(body)
    oracle = notice_json(decoded)
    fast = _listed_from_text(body)
    assert fast is not None  # made from the text, not by the decoding fallback
    assert fast.text == wire_text(oracle)
    assert listed_notice(body) == fast
    assert (fast.party, fast.protected) == (decoded.party, decoded.protected)
    # the list shows it exactly when the notice by id and the event stream do
    assert d.sees_notice(viewer, fast.party, fast.protected) == (d.notice_view(viewer, oracle) is not None)


def test_a_stored_text_without_exact_values_is_decoded_instead() -> None:
    """A volume without its exact values (a body written by hand or by an older broker) is not
    copied: its decoded times and altitudes could differ in the last digit from the text's."""
    shape = make_shape(ShapeKind.CIRCLE, [(10.0, 10.0)], 1500.0)
    band = AltitudeBand(914.4, 1828.8, AltitudeReference.STD)
    n = Notice("us-af", (Volume4D(shape, band, 1.0e9 + 0.123456, 1.0e9 + 3600),), id="us-af:a", received_at=1.5)
    body = notice_body(n)
    cut = body.replace(body[body.index(',"exact_si":') : body.index("}", body.index(',"exact_si":')) + 1], "")
    assert ',"exact_si"' not in cut
    assert _listed_from_text(cut) is None
    assert listed_notice(cut).text == wire_text(notice_json(notice_from_body(cut)))
