"""The commands' parsers: the role is checked before the body is read, and an Idempotency-Key's
digest is the hash of the raw body in the form stored digests were made in."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from builders import circle_notice_of
from deconflict.domain.errors import Forbidden, ValidationError
from deconflict.domain.hotline import AckState
from deconflict.domain.parties import Party, Role
from deconflict.domain.policy import Limits
from deconflict.domain.volumes import PROTECTED_SITE_KIND
from deconflict.services.commands import (
    filing_digest,
    parse_acknowledge_message,
    parse_file_notice,
    parse_file_notices,
    parse_new_version,
    parse_report_tracks,
    parse_send_message,
    parse_update_notice,
)

LIMITS = Limits()
PARTY = Party("ru", Role.PARTY)
AUTHORITY = Party("un", Role.AUTHORITY)
OBSERVER = Party("press", Role.OBSERVER)
NOT_A_BODY: Any = "not a body"


def body(nid: str | None = "a") -> dict[str, Any]:
    doc = circle_notice_of("ru", nid, 34.84, 36.73)
    del doc["party"]  # the caller's, by default
    return doc


def test_a_filing_is_the_callers_notice_in_its_namespace_with_the_defaults_said() -> None:
    cmd = parse_file_notice(PARTY, body(), LIMITS)
    assert cmd.caller == PARTY and cmd.notice.party == "ru" and cmd.notice.id == "ru:a"
    assert {"field": "party", "value": "ru"} in cmd.said
    assert cmd.idempotency_key is None and cmd.digest is None and not cmd.site


def test_a_protected_site_is_filed_by_an_authority_only() -> None:
    site = circle_notice_of("un", "h", 34.84, 36.73)
    assert parse_file_notice(AUTHORITY, site, LIMITS, site=True).notice.kind == PROTECTED_SITE_KIND
    with pytest.raises(Forbidden):
        parse_file_notice(PARTY, body(), LIMITS, site=True)


@pytest.mark.parametrize(
    "parse",
    [
        lambda: parse_file_notice(OBSERVER, NOT_A_BODY, LIMITS),
        lambda: parse_file_notices(OBSERVER, [NOT_A_BODY], LIMITS),
        lambda: parse_update_notice(OBSERVER, "ru:a", NOT_A_BODY, LIMITS, replaces_version=None),
        lambda: parse_new_version(OBSERVER, "ru:a", NOT_A_BODY, LIMITS),
        lambda: parse_send_message(OBSERVER, NOT_A_BODY),
        lambda: parse_report_tracks(OBSERVER, NOT_A_BODY, 0.0, 60.0),
    ],
)
def test_a_caller_without_the_role_is_refused_before_its_body_is_read(parse: Any) -> None:
    with pytest.raises(Forbidden):
        parse()


def test_a_bad_body_names_its_field() -> None:
    with pytest.raises(ValidationError, match="must be one notice"):
        parse_file_notice(PARTY, NOT_A_BODY, LIMITS)
    with pytest.raises(ValidationError, match=r"^\[1\]"):
        parse_file_notices(PARTY, [body("a"), NOT_A_BODY], LIMITS)
    with pytest.raises(ValidationError, match="replaces_version"):
        parse_update_notice(PARTY, "ru:a", body(None), LIMITS, replaces_version=None)
    with pytest.raises(ValidationError, match="differs from If-Match"):
        parse_update_notice(PARTY, "ru:a", {**body(None), "replaces_version": 2}, LIMITS, replaces_version=1)
    with pytest.raises(ValidationError, match="the notice in the URL"):
        parse_new_version(PARTY, "ru:b", body("a"), LIMITS)


def test_an_update_takes_its_version_from_the_body_or_if_match() -> None:
    assert (
        parse_update_notice(
            PARTY, "ru:a", {**body(None), "replaces_version": 3}, LIMITS, replaces_version=None
        ).replaces_version
        == 3
    )
    assert parse_update_notice(PARTY, "ru:a", body(None), LIMITS, replaces_version=2).replaces_version == 2
    assert parse_new_version(PARTY, "ru:a", body(None), LIMITS).replaces_version is None


def test_the_idempotency_digest_is_the_raw_bodys_as_stored_digests_were_made() -> None:
    raw = {"volumes": [], "id": "é"}
    # The form digests in the store were made in: sorted keys, no spaces, UTF-8, the raw body.
    stored_form = '{"body":{"id":"é","volumes":[]},"op":"file","site":false}'.encode()
    assert filing_digest(raw, False) == hashlib.sha256(stored_form).hexdigest()
    cmd = parse_file_notice(PARTY, body(), LIMITS, idempotency_key="k-1")
    assert cmd.digest == filing_digest(body(), False) and cmd.idempotency_key == "k-1"


def test_messages_and_acknowledgements() -> None:
    cmd = parse_send_message(PARTY, {"to": ["us"], "subject": "s", "text": "t"})
    assert cmd.caller == PARTY and cmd.draft.to == ("us",)
    assert parse_acknowledge_message(PARTY, "m1", None).state is AckState.UNDERSTOOD
    assert parse_acknowledge_message(PARTY, "m1", {"state": "received"}).state is AckState.RECEIVED


def test_a_report_keeps_each_bad_state_refused_on_its_own() -> None:
    good = {"aircraft": "x1", "time": 100.0, "lat": 34.0, "lon": 36.0, "alt_m": 3000, "alt_ref": "STD"}
    cmd = parse_report_tracks(PARTY, {"states": [good, {**good, "lat": 95.0}]}, 101.0, 60.0)
    first, second = cmd.states
    assert first.state is not None and first.aircraft == "x1"
    assert second.state is None and second.aircraft == "x1" and second.field.startswith("states[1].")
    with pytest.raises(ValidationError, match="states"):
        parse_report_tracks(PARTY, {"states": "none"}, 101.0, 60.0)
