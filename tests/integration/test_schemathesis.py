"""Schemathesis over every operation of the OpenAPI document, with all its checks, against a real
server on SQLite: as a party and as the admin. A bounded run (``EXAMPLES`` per operation) that
fits CI; docs/api.md gives the longer run a user can type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from api_support import Api, start_api
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import CHECKS
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

EXAMPLES = 20
"""Examples per operation and caller: bounded so the run fits a loaded 2-core CI machine."""

NOT_FUZZED = {
    ("GET", "/v1/events"): "an endless Server-Sent Events stream: no response ever ends to be checked "
    "(tests/integration/test_api.py and test_api_disclosure.py cover it)",
    ("GET", "/v1/tracks/live"): "an endless Server-Sent Events stream, like /v1/events "
    "(tests/integration/test_api_track_stream.py covers it)",
}


_RULES = "the domain parser enforces rules JSON Schema cannot state (time_end after time_start, windows of at most "
_RULES += (
    "7 days, times from 1970 to 9000, shapes that do not cross themselves, calendar dates): a 422 naming the field"
)
_CURSOR = "`cursor` is opaque: only one the broker gave out is accepted, and a made-up one is a 422 naming it"
_FILE = "the body is a file's text (type string): only a well-formed ACO, OpenAir, NOTAM, AIXM or ED-269 file is "
_FILE += "filed, and every record that cannot be read is a 422 naming its line and field"
_CANNOT = "a stored notice the format cannot carry (W84 heights; in an ACO an altitude below mean sea level, in "
_CANNOT += "OpenAir, AIXM or ED-269 a corridor or an orbit) is a 422 naming it: the answer depends on what was filed"
ACCEPTS_LESS_THAN_ITS_SCHEMA = {
    "POST /v1/notices": _RULES,
    "PUT /v1/notices/{notice_id}": _RULES,
    "POST /v1/protected-sites": _RULES,
    "PUT /v1/protected-sites/{notice_id}": _RULES,
    "GET /v1/notices": f"bbox and area exclude each other; {_CURSOR}",
    "GET /v1/protected-sites": f"bbox and area exclude each other; {_CURSOR}",
    "GET /v1/conflicts": _CURSOR,
    "GET /v1/messages": _CURSOR,
    "GET /v1/alerts": _CURSOR,
    "PUT /v1/webhook": "a NUL character (\\u0000) anywhere in a body is refused: PostgreSQL cannot store one",
    "POST /v1/messages": "`to` must name parties the caller may address at this broker (one 422 for every unknown or "
    "hidden name, so that it is no roster oracle); a NUL character is refused: PostgreSQL cannot store one",
    "POST /v1/messages/{message_id}/ack": "a NUL character is refused: PostgreSQL cannot store one",
    "GET /v1/reports/compliance": "since and until are RFC 3339 times from 1970 to 9000, and until at most the "
    "broker's now: a bound on a clock that JSON Schema cannot state",
    "POST /v1/tracks": _RULES,
    "POST /v1/imports/aco": _FILE,
    "POST /v1/imports/openair": _FILE,
    "POST /v1/imports/notam": _FILE,
    "POST /v1/imports/geozones": _FILE,
    "POST /v1/imports/aixm": _FILE,
    "GET /v1/exports/geozones": _CANNOT,
    "GET /v1/exports/notam": "`notice` must name one of the caller's own live notices; " + _CANNOT,
    "GET /v1/exports/aco": _CANNOT,
    "GET /v1/exports/openair": _CANNOT,
    "GET /v1/exports/aixm": "`notice` must name one of the caller's own live notices; " + _CANNOT,
}
"""Operations where Schemathesis's ``positive_data_acceptance`` (a request its schema allows must
be accepted) is a false positive or a known gap, and why: that check is off for them only."""

ANSWERS_INVALID_INPUT_ITEM_BY_ITEM = {
    "POST /v1/tracks": "a feed's batch is taken state by state: a bad state is listed in `rejected` with its field "
    "and reason in a 200, and never costs its neighbours their place (docs/alerts.md)",
}
"""Operations where ``negative_data_rejection`` (a request its schema forbids must get a 4xx) is a
false positive, and why: that check is off for them only."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    api = start_api(f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'deconflict.sqlite'}")
    yield api
    api.close()


@pytest.fixture(scope="module")
def api_schema(server: Api) -> Any:
    doc = server.as_("nobody").get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(doc)
    schema.config.update(base_url=server.url)
    return schema.exclude(
        method=[m for m, _ in NOT_FUZZED],
        path=[p for _, p in NOT_FUZZED],
    )


fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    database=None,
)


def fuzz_operation(operation: Any, headers: dict[str, str]) -> str | None:
    """Run every check over ``operation``; what Schemathesis found, or None."""
    excluded = [positive_data_acceptance] if operation.label in ACCEPTS_LESS_THAN_ITS_SCHEMA else []
    if operation.label in ANSWERS_INVALID_INPUT_ITEM_BY_ITEM:
        excluded.append(negative_data_rejection)

    modes = [operation.as_strategy(mode) for mode in schemathesis.GenerationMode]  # valid and invalid input

    @given(case=st.one_of(modes))
    @fuzz
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, timeout=30, checks=CHECKS.get_all(), excluded_checks=excluded)

    try:
        check()
    except (Exception, BaseExceptionGroup) as e:  # Schemathesis reports its findings as a group
        return f"{operation.label}: {e}"
    return None


@pytest.mark.parametrize("who", ["us-af", "root"])
def test_every_operation_passes_every_check(api_schema: Any, server: Api, who: str) -> None:
    headers = {"Authorization": f"Bearer {server.tokens[who]}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 30, len(operations)
    failures = [f for op in operations if (f := fuzz_operation(op, headers)) is not None]  # every one's findings
    assert not failures, "\n\n".join(failures)
