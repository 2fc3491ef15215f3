"""The commands the use cases take: what a caller asks for, parsed, as frozen dataclasses.

A router or command line turns a raw request body into one of these with its ``parse_…``
function, then hands it to the use case (``Broker.file``, ``Hotline.send``, ``TacticalService.ingest``…).
Each parse function checks the caller's role first, so a caller without it is refused
(:class:`~deconflict.domain.errors.Forbidden`) before its body is read, and a bad body raises
:class:`~deconflict.domain.errors.ValidationError` naming the field. The domain's own readers
(:mod:`deconflict.domain.parse`, :mod:`deconflict.domain.hotline`, :mod:`deconflict.domain.tracks`)
do the reading; these functions only add what the request says around them (the caller's party
and namespace, the version an update replaces, the ``Idempotency-Key``'s digest).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from deconflict.domain.audit import canonical_json, sha256_hex
from deconflict.domain.errors import Forbidden, ValidationError
from deconflict.domain.fields import Said
from deconflict.domain.hotline import AckState, Draft, parse_ack_state, parse_draft
from deconflict.domain.notice_json import parse_notices
from deconflict.domain.parties import Party, Role
from deconflict.domain.policy import Limits
from deconflict.domain.strict import KEYS, check_keys
from deconflict.domain.tracks import TrackState, parse_state
from deconflict.domain.volumes import PROTECTED_SITE_KIND, Notice

MAX_BATCH = 10_000
"""Most states in one ``POST /v1/tracks``."""

Defaults = tuple[dict[str, str], ...]
"""Each default a parser applied (``{"field", "value"}``), in order: a filing's ``defaults``."""

# ---------------------------------------------------------------------- notices and protected sites


@dataclass(frozen=True)
class FileNotice:
    """File ``notice`` (or, with ``site``, a protected site) for ``caller``."""

    caller: Party
    notice: Notice
    said: Defaults
    site: bool = False
    idempotency_key: str | None = None
    digest: str | None = None
    """With an ``idempotency_key``: the hash of the raw request, which a retry must match."""


@dataclass(frozen=True)
class UpdateNotice:
    """Replace the volumes of ``notice_id`` (the caller's) with ``notice``'s. ``replaces_version``:
    the version it replaces (``None`` where the caller reads it under the lock, as an import does)."""

    caller: Party
    notice_id: str
    notice: Notice
    said: Defaults
    site: bool = False
    replaces_version: int | None = None


@dataclass(frozen=True)
class FileNotices:
    """File every one of ``notices`` (all ``caller``'s) in one transaction, or none (an import)."""

    caller: Party
    notices: tuple[FileNotice, ...]


def check_filer(caller: Party, site: bool) -> None:
    """Refuse a caller that may not file notices (or, with ``site``, protected sites)."""
    if site and not caller.role.files_sites:
        raise Forbidden(f"only an authority files protected sites; {caller.name!r} is {caller.role.a}")
    if not caller.role.files_notices:
        raise Forbidden(f"{caller.role.a} does not file notices")


def filing_digest(body: Any, site: bool) -> str:
    """What an ``Idempotency-Key`` of a filing is held to: the hash of the raw body as received
    (the stored digests were made so; it must not change)."""
    return sha256_hex(canonical_json({"op": "file", "site": site, "body": body}))


def parse_file_notice(
    caller: Party, body: Any, limits: Limits, *, site: bool = False, idempotency_key: str | None = None
) -> FileNotice:
    """``POST /v1/notices`` (``/v1/protected-sites`` with ``site``): the role, then the one notice in ``body``."""
    check_filer(caller, site)
    said: Said = []
    notice = parse_one_notice(caller, body, site, limits, said)
    digest = None if idempotency_key is None else filing_digest(body, site)
    return FileNotice(caller, notice, tuple(said), site, idempotency_key, digest)


def parse_file_notices(caller: Party, bodies: Sequence[Any], limits: Limits, *, site: bool = False) -> FileNotices:
    """An import's notices, each read as :func:`parse_file_notice` reads one; a refusal of the
    ``i``-th names its fields as ``[i].<field>``."""
    out: list[FileNotice] = []
    for i, body in enumerate(bodies):
        try:
            out.append(parse_file_notice(caller, body, limits, site=site))
        except ValidationError as e:
            raise e.prefixed(f"[{i}]") from None
    return FileNotices(caller, tuple(out))


def parse_update_notice(
    caller: Party, notice_id: str, body: Any, limits: Limits, *, replaces_version: int | None, site: bool = False
) -> UpdateNotice:
    """``PUT /v1/notices/{id}``: the role, the version it replaces (``replaces_version`` from
    ``If-Match``, or the body's, which must agree), then the new version in ``body``."""
    check_filer(caller, site)
    if isinstance(body, Mapping) and "replaces_version" in body:
        if replaces_version is None:
            replaces_version = body["replaces_version"]
        elif body["replaces_version"] != replaces_version:
            given = body["replaces_version"]
            raise ValidationError.at("replaces_version", f"{given!r} differs from If-Match ({replaces_version})")
        body = {k: v for k, v in body.items() if k != "replaces_version"}
    said: Said = []
    notice = parse_one_notice(caller, body, site, limits, said)  # first: a misspelt replaces_version is an unknown key
    if replaces_version is None:
        raise ValidationError.at("replaces_version", "required: the version this update replaces")
    if isinstance(replaces_version, bool) or not isinstance(replaces_version, int) or replaces_version < 1:
        raise ValidationError.at("replaces_version", f"must be a whole number ≥ 1, got {replaces_version!r}")
    return _update(caller, notice_id, notice, said, site, replaces_version)


def parse_new_version(caller: Party, notice_id: str, body: Any, limits: Limits, *, site: bool = False) -> UpdateNotice:
    """A new version of ``notice_id`` in ``body`` (without ``replaces_version``: the version it
    replaces is read under the lock, as a NOTAM import does)."""
    check_filer(caller, site)
    said: Said = []
    notice = parse_one_notice(caller, body, site, limits, said)
    return _update(caller, notice_id, notice, said, site, None)


def _update(
    caller: Party, notice_id: str, notice: Notice, said: Said, site: bool, replaces_version: int | None
) -> UpdateNotice:
    if notice.id is not None and notice.id != notice_id:
        raise ValidationError.at("id", f"must be {notice_id!r} (the notice in the URL) or left out")
    return UpdateNotice(caller, notice_id, notice, tuple(said), site, replaces_version)


def parse_one_notice(caller: Party, body: Any, site: bool, limits: Limits, said: Said | None = None) -> Notice:
    """The one notice in ``body``, the caller's where ``party`` is left out; each default applied
    is noted in ``said``."""
    if not isinstance(body, Mapping):
        raise ValidationError.at("", "must be one notice (a JSON object or a GeoJSON FeatureCollection)")
    if body.get("type") == "FeatureCollection" and isinstance(body.get("features"), list):
        body = {**body, "features": [_with_party(f, caller.name, i, said) for i, f in enumerate(body["features"])]}
    elif "party" not in body:
        body = {**body, "party": caller.name}
        if said is not None:
            said.append({"field": "party", "value": caller.name})
    notices = parse_notices(body, limits, said)
    if not notices:
        raise ValidationError.at("features", "needs at least one feature")
    if len(notices) != 1:
        raise ValidationError.at("", f"the body holds {len(notices)} notices; send one per request")
    n = in_party_namespace(notices[0])
    if n.party != caller.name:
        raise ValidationError.at("party", f"must be the calling party {caller.name!r} (or left out), not {n.party!r}")
    if site:
        return replace(n, kind=PROTECTED_SITE_KIND, protected=True)
    if n.protected:
        raise ValidationError.at(
            "kind", f"{PROTECTED_SITE_KIND!r} notices are filed at /v1/protected-sites by an authority"
        )
    return n


def in_party_namespace(n: Notice) -> Notice:
    """``n`` with the id its party chose kept as ``"<party>:<id>"``, the one form of a notice id
    everywhere (API, command line, events, receipts). Ids a party chooses live in its own namespace:
    a global one would let any party learn whether another filed a notice under a guessed id (by
    being refused that id).

    >>> in_party_namespace(Notice("ru-vks", (), id="vks-1")).id
    'ru-vks:vks-1'
    >>> in_party_namespace(Notice("ru-vks", (), id="ru-vks:vks-1")).id
    'ru-vks:vks-1'
    """
    if n.id is None or n.id.startswith(n.party + ":"):
        return n
    return replace(n, id=f"{n.party}:{n.id}")


def _with_party(feature: Any, party: str, i: int, said: Said | None) -> Any:
    """A GeoJSON feature with ``properties.party`` set to the caller when it is left out."""
    props = feature.get("properties") if isinstance(feature, Mapping) else None
    if isinstance(props, Mapping) and "party" not in props:
        if said is not None:
            said.append({"field": f"features[{i}].properties.party", "value": party})
        return {**feature, "properties": {**props, "party": party}}
    return feature


# ---------------------------------------------------------------------- the hotline


@dataclass(frozen=True)
class SendMessage:
    """Send ``draft`` from ``caller`` (a party, an authority or the admin)."""

    caller: Party
    draft: Draft


@dataclass(frozen=True)
class AcknowledgeMessage:
    """``caller``, a recipient, says it received (or understood) ``message_id``."""

    caller: Party
    message_id: str
    state: AckState


def check_sender(caller: Party) -> None:
    """Refuse a caller that may not send messages (an observer)."""
    if caller.role is Role.OBSERVER:
        raise Forbidden("an observer reads what it is shown; it does not send messages")


def parse_send_message(caller: Party, body: Any) -> SendMessage:
    """``POST /v1/messages``: the role, then the message in ``body``."""
    check_sender(caller)
    return SendMessage(caller, parse_draft(body))


def parse_acknowledge_message(caller: Party, message_id: str, body: Any) -> AcknowledgeMessage:
    """``POST /v1/messages/{id}/ack``: the state in ``body`` (``None``: understood). Whether the
    caller is a recipient is the use case's to say (it reads the message)."""
    return AcknowledgeMessage(caller, message_id, parse_ack_state(body))


# ---------------------------------------------------------------------- tactical tracks


@dataclass(frozen=True)
class ReportedState:
    """One state of a report: parsed, or refused with its field and reason (the others are kept)."""

    index: int
    aircraft: str | None
    """The aircraft the raw state names, as given (a report's new aircraft count against the
    party's limit whether or not their states are kept)."""
    state: TrackState | None
    field: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ReportTracks:
    """Keep the states of ``caller``'s aircraft (each read at the picture's clock when parsed)."""

    caller: Party
    states: tuple[ReportedState, ...]


def check_reporter(caller: Party) -> None:
    """Refuse a caller that may not report tracks."""
    if not caller.role.files_notices:
        raise Forbidden(f"{caller.role.a} does not report tracks")


def parse_report_tracks(caller: Party, body: Any, now: float, timeout_s: float) -> ReportTracks:
    """``POST /v1/tracks``: the role, then the batch ``{"states": [...]}``, each state read at
    ``now`` against the track timeout (``TacticalService.clock()`` and its ``track_timeout_s``)."""
    check_reporter(caller)
    if not isinstance(body, dict):
        raise ValidationError.at("", 'must be an object {"states": [...]}')
    check_keys(body, KEYS["tracks"], "")
    if not isinstance(body.get("states"), list):
        raise ValidationError.at("states", "must be a list of states")
    raw_states = body["states"]
    if len(raw_states) > MAX_BATCH:
        raise ValidationError.at(
            "states", f"{len(raw_states)} states is more than the limit of {MAX_BATCH} per request"
        )
    return ReportTracks(caller, tuple(_reported(i, raw, now, timeout_s) for i, raw in enumerate(raw_states)))


def _reported(i: int, raw: Any, now: float, timeout_s: float) -> ReportedState:
    aircraft = raw["aircraft"] if isinstance(raw, dict) and isinstance(raw.get("aircraft"), str) else None
    try:
        return ReportedState(i, aircraft, parse_state(raw, now, timeout_s, f"states[{i}]"))
    except ValidationError as e:
        err = e.errors[0]
        return ReportedState(i, aircraft, None, err.path, err.reason)
