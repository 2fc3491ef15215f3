"""A conflict's resolution as an ACMREQ draft: the measure moved by the smallest shift that clears
the conflict, readable back, and clear of the other notice once moved."""

from __future__ import annotations

import pytest

from deconflict.domain.index import VolumeIndex
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.resolution import HintBounds, resolution_hints
from deconflict.domain.volumes import Notice
from deconflict.formats.aco import read_aco
from deconflict.formats.aco_acmreq import write_acmreq
from deconflict.formats.aco_export import AcoExportError
from deconflict.formats.aco_text import read_time

TEXT = """OPER/INHERENT RESOLVE//
MSGID/ACO/CAOC//
GEODATUM/WGE//
ACMID/ACM:ROZ/NAME:{name}/CIRCLE/USE:CAP//
CIRCLE/LATM:3521N03645E/RADIUS:10NM//
EFFLEVEL/FLFL:{band}//
APERIOD/DISCRETE/{start}/{stop}//
"""


def _notice(party: str, name: str, band: str, start: str, stop: str) -> Notice:
    got = read_aco(TEXT.format(name=name, band=band, start=start, stop=stop), party)
    assert got.problems == []
    return got.notices[0]


MINE = _notice("coalition", "ISR", "FL220-FL280", "300600ZSEP2015", "301200ZSEP2015")
THEIRS = _notice("ru-vks", "VKS", "FL100-FL250", "301100ZSEP2015", "301500ZSEP2015")
POLICY = SeparationPolicy()


@pytest.mark.parametrize("shift", ["earlier", "up"])
def test_the_draft_moves_the_measure_clear_of_the_other(shift: str) -> None:
    hints = resolution_hints(MINE, [(0, THEIRS.volumes[0])], POLICY, HintBounds())
    text = write_acmreq(MINE, hints, "c-1", shift, "coalition", "INHERENT RESOLVE")
    assert text.startswith("OPER/INHERENT RESOLVE//\nMSGID/ACMREQ/coalition//")
    back = read_aco(text, "coalition", message="ACMREQ")
    assert back.problems == [] and len(back.notices) == 1
    moved = back.notices[0]
    assert "TO CLEAR DECONFLICT CONFLICT c-1" in moved.extra["description"]
    index = VolumeIndex()
    index.add("theirs", THEIRS)
    assert index.conflicts(MINE, POLICY) != []
    assert index.conflicts(moved, POLICY) == []
    if shift == "earlier":  # 1100Z less 5 min of separation, closed: the window now ends at 1054Z
        assert hints.earlier_s is not None
        assert moved.volumes[0].time_end == read_time("301054ZSEP2015", "") == MINE.time_end - hints.earlier_s
    else:
        assert hints.up_m is not None
        assert moved.volumes[0].altitude.lower_m >= MINE.volumes[0].altitude.lower_m + hints.up_m - 30.48


def test_a_shift_that_clears_nothing_within_bounds_is_refused_naming_the_others() -> None:
    hints = resolution_hints(MINE, [(0, THEIRS.volumes[0])], POLICY, HintBounds(max_altitude_shift_m=100.0))
    assert hints.down_m is None
    with pytest.raises(AcoExportError, match=r"no down shift .* clears conflict c-1; try the shift later or earlier"):
        write_acmreq(MINE, hints, "c-1", "down", "coalition", "OP")
    with pytest.raises(AcoExportError, match="use one of later, earlier, up, down"):
        write_acmreq(MINE, hints, "c-1", "sideways", "coalition", "OP")
