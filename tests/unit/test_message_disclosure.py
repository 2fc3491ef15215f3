"""The hotline's views name a party only to those who may name it (issue 11, items 1, 3, 4): the
rules of :mod:`deconflict.domain.message_disclosure`, pure, with the names as markers to search for."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deconflict.domain.disclosure import Disclosure
from deconflict.domain.disclosure_policy import DisclosurePolicy, Level
from deconflict.domain.parties import Party, Role

PARTIES = {
    p.name: p
    for p in (
        Party("aa-hidden", Role.PARTY),  # sorts before everyone
        Party("mm-viewer", Role.PARTY),
        Party("zz-hidden", Role.PARTY),  # sorts after everyone
        Party("kk-named", Role.PARTY),
        Party("pp-partner", Role.PARTY, coalition="blue"),
        Party("qq-partner", Role.PARTY, coalition="blue"),
        Party("oo-observer", Role.OBSERVER),
        Party("ob-granted", Role.OBSERVER),
        Party("root", Role.ADMIN),
    )
}
POLICY = (
    DisclosurePolicy()
    .with_pair("mm-viewer", "aa-hidden", Level.EXISTENCE)
    .with_pair("mm-viewer", "zz-hidden", Level.EXISTENCE)
    .with_grant("mm-viewer", "ob-granted", Level.CONFLICTS_ONLY)
    .with_grant("oo-observer", "kk-named", Level.CONFLICTS_ONLY)
)
D = Disclosure(POLICY, PARTIES)


def who(name: str) -> Party:
    return PARTIES[name]


@pytest.mark.parametrize(
    ("viewer", "subject", "named"),
    [
        ("mm-viewer", "mm-viewer", True),  # oneself
        ("mm-viewer", "broker", True),
        ("mm-viewer", "root", True),  # the operator is known to all
        ("root", "aa-hidden", True),  # the admin names everyone
        ("mm-viewer", "kk-named", True),  # the default, conflicts-only
        ("pp-partner", "qq-partner", True),  # coalition
        ("mm-viewer", "aa-hidden", False),  # existence: that something conflicts, not who
        ("mm-viewer", "oo-observer", False),  # the default is no grant on an observer
        ("mm-viewer", "ob-granted", True),  # an explicit rule is
        ("oo-observer", "kk-named", True),  # an observer's grant
        ("oo-observer", "mm-viewer", False),
        ("mm-viewer", "nobody-here", False),  # a name the broker does not know
    ],
)
def test_who_may_name_whom(viewer: str, subject: str, named: bool) -> None:
    assert D.may_name(who(viewer), subject) is named


def message(sender: str, *to: str, auto: bool = False) -> dict[str, Any]:
    return {
        "id": "m1",
        "thread_id": "t1",
        "in_reply_to": None,
        "from": sender,
        "to": [
            {
                "party": p,
                "state": "pending",
                "deadline": None,
                "received_at": None,
                "understood_at": None,
                "escalations": 0,
                "standing": "no-deadline",
            }
            for p in to
        ],
        "subject": "subject-marker",
        "text": "text-marker",
        "priority": "routine",
        "ref": None,
        "auto": auto,
        "sent_at": "2015-09-30T00:00:00Z",
    }


def test_a_relayed_message_names_neither_side_to_the_other() -> None:
    m = message("mm-viewer", "aa-hidden", "kk-named")
    mine = D.message_view(who("mm-viewer"), m)
    assert mine is not None and [r["party"] for r in mine["to"]] == ["kk-named", None] and mine["relayed"]
    assert "aa-hidden" not in json.dumps(mine)
    theirs = D.message_view(who("aa-hidden"), m)
    assert theirs is not None and theirs["from"] is None and theirs["relayed"]
    assert theirs["text"] == "text-marker"  # delivered whole but for the names
    assert "mm-viewer" not in json.dumps(theirs)
    assert D.message_view(who("zz-hidden"), m) is None  # not a participant
    whole = D.message_view(who("root"), m)
    assert whole == {**m, "relayed": False}


def test_the_place_of_an_unnamed_recipient_does_not_tell_how_its_name_sorts() -> None:
    viewer = who("mm-viewer")
    before = D.message_view(viewer, message("broker", "aa-hidden", "mm-viewer", auto=True))
    after = D.message_view(viewer, message("broker", "mm-viewer", "zz-hidden", auto=True))
    assert before == after
    assert before is not None and [r["party"] for r in before["to"]] == ["mm-viewer", None]


def test_an_acknowledgement_and_an_overdue_name_the_recipient_only_where_the_view_does() -> None:
    m = message("mm-viewer", "aa-hidden")
    ack = D.event_view(who("mm-viewer"), "message.acknowledged", {"message": m, "party": "aa-hidden", "state": "x"})
    assert ack is not None and ack["party"] is None and "aa-hidden" not in json.dumps(ack)
    late = {"message": m, "party": "aa-hidden", "round": 1, "deadline": 1.0}
    for viewer in ("mm-viewer", "aa-hidden", "oo-observer"):
        view = D.event_view(who(viewer), "message.overdue", late)
        assert view is not None, viewer
        other = "aa-hidden" if viewer == "mm-viewer" else "mm-viewer"
        assert other not in json.dumps(view), viewer
    seen = D.event_view(who("oo-observer"), "message.overdue", {**late, "message": message("kk-named", "aa-hidden")})
    assert seen is not None and seen["message"]["from"] == "kk-named" and seen["party"] is None


def test_the_client_prints_a_relayed_sender_as_relayed_not_as_none() -> None:
    from deconflict.cli.client_render import message_lines

    view = D.message_view(who("aa-hidden"), message("mm-viewer", "aa-hidden"))
    assert view is not None
    text = "\n".join(message_lines(view))
    assert "from another party (relayed by the broker)" in text and "None" not in text
