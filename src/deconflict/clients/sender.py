"""What goes to the broker, and what it answers: the :class:`Sender` (a party and its token), the
:class:`Poster` that sends states to ``POST /v1/tracks`` (retrying transient failures, halving
batches the broker finds too large) and the :class:`PartyTally` that counts what the broker
accepted and refused, by reason. Used by :mod:`~deconflict.clients.replay` and
:mod:`~deconflict.clients.live`.

It keeps its own ``httpx.Client`` rather than :class:`deconflict.clients.party.BrokerClient`: it needs the
raw answers (a 413 halves the batch, a 422 is counted and the replay goes on, a 5xx or a transport
failure is retried), several parties' tokens over one connection pool, and every attempt counted.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from deconflict.domain.errors import DeconflictError

MAX_STATES_PER_REQUEST = 1000
"""States in one ``POST /v1/tracks``: a batch of more is sent in several requests. Well under the
broker's own limits (10 000 states, 4 MB), so a dense recording never trips them."""
RETRY_DELAYS_S = (0.5, 1.0, 2.0)
"""Waits before retrying a request that failed in transport or with a 5xx: a broker restarting or
briefly overloaded should not end a long replay, a broker that stays down should end it soon."""
DEFAULT_URL = "http://127.0.0.1:8000"

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
_STATE_PREFIX = re.compile(r"^states\[\d+\]\.?")


@dataclass(frozen=True)
class Sender:
    """A party whose aircraft are replayed, and the bearer token it reports them with."""

    party: str
    token: str


@dataclass
class PartyTally:
    """What the broker said to one party's requests (mutable: it counts as the replay goes)."""

    sent: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    """Refused states by ``field: reason``, with numbers in the reason replaced by ``N`` so that
    "is 12.3 s old" and "is 13.1 s old" count as one reason."""
    examples: dict[str, str] = field(default_factory=dict)
    """The first refusal of each counted reason, word for word (``alt_m: must be between -500 and
    30000 m, got 40000.0``): the numbers a summary needs to be acted on."""

    def reject(self, field_path: str, reason: str, n: int = 1) -> None:
        """Count ``n`` refused states under ``field: reason`` (see :attr:`rejected`)."""
        name = _STATE_PREFIX.sub("", field_path) or "state"
        key = f"{name}: {_NUMBER.sub('N', reason)}"
        self.rejected[key] += n
        self.examples.setdefault(key, f"{name}: {reason}")

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    @property
    def not_kept(self) -> int:
        """Accepted by neither count: the broker keeps only the newest report of an aircraft."""
        return self.sent - self.accepted - self.rejected_total

    def json(self) -> dict[str, Any]:
        """Sent, accepted and refused counts, the reasons most frequent first."""
        reasons = [
            {"reason": k, "count": n, "example": self.examples.get(k, k)} for k, n in self.rejected.most_common()
        ]
        return {"sent": self.sent, "accepted": self.accepted, "rejected": self.rejected_total, "reasons": reasons}


class ReplayError(DeconflictError):
    """A replay that cannot go on: the broker is unreachable, refuses the token, or answers
    something that is not the tracks API."""


class BrokerUnavailable(ReplayError):
    """The broker could not be reached, or answered 5xx, through every retry. A replay ends on it
    like on any :class:`ReplayError`; a live feed drops the batch and goes on, since the broker may
    come back and the states that follow will be current again."""


def _message(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.text[:200] or r.reason_phrase
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, list) and detail and isinstance(detail[0], dict):
            d = detail[0]
            return f"{d.get('field', '')}: {d.get('reason', '')}".strip(": ")
        return str(body.get("message") or body.get("error") or body)[:200]
    return str(body)[:200]


def _is_json(r: httpx.Response) -> bool:
    return str(r.headers.get("content-type", "")).startswith("application/json")


class Poster:
    """Sends one party's states to ``POST /v1/tracks``, retrying transient failures and halving
    batches the broker finds too large."""

    def __init__(self, client: httpx.Client, url: str, sleep: Callable[[float], None]) -> None:
        self.client = client
        self.url = url.rstrip("/")
        self.endpoint = self.url + "/v1/tracks"
        self.sleep = sleep
        self.requests = 0

    def send(self, sender: Sender, wire: list[dict[str, Any]], tally: PartyTally) -> None:
        for start in range(0, len(wire), MAX_STATES_PER_REQUEST):
            self._send(sender, wire[start : start + MAX_STATES_PER_REQUEST], tally)

    def check(self, sender: Sender) -> None:
        """Send an empty batch: the broker answers it like any other, so a wrong URL, a refused
        token or a party that may not report tracks shows before there is anything to send."""
        self.confirm(sender)
        self._send(sender, [], PartyTally())

    def confirm(self, sender: Sender) -> None:
        """Ask the broker whose token ``sender`` holds (``GET /v1/me``) and raise
        :class:`ReplayError` unless it is ``sender.party``'s: states sent with another party's
        token would be that party's aircraft, whatever ``--party`` said."""
        r = self._request("GET", self.url + "/v1/me", sender, None)
        if r.status_code == 401:
            raise ReplayError(f"party {sender.party}: the broker refused the token (401: {_message(r)})")
        body = r.json() if r.status_code == 200 and _is_json(r) else None
        if not isinstance(body, dict) or not isinstance(body.get("party"), str):
            raise ReplayError(
                f"{self.url}/v1/me answered HTTP {r.status_code} with {r.text[:200]!r}: is this a deconflict broker?"
            )
        if body["party"] != sender.party:
            raise ReplayError(
                f"--party {sender.party}: the token given for {sender.party} is {body['party']}'s; give "
                f"{sender.party}'s own token (states sent with it would be reported as {body['party']}'s aircraft)"
            )

    def _post(self, sender: Sender, wire: list[dict[str, Any]]) -> httpx.Response:
        return self._request("POST", self.endpoint, sender, {"states": wire}, count=True)

    def _request(
        self, method: str, endpoint: str, sender: Sender, body: dict[str, Any] | None, count: bool = False
    ) -> httpx.Response:
        """One request, retried on a transport failure or a 5xx; with ``count`` every attempt counts
        in :attr:`requests` (the requests that carry states)."""
        headers = {"Authorization": f"Bearer {sender.token}"}
        for attempt in range(len(RETRY_DELAYS_S) + 1):
            if count:
                self.requests += 1
            try:
                r = self.client.request(method, endpoint, json=body, headers=headers)
            except httpx.TransportError as e:
                problem = f"cannot reach the broker at {self.url} ({type(e).__name__}: {e})"
            else:
                if r.status_code < 500:
                    return r
                problem = f"the broker at {self.url} answered HTTP {r.status_code}: {_message(r)}"
            if attempt < len(RETRY_DELAYS_S):
                self.sleep(RETRY_DELAYS_S[attempt])
        raise BrokerUnavailable(f"{problem}; gave up after {len(RETRY_DELAYS_S) + 1} attempts")

    def _send(self, sender: Sender, wire: list[dict[str, Any]], tally: PartyTally) -> None:
        r = self._post(sender, wire)
        if r.status_code == 413 and len(wire) > 1:
            half = len(wire) // 2
            self._send(sender, wire[:half], tally)
            self._send(sender, wire[half:], tally)
            return
        tally.sent += len(wire)
        if r.status_code == 200:
            body = r.json() if _is_json(r) else None
            if not isinstance(body, dict) or not isinstance(body.get("accepted"), int):
                raise ReplayError(f"{self.endpoint} answered 200 with {r.text[:200]!r}: is this a deconflict broker?")
            tally.accepted += body["accepted"]
            for item in body.get("rejected") or []:
                if isinstance(item, dict):
                    tally.reject(str(item.get("field", "")), str(item.get("reason", "")))
            return
        if r.status_code == 401:
            raise ReplayError(f"party {sender.party}: the broker refused the token (401: {_message(r)})")
        if r.status_code == 403:
            raise ReplayError(f"party {sender.party}: may not report tracks (403: {_message(r)})")
        if r.status_code in (413, 422):
            # The whole request was refused: count its states under the broker's reason and go on.
            tally.reject("request", f"HTTP {r.status_code}: {_message(r)}", len(wire))
            return
        raise ReplayError(f"{self.endpoint} answered HTTP {r.status_code}: {_message(r)}")


def confirm_senders(
    senders: Sequence[Sender],
    *,
    client: httpx.Client,
    url: str = DEFAULT_URL,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Ask the broker at ``url`` whose each sender's token is (``GET /v1/me``); raise
    :class:`ReplayError` naming both parties when a token is another party's, and when the broker
    refuses a token or cannot be reached."""
    poster = Poster(client, url, sleep)
    for sender in senders:
        poster.confirm(sender)


def parse_senders(party: str | None, parties_by_hash: str | None, token: str | None) -> list[Sender]:
    """The senders from ``--party`` or ``--parties-by-hash`` and ``--token``.

    ``token`` is one token for every party, or ``P1=TOKEN1,P2=TOKEN2`` (a bare token among them is
    the default for the parties not named). Raises :class:`ValueError` naming the option at fault.

    >>> parse_senders(None, "ru,us", "ru=dcf_a,dcf_b")
    [Sender(party='ru', token='dcf_a'), Sender(party='us', token='dcf_b')]
    """
    if (party is None) == (parties_by_hash is None):
        raise ValueError("give --party P, or --parties-by-hash P1,P2 to split the aircraft between parties")
    names = (
        [party.strip()] if party is not None else [p.strip() for p in (parties_by_hash or "").split(",") if p.strip()]
    )
    if not names or not all(names):
        raise ValueError("--party/--parties-by-hash: no party named")
    if len(set(names)) != len(names):
        raise ValueError("--parties-by-hash: a party is named twice")
    own: dict[str, str] = {}
    default: str | None = None
    for item in (token or "").split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        # Broker tokens never contain '=' (URL-safe base64 without padding), so NAME=... is a
        # party's token; anything else is the token for everyone.
        if sep and name in names:
            if not value:
                raise ValueError(f"--token: empty token for party {name}")
            own[name] = value
        elif sep:
            raise ValueError(f"--token names {name!r}, which is not among the parties ({', '.join(names)})")
        elif default is not None:
            raise ValueError("--token: two tokens without a party; write P1=TOKEN1,P2=TOKEN2")
        else:
            default = item
    senders = []
    for name in names:
        tok = own.get(name, default)
        if tok is None:
            raise ValueError(f"no token for party {name}: give --token {name}=TOKEN (or set DECONFLICT_TOKEN)")
        senders.append(Sender(name, tok))
    return senders
