"""Need-to-know disclosure over the whole API: every endpoint × every role and relationship.

One scenario is filed through the API for each test (on SQLite and on PostgreSQL): five conflicts
between the cast of ``api_support`` and a far-away notice per party that conflicts with nothing.

=====  ====================================  ==================================================
key    conflict                              why it is interesting
=====  ====================================  ==================================================
A      ru-vks × us-af                        default ``conflicts-only``; un-obs sees ru-vks's side
B      ru-vks × tr-af                        ``existence`` both ways; un-obs sees ru-vks's side
C      us-af × uk-raf                        coalition partners: different parties, still a conflict
D      tr-af × uk-raf                        default ``conflicts-only``
E      sy-gcaa's protected site × ru-vks     a site is public; un-obs sees the slice
=====  ====================================  ==================================================

Then every viewer (the cast, no token, a bad token) calls every endpoint, and the tests check
against the tables below, written out by hand from docs/disclosure.md (never computed by the
product's disclosure code):

1. exactly which notices and conflicts each viewer sees, and at which level;
2. the status codes: 401 without a valid token everywhere but ``/healthz``, ``/readyz`` and ``/leaderz``; 403 for
   a role or ownership that does not allow the call; 404 for what the viewer may not see, worded as
   for an id that never existed;
3. by marker search over the raw text of every response (lists, details, errors, event streams,
   the audit export): nothing of what a viewer may not see appears anywhere. Every notice id holds
   ``SECRET`` (or ``SITE``) and every number of a notice has unusual decimals, so a leak is found
   by searching the JSON text; the slices of conflicts (overlap coordinates and altitudes) are
   markers too, read from the admin's view.

A party files each notice with a short id (``{"id": "ru-vks-SECRET-A1"}``); the broker keeps it in
the filer's namespace, as ``ru-vks:ru-vks-SECRET-A1`` (:func:`qid`), and every URL, conflict side,
receipt and event carries that. The short id is a substring of it, so it is the id's marker.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
from api_support import Api, circle_notice

from deconflict.domain.audit import verify_export
from deconflict.services.broker import HINTS_WITHHELD, SITE_STAYS

# ---------------------------------------------------------------------------------------------- the cast

PARTIES = ["ru-vks", "us-af", "uk-raf", "tr-af", "sy-gcaa"]
"""Roles ``party`` and ``authority``: they file notices."""
OBSERVER = "un-obs"
ADMIN = "root"
VIEWERS = [*PARTIES, OBSERVER, ADMIN]
BAD_TOKENS = {
    "bad broker token": "dcf_" + "x" * 43,
    "bad other token": "not-a-token-at-all",
}
"""Credentials the broker never issued (the second is no broker token and no JWT either)."""


# ---------------------------------------------------------------------------------------------- the scenario


def qid(party: str, short: str) -> str:
    """The id of a notice ``party`` filed with ``{"id": short}``: ids live in the filer's namespace."""
    return f"{party}:{short}"


@dataclass(frozen=True)
class Filed:
    """One notice or protected site of the scenario; every number has decimals found nowhere else."""

    short: str
    """The id its owner files it with."""
    owner: str
    lat: float
    lng: float
    radius_m: float
    lower_m: float
    upper_m: float
    site: bool = False

    @property
    def id(self) -> str:
        """Its id at the broker."""
        return qid(self.owner, self.short)

    @property
    def words(self) -> str:
        """A token only its description holds (not its id: a side's id may be seen where its words may not)."""
        return "WORDS-" + uuid.uuid5(uuid.NAMESPACE_URL, self.short).hex[:12]

    @property
    def name(self) -> str:
        """A token only its name holds."""
        return "NAME-" + uuid.uuid5(uuid.NAMESPACE_DNS, self.short).hex[:12]

    @property
    def acm_type(self) -> str:
        """A token only its ACM type holds (capital letters and digits)."""
        return "T" + uuid.uuid5(uuid.NAMESPACE_OID, self.short).hex[:12].upper()

    def body(self) -> dict[str, Any]:
        body = circle_notice(lat=self.lat, lon=self.lng, lower_m=self.lower_m, upper_m=self.upper_m, id=self.short)
        body["volumes"][0]["volume"]["outline_circle"]["radius"] = {"value": self.radius_m, "units": "M"}
        body["description"] = f"Planned activity.\n{self.words}"
        body["name"] = f"Activity {self.name}"
        body["acm_type"] = self.acm_type
        return body

    def numbers(self) -> list[float]:
        return [self.lat, self.lng, self.radius_m, self.lower_m, self.upper_m]


# Filed in this order, so each conflict is found by another filer than ru-vks: us-af finds A, tr-af
# B and D, uk-raf C, and sy-gcaa's site E (the filer is the actor of ``conflict.created``).
NOTICES = [
    Filed("ru-vks-SECRET-A1", "ru-vks", 35.317317, 36.621373, 7391.731, 3011.37, 7987.13),
    Filed("ru-vks-SECRET-B1", "ru-vks", 33.813713, 38.117131, 5417.293, 2113.79, 6217.31),
    Filed("ru-vks-SECRET-E1", "ru-vks", 34.613917, 35.913791, 6311.719, 513.79, 4711.37),
    Filed("ru-vks-SECRET-FAR", "ru-vks", 25.113791, 50.117319, 4113.971, 1317.19, 2719.31),
    Filed("us-af-SECRET-A2", "us-af", 35.351919, 36.681919, 6203.917, 4000.53, 9013.71),
    Filed("us-af-SECRET-C1", "us-af", 36.913131, 39.713171, 5813.179, 1519.37, 5711.93),
    Filed("us-af-SECRET-FAR", "us-af", 22.171931, 53.131719, 3917.113, 1713.91, 3119.77),
    Filed("uk-raf-SECRET-C2", "uk-raf", 36.941379, 39.741793, 6117.913, 2719.71, 6913.17),
    Filed("uk-raf-SECRET-D2", "uk-raf", 32.351371, 40.941171, 5911.137, 5313.39, 9519.17),
    Filed("uk-raf-SECRET-FAR", "uk-raf", 28.191317, 56.171393, 4391.171, 2113.17, 3711.93),
    Filed("tr-af-SECRET-B2", "tr-af", 33.847171, 38.151517, 6619.371, 3317.17, 7519.93),
    Filed("tr-af-SECRET-D1", "tr-af", 32.317913, 40.913717, 7117.391, 4117.93, 8313.19),
    Filed("tr-af-SECRET-FAR", "tr-af", 19.137171, 47.193713, 3713.917, 1917.13, 2917.71),
    Filed("sy-gcaa-SITE-E2", "sy-gcaa", 34.641937, 35.941713, 3119.173, 13.97, 3017.91, site=True),
    Filed("sy-gcaa-SITE-FAR", "sy-gcaa", 13.171319, 44.917131, 2917.319, 17.39, 1913.71, site=True),
    Filed("sy-gcaa-SECRET-FAR", "sy-gcaa", 16.319171, 58.713197, 3311.917, 1111.37, 2311.79),
]
BY_ID = {n.id: n for n in NOTICES}
BY_SHORT = {n.short: n for n in NOTICES}
SITES = {n.id for n in NOTICES if n.site}


def nid(short: str) -> str:
    """The broker's id of the scenario's notice filed as ``short``."""
    return BY_SHORT[short].id


def sides(*shorts: str) -> dict[str, str]:
    return {BY_SHORT[short].owner: nid(short) for short in shorts}


CONFLICT_SIDES: dict[str, dict[str, str]] = {
    "A": sides("ru-vks-SECRET-A1", "us-af-SECRET-A2"),
    "B": sides("ru-vks-SECRET-B1", "tr-af-SECRET-B2"),
    "C": sides("us-af-SECRET-C1", "uk-raf-SECRET-C2"),
    "D": sides("tr-af-SECRET-D1", "uk-raf-SECRET-D2"),
    "E": sides("ru-vks-SECRET-E1", "sy-gcaa-SITE-E2"),
}
"""Each conflict: party → its notice on that side."""

# ---------------------------------------------------------------------------------------------- the policy, by hand


def ids(*shorts: str) -> set[str]:
    return {nid(short) for short in shorts}


SEES_WHOLE: dict[str, set[str]] = {
    "ru-vks": ids("ru-vks-SECRET-A1", "ru-vks-SECRET-B1", "ru-vks-SECRET-E1", "ru-vks-SECRET-FAR"),
    "us-af": ids("us-af-SECRET-A2", "us-af-SECRET-C1", "us-af-SECRET-FAR")
    | ids("uk-raf-SECRET-C2", "uk-raf-SECRET-D2", "uk-raf-SECRET-FAR"),
    "uk-raf": ids("uk-raf-SECRET-C2", "uk-raf-SECRET-D2", "uk-raf-SECRET-FAR")
    | ids("us-af-SECRET-A2", "us-af-SECRET-C1", "us-af-SECRET-FAR"),
    "tr-af": ids("tr-af-SECRET-B2", "tr-af-SECRET-D1", "tr-af-SECRET-FAR"),
    "sy-gcaa": ids("sy-gcaa-SECRET-FAR"),
    "un-obs": set(),
    "root": {n.id for n in NOTICES if not n.site},
}
"""The notices (not sites) each viewer sees whole: its own, its coalition's; the admin all. Sites are public."""

FULL = "full"
CO = "conflicts-only"
EX = "existence"
SEES_CONFLICTS: dict[str, dict[str, tuple[str, set[str]]]] = {
    "ru-vks": {"A": (CO, {"ru-vks", "us-af"}), "B": (EX, {"ru-vks"}), "E": (FULL, {"ru-vks", "sy-gcaa"})},
    "us-af": {"A": (CO, {"ru-vks", "us-af"}), "C": (FULL, {"us-af", "uk-raf"})},
    "uk-raf": {"C": (FULL, {"us-af", "uk-raf"}), "D": (CO, {"tr-af", "uk-raf"})},
    "tr-af": {"B": (EX, {"tr-af"}), "D": (CO, {"tr-af", "uk-raf"})},
    "sy-gcaa": {"E": (CO, {"ru-vks", "sy-gcaa"})},
    # The observer's grant is on ru-vks only: the other side is hidden and, below conflicts-only on a
    # side, so is the slice; a protected site is public, so E shows its slice.
    "un-obs": {"A": (EX, {"ru-vks"}), "B": (EX, {"ru-vks"}), "E": (CO, {"ru-vks", "sy-gcaa"})},
    "root": {key: ("admin", set(sides)) for key, sides in CONFLICT_SIDES.items()},
}
"""Each viewer's conflicts: key → (``disclosure``, the parties whose side it is shown)."""


def sees_notice(viewer: str, notice_id: str) -> bool:
    return notice_id in SITES or notice_id in SEES_WHOLE[viewer]


def is_party(viewer: str) -> bool:
    return viewer in PARTIES


# ---------------------------------------------------------------------------------------------- markers


@dataclass(frozen=True)
class Marker:
    """A string (or a number as JSON writes it) that only those who may see its source may read."""

    text: str
    what: str

    def pattern(self) -> re.Pattern[str]:
        if re.fullmatch(r"-?\d+\.\d+", self.text):
            # A number counts as itself only: 3011.37 is not in 13011.375 nor in 36.301137.
            return re.compile(r"(?<![\d.])" + re.escape(self.text) + r"(?!\d)")
        return re.compile(re.escape(self.text))

    def found_in(self, text: str) -> bool:
        return self.pattern().search(text) is not None


def number_text(x: float) -> str:
    return json.dumps(x)


@dataclass
class Scenario:
    conflicts: dict[str, str]
    """Conflict key → id."""
    admin_views: dict[str, dict[str, Any]]
    filed: dict[str, list[httpx.Response]]
    """Filer → its filing responses."""
    markers: dict[str, list[Marker]] = field(default_factory=dict)
    """Source → its markers. Sources: ``notice:ID`` (a notice's numbers), ``id:ID`` (its id),
    ``party:NAME``, ``hook:NAME`` (a webhook URL), ``conflict:K`` (its id), ``slice:K``."""

    def allowed_sources(self, viewer: str) -> set[str]:
        """The sources of the markers ``viewer`` may read, from the tables above."""
        if viewer == ADMIN:
            return set(self.markers)
        out = {f"party:{viewer}", f"hook:{viewer}"}
        for n in NOTICES:
            if sees_notice(viewer, n.id):
                out |= {f"notice:{n.id}", f"id:{n.id}", f"party:{n.owner}"}
        for key, (disclosure, named) in SEES_CONFLICTS[viewer].items():
            out.add(f"conflict:{key}")
            for party in named:
                out |= {f"party:{party}", f"id:{CONFLICT_SIDES[key][party]}"}
            if disclosure == FULL:  # below, the slice is on the grid (or a coarse area): never exact
                out.add(f"slice:{key}")
        return out


def build_markers(s: Scenario) -> None:
    for name in VIEWERS:
        s.markers[f"party:{name}"] = [Marker(name, f"party name {name}")]
        if name != ADMIN:  # the admin has no webhook
            s.markers[f"hook:{name}"] = [Marker(hook_url(name), f"webhook URL of {name}")]
    for n in NOTICES:
        # A notice seen whole shows all of it; one seen only as a conflict's side shows just its id.
        s.markers[f"notice:{n.id}"] = [Marker(number_text(x), f"a number of {n.id}") for x in n.numbers()]
        s.markers[f"notice:{n.id}"].append(Marker(n.words, f"the description of {n.id}"))
        s.markers[f"notice:{n.id}"].append(Marker(n.name, f"the name of {n.id}"))
        s.markers[f"notice:{n.id}"].append(Marker(n.acm_type, f"the ACM type of {n.id}"))
        # The short id: it is in the broker's id, and a leak of the short form alone is found too.
        s.markers[f"id:{n.id}"] = [Marker(n.short, f"notice id {n.id}")]
    for key, cid in s.conflicts.items():
        s.markers[f"conflict:{key}"] = [Marker(cid, f"id of conflict {key}")]
        sl = s.admin_views[key]["slice"]
        numbers = [sl["altitude"]["lower_m"], sl["altitude"]["upper_m"]]
        numbers += [x for ring in sl["overlap"]["coordinates"] for point in ring for x in point]
        s.markers[f"slice:{key}"] = [
            Marker(number_text(x), f"a number of the slice of conflict {key}") for x in numbers
        ]


def assert_searchable(s: Scenario, t: Transcript, *kinds: str) -> None:
    """Every marker of these kinds is in the admin's transcript: the markers find what they stand for."""
    text = "\n".join(text for _, text in t.parts)
    unseen = [
        m.what for source, ms in s.markers.items() if source.startswith(kinds) for m in ms if not m.found_in(text)
    ]
    assert unseen == [], "these markers are not found where they must be"


def hook_url(name: str) -> str:
    return f"https://hooks.invalid/{name}-HOOK-SECRET"


def file_scenario(api: Api) -> Scenario:
    """File every notice of the scenario through the API and read the conflicts as the admin."""
    filed: dict[str, list[httpx.Response]] = {}
    for n in NOTICES:
        path = "/v1/protected-sites" if n.site else "/v1/notices"
        r = api.as_(n.owner).post(path, json=n.body())
        assert r.status_code == 201, r.text
        assert r.json()["notice"]["id"] == n.id, "the short id is kept in the filer's namespace"
        filed.setdefault(n.owner, []).append(r)
    views = api.as_(ADMIN).get("/v1/conflicts").json()
    # The conflicts whole, without the acknowledgements (a read adds them; they change).
    views = [{k: v for k, v in view.items() if k != "acknowledgements"} for view in views]
    by_sides = {frozenset(side["notice"] for side in v["sides"]): v for v in views}
    admin_views = {key: by_sides[frozenset(sides.values())] for key, sides in CONFLICT_SIDES.items()}
    assert len(views) == len(CONFLICT_SIDES), "the far-away notices and the clusters must not conflict"
    s = Scenario({key: v["id"] for key, v in admin_views.items()}, admin_views, filed)
    build_markers(s)
    return s


def acknowledge_all(api: Api, s: Scenario) -> None:
    """Both sides acknowledge every conflict (the authority acknowledges E for its site)."""
    for key, sides in CONFLICT_SIDES.items():
        for party in sides:
            r = api.as_(party).post(f"/v1/conflicts/{s.conflicts[key]}/ack")
            assert r.status_code == 201, r.text


# ---------------------------------------------------------------------------------------------- transcripts


@dataclass
class Transcript:
    """The raw text of every response one viewer got, to search for markers afterwards."""

    viewer: str
    parts: list[tuple[str, str]] = field(default_factory=list)

    def add(self, label: str, text: str, asked_for: str | None = None) -> None:
        # An error may repeat the id the viewer asked for: that tells it nothing it did not send.
        if asked_for is not None:
            text = text.replace(asked_for, "<asked-for>")
        self.parts.append((label, text))

    def leaks(self, s: Scenario, allowed: set[str] | None = None) -> list[str]:
        allowed = s.allowed_sources(self.viewer) if allowed is None else allowed
        found = []
        for source, markers in s.markers.items():
            if source in allowed:
                continue
            for m in markers:
                for label, text in self.parts:
                    if m.found_in(text):
                        found.append(f"{self.viewer} read {m.what} ({m.text}) in {label}")
                        break
        return found


def get(api: Api, viewer: str, t: Transcript, path: str, asked_for: str | None = None, **params: str) -> httpx.Response:
    r = api.as_(viewer).get(path, params=params)
    t.add(f"GET {path} {params or ''} → {r.status_code}", r.text, asked_for)
    return r


def random_id() -> str:
    return "never-filed-" + uuid.uuid4().hex


def not_found_body(r: httpx.Response, asked_for: str) -> Any:
    """A 404's body (the id it echoes replaced) and type, to compare with those of an id that never existed."""
    assert r.status_code == 404, (asked_for, r.status_code, r.text)
    return json.loads(r.text.replace(json.dumps(asked_for)[1:-1], "<id>")), r.headers["content-type"]


def precondition(ok: bool, why: str) -> None:
    """In a test expected to fail, a broken precondition is a real failure, not the expected one."""
    if not ok:
        pytest.fail(f"precondition: {why}")


def ids_of(body: list[dict[str, Any]]) -> set[str]:
    return {item["id"] for item in body}


# ---------------------------------------------------------------------------------------------- unauthenticated


def every_endpoint(s: Scenario) -> Iterator[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, JSON body) for every endpoint that needs a token, with real and missing ids."""
    notice_ids = [n.id for n in NOTICES] + [random_id()]
    conflict_ids = [*s.conflicts.values(), random_id()]
    yield "GET", "/v1/me", None
    yield "GET", "/v1/policy", None
    yield "GET", "/v1/notices", None
    yield "GET", "/v1/protected-sites", None
    yield "GET", "/v1/conflicts", None
    yield "GET", "/v1/events?after=0", None
    yield "GET", "/v1/audit/export", None
    yield "GET", "/v1/audit/key", None
    yield "PUT", "/v1/webhook", {"url": "https://hooks.invalid/x", "secret": "s" * 20}
    yield "DELETE", "/v1/webhook", None
    for fmt in ("aco", "openair", "notam", "geozones", "aixm"):
        yield "POST", f"/v1/imports/{fmt}", None
    for fmt in ("aco", "openair", "notam?fir=OSTT", "geojson", "kml", "geozones?country=SYR", "aixm"):
        yield "GET", f"/v1/exports/{fmt}", None
    for base in ("/v1/notices", "/v1/protected-sites"):
        yield "POST", base, circle_notice(id="unauthenticated-try")
        for nid in notice_ids:
            yield "GET", f"{base}/{nid}", None
            yield "PUT", f"{base}/{nid}", {"replaces_version": 1, **circle_notice()}
            yield "DELETE", f"{base}/{nid}", None
            yield "POST", f"{base}/{nid}/activate", None
            yield "POST", f"{base}/{nid}/end", None
    for cid in conflict_ids:
        yield "GET", f"/v1/conflicts/{cid}", None
        yield "POST", f"/v1/conflicts/{cid}/ack", None
        yield "GET", f"/v1/exports/acmreq?conflict={cid}", None


def test_without_a_valid_token_every_endpoint_answers_401_and_only_health_answers(api: Api) -> None:
    health = {path: api.as_("nobody").get(path).text for path in ("/healthz", "/readyz", "/leaderz")}
    s = file_scenario(api)
    before = api.broker.last_seq()
    callers = {"no token": api.as_("nobody")}
    callers |= {
        what: httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {tok}"}, timeout=30)
        for what, tok in BAD_TOKENS.items()
    }
    try:
        for what, client in callers.items():
            for path, text in health.items():
                r = client.get(path)
                # The same answer as before anything was filed: the tempo of activity is no one's to read.
                assert (r.status_code, r.text) == (200, text), (what, path)
            seen = set()
            for method, path, body in every_endpoint(s):
                r = client.request(method, path, json=body)
                assert r.status_code == 401, (what, method, path, r.status_code, r.text)
                assert r.headers["www-authenticate"] == "Bearer"
                assert r.json()["error"] == "unauthorized"
                seen.add(r.text)
            # One answer whatever was asked: a 401 never tells whether an id exists.
            assert len(seen) == 1, (what, seen)
            t = Transcript(what, [(what, text) for text in seen])
            assert t.leaks(s, allowed=set()) == []
    finally:
        for what, client in callers.items():
            if what != "no token":
                client.close()
    # Nothing was written by any of them.
    assert api.broker.last_seq() == before


# ---------------------------------------------------------------------------------------------- notices


def test_each_viewer_sees_exactly_the_notices_the_policy_grants_and_nothing_of_the_rest(api: Api) -> None:
    s = file_scenario(api)
    admin_notices = {n["id"]: n for n in api.as_(ADMIN).get("/v1/notices").json()}
    admin_sites = {n["id"]: n for n in api.as_(ADMIN).get("/v1/protected-sites").json()}
    problems: list[str] = []
    for viewer in VIEWERS:
        t = Transcript(viewer)
        for r in s.filed.get(viewer, []):
            t.add(f"filing response of {r.json()['notice']['id']}", r.text)
        whole = SEES_WHOLE[viewer]

        me = get(api, viewer, t, "/v1/me").json()
        assert me["party"] == viewer
        assert get(api, viewer, t, "/v1/audit/key").status_code == 200
        assert get(api, viewer, t, "/v1/policy").status_code == 200

        # Lists, with and without filters.
        listed = get(api, viewer, t, "/v1/notices").json()
        assert ids_of(listed) == whole, viewer
        for n in listed:  # whole: exactly as the admin sees it
            assert n == admin_notices[n["id"]], (viewer, n["id"])
        for party in PARTIES:
            got = get(api, viewer, t, "/v1/notices", party=party).json()
            assert ids_of(got) == {i for i in whole if BY_ID[i].owner == party}, (viewer, party)
        got = get(api, viewer, t, "/v1/notices", bbox="36.3,35.0,37.0,35.7").json()  # cluster A
        assert ids_of(got) == whole & set(CONFLICT_SIDES["A"].values()), viewer
        got = get(api, viewer, t, "/v1/notices", state="accepted", start="2015-09-30T08:00:00Z").json()
        assert ids_of(got) == whole, viewer
        assert get(api, viewer, t, "/v1/notices", end="2015-09-30T06:00:00Z").json() == []
        sites = get(api, viewer, t, "/v1/protected-sites").json()
        assert {n["id"]: n for n in sites} == admin_sites, viewer  # public, whole
        assert ids_of(get(api, viewer, t, "/v1/protected-sites", party="ru-vks").json()) == set()

        # Details: every id under both paths; a notice is not a site and a site is not a notice.
        missing = {base: random_id() for base in ("/v1/notices", "/v1/protected-sites")}
        missing_body = {
            base: not_found_body(get(api, viewer, t, f"{base}/{mid}", asked_for=mid), mid)
            for base, mid in missing.items()
        }
        for n in NOTICES:
            for base in ("/v1/notices", "/v1/protected-sites"):
                r = get(api, viewer, t, f"{base}/{n.id}", asked_for=n.id)
                if (base == "/v1/protected-sites") == n.site and sees_notice(viewer, n.id):
                    assert r.status_code == 200, (viewer, base, n.id, r.text)
                    body = r.json()
                    owner_or_admin = viewer in (n.owner, ADMIN)
                    assert ("receipt" in body) == owner_or_admin, (viewer, n.id)
                    body.pop("receipt", None)
                    assert body == {**admin_notices, **admin_sites}[n.id], (viewer, n.id)
                else:
                    assert not_found_body(r, n.id) == missing_body[base], (viewer, base, n.id)

        problems += t.leaks(s)
        if viewer == ADMIN:
            assert_searchable(s, t, "notice:", "id:")
    assert problems == []


def test_filing_reports_each_conflict_at_the_filers_level(api: Api) -> None:
    s = file_scenario(api)
    told: Counter[str] = Counter()
    for filer, responses in s.filed.items():
        for r in responses:
            body = r.json()
            levels = set()
            for view in body["conflicts"]:
                key = next(k for k, cid in s.conflicts.items() if cid == view["id"])
                disclosure, named = SEES_CONFLICTS[filer][key]
                assert view["disclosure"] == disclosure, (filer, key)
                assert {side["party"] for side in view["sides"] if "party" in side} == named, (filer, key)
                levels.add(disclosure)
            # A hint tells where the other notice ends: given only when every counterpart is seen
            # whole; otherwise withheld, with the reason.
            hints, withheld = body["hints"], body["hints_withheld"]
            if not levels:
                assert (hints, withheld) == (None, None), body["notice"]["id"]
                told["no conflict"] += 1
            elif body["notice"]["protected_site"]:  # a site does not move, whatever the filer sees
                assert (hints, withheld) == (None, SITE_STAYS), body["notice"]["id"]
                told["site"] += 1
            elif levels == {FULL}:
                assert hints is not None and withheld is None, body["notice"]["id"]
                told["hints"] += 1
            else:
                assert (hints, withheld) == (None, HINTS_WITHHELD), body["notice"]["id"]
                told["withheld"] += 1
    # uk-raf finds C (its coalition partner's: full); the other finders see less; the site gets no hints.
    assert told == {"no conflict": len(NOTICES) - 5, "hints": 1, "withheld": 3, "site": 1}, told


# ---------------------------------------------------------------------------------------------- conflicts


def check_conflict_view(viewer: str, key: str, view: dict[str, Any], admin: dict[str, Any]) -> None:
    """``view`` is what the tables say ``viewer`` sees of conflict ``key``, whose full form is ``admin``."""
    disclosure, named = SEES_CONFLICTS[viewer][key]
    view = {k: v for k, v in view.items() if k != "acknowledgements"}
    admin = {k: v for k, v in admin.items() if k != "acknowledgements"}
    if viewer == ADMIN:
        assert view == admin, key
        return
    for k in ("id", "state", "detected_at", "updated_at", "resolved_at"):  # always shown
        assert view[k] == admin[k], (viewer, key, k)
    assert view["disclosure"] == disclosure, (viewer, key)
    for side, full in zip(view["sides"], admin["sides"], strict=True):  # order kept; a side whole or hidden
        assert side == (full if full["party"] in named else {"hidden": True}), (viewer, key)
    if disclosure == EX:
        assert set(view) == {*admin, "disclosure", "time_window", "area"} - {"slice"}, (viewer, key)
        # whole UTC days that hold the exact window
        assert contains_window(view["time_window"], admin["slice"]["time_window"], 86400), (viewer, key)
        coords = [x for ring in view["area"]["coordinates"] for point in ring for x in point]
        assert all(isinstance(x, int) for x in coords), (viewer, key, view["area"])
    elif disclosure == CO:
        # on the default grid (docs/disclosure.md): outward to 1000 ft, 15 min, S2 cells of level 10
        assert view == {**admin, "slice": view["slice"], "disclosure": disclosure}, (viewer, key)
        got, exact = view["slice"], admin["slice"]
        assert got["grid"] is True and got["overlap"]["type"] == "MultiPolygon", (viewer, key)
        assert contains_window(got["time_window"], exact["time_window"], 900), (viewer, key)
        for bound, direction in (("lower_m", -1), ("upper_m", 1)):
            steps = got["altitude"][bound] / 304.8
            assert abs(steps - round(steps)) < 1e-6, (viewer, key, got["altitude"])
            assert 0 <= direction * (got["altitude"][bound] - exact["altitude"][bound]) < 304.8, (viewer, key)
    else:
        assert view == {**admin, "disclosure": disclosure}, (viewer, key)


def contains_window(shown: dict[str, str], exact: dict[str, str], step_s: int) -> bool:
    """``shown`` is ``exact`` widened outward to whole steps of ``step_s``, no more."""
    s0, s1 = (datetime.fromisoformat(shown[k]).timestamp() for k in ("start", "end"))
    e0, e1 = (datetime.fromisoformat(exact[k]).timestamp() for k in ("start", "end"))
    return s0 % step_s == 0 and s1 % step_s == 0 and 0 <= e0 - s0 < step_s and 0 <= s1 - e1 < step_s


def test_each_viewer_sees_exactly_the_conflicts_the_policy_grants_and_only_parties_to_one_acknowledge(
    api: Api,
) -> None:
    s = file_scenario(api)
    problems: list[str] = []
    transcripts = {viewer: Transcript(viewer) for viewer in VIEWERS}

    # Acknowledgements first, so that the reads below show them: a party to the conflict may
    # (201, then 200); an observer or the admin that sees it may not (403); anyone else is told it
    # does not exist, exactly as for an id that never existed (404).
    for viewer in VIEWERS:
        t = transcripts[viewer]
        mid = random_id()
        r = api.as_(viewer).post(f"/v1/conflicts/{mid}/ack")
        t.add("ack of a missing conflict", r.text, mid)
        missing = not_found_body(r, mid)
        for key, cid in s.conflicts.items():
            r = api.as_(viewer).post(f"/v1/conflicts/{cid}/ack")
            t.add(f"ack of {key} → {r.status_code}", r.text, cid)
            if viewer in CONFLICT_SIDES[key]:
                assert r.status_code == 201, (viewer, key, r.text)
                again = api.as_(viewer).post(f"/v1/conflicts/{cid}/ack")
                assert again.status_code == 200, (viewer, key, again.text)
                t.add(f"second ack of {key}", again.text)
            elif key in SEES_CONFLICTS[viewer]:
                assert r.status_code == 403, (viewer, key, r.text)
            else:
                assert not_found_body(r, cid) == missing, (viewer, key)

    for viewer in VIEWERS:
        t = transcripts[viewer]
        seen = SEES_CONFLICTS[viewer]
        listed = get(api, viewer, t, "/v1/conflicts").json()
        assert ids_of(listed) == {s.conflicts[k] for k in seen}, viewer
        assert ids_of(get(api, viewer, t, "/v1/conflicts", state="open").json()) == ids_of(listed)
        assert get(api, viewer, t, "/v1/conflicts", state="resolved").json() == []
        by_id = {v["id"]: v for v in listed}
        mid = random_id()
        missing = not_found_body(get(api, viewer, t, f"/v1/conflicts/{mid}", asked_for=mid), mid)
        for key, cid in s.conflicts.items():
            r = get(api, viewer, t, f"/v1/conflicts/{cid}", asked_for=None if key in seen else cid)
            if key not in seen:
                assert not_found_body(r, cid) == missing, (viewer, key)
                continue
            view = r.json()
            assert view == by_id[cid], (viewer, key)  # the list and the detail agree
            check_conflict_view(viewer, key, view, s.admin_views[key])
            # Both sides acknowledged; the acknowledging party is named only where its side is.
            named = seen[key][1]
            acks = sorted(str(a["party"]) for a in view["acknowledgements"])
            expected = sorted(p if p in named else "None" for p in CONFLICT_SIDES[key])
            assert acks == expected, (viewer, key, view["acknowledgements"])
        problems += t.leaks(s)
        if viewer == ADMIN:
            assert_searchable(s, t, "conflict:", "slice:")
    assert problems == []


# ---------------------------------------------------------------------------------------------- changes


VERBS = ("PUT", "DELETE", "activate", "end")


def change(api: Api, viewer: str, base: str, notice_id: str, verb: str) -> httpx.Response:
    client = api.as_(viewer)
    if verb == "PUT":
        return client.put(f"{base}/{notice_id}", json={"replaces_version": 1, **circle_notice(lat=10.5, lon=10.5)})
    if verb == "DELETE":
        return client.delete(f"{base}/{notice_id}")
    return client.post(f"{base}/{notice_id}/{verb}")


def expected_change_status(viewer: str, base: str, notice_id: str, verb: str) -> int:
    site_path = base == "/v1/protected-sites"
    if not is_party(viewer):
        return 403  # observers and the admin change nothing, whatever the id
    if site_path and verb == "PUT" and viewer != "sy-gcaa":
        return 403  # only an authority files (or refiles) protected sites
    if (notice_id in SITES) == site_path and sees_notice(viewer, notice_id):
        return 403  # seen, but only its owner changes it
    return 404  # as if it did not exist


def refusal(r: httpx.Response, asked_for: str) -> tuple[int, Any]:
    """A refusal's status and body, with the id it may echo replaced."""
    return r.status_code, json.loads(r.text.replace(json.dumps(asked_for)[1:-1], "<id>"))


ROLE_SAMPLE = [nid("sy-gcaa-SITE-E2"), nid("ru-vks-SECRET-A1"), nid("us-af-SECRET-FAR")]
"""Observers and the admin are refused by role before any id is looked at: a site, a notice, any."""


def test_changing_anothers_notice_is_403_where_seen_and_404_worded_as_a_missing_one_where_not(api: Api) -> None:
    s = file_scenario(api)
    problems: list[str] = []
    for viewer in VIEWERS:
        t = Transcript(viewer)
        targets = [n.id for n in NOTICES if n.owner != viewer] if is_party(viewer) else ROLE_SAMPLE
        for base in ("/v1/notices", "/v1/protected-sites"):
            for verb in VERBS:
                mid = random_id()
                r = change(api, viewer, base, mid, verb)
                t.add(f"{verb} {base}/<missing>", r.text, mid)
                by_role = expected_change_status(viewer, base, mid, verb) == 403
                assert r.status_code == (403 if by_role else 404), (viewer, base, verb, r.text)
                missing = refusal(r, mid)
                for nid in targets:
                    r = change(api, viewer, base, nid, verb)
                    t.add(f"{verb} {base}/{nid} → {r.status_code}", r.text, nid)
                    expected = expected_change_status(viewer, base, nid, verb)
                    assert r.status_code == expected, (viewer, base, nid, verb, r.text)
                    if expected == 404 or by_role:
                        # Worded exactly as for an id that never existed: the answer tells nothing.
                        assert refusal(r, nid) == missing, (viewer, base, nid, verb)
                    else:
                        assert r.json()["error"] == "forbidden", (viewer, base, nid, verb)
        problems += t.leaks(s)
    assert problems == []
    # Nothing was changed by any refused call.
    for path in ("/v1/notices", "/v1/protected-sites"):
        for n in api.as_(ADMIN).get(path).json():
            assert (n["version"], n["state"]) == (1, "accepted"), n["id"]


def test_filing_is_refused_to_roles_that_file_nothing(api: Api) -> None:
    file_scenario(api)
    for viewer in VIEWERS:
        for base in ("/v1/notices", "/v1/protected-sites"):
            may = is_party(viewer) and (base == "/v1/notices" or viewer == "sy-gcaa")
            r = api.as_(viewer).post(base, json=circle_notice(lat=11.5, lon=11.5, id=f"{viewer}-new-{base[4:]}"))
            assert r.status_code == (201 if may else 403), (viewer, base, r.text)


def test_filing_with_an_id_taken_by_a_notice_the_caller_may_not_see_does_not_confirm_it_exists(api: Api) -> None:
    # Regression: ids were global, so us-af filing ru-vks's id was refused with 422 "already exists",
    # which told it that ru-vks had filed a notice under that id. An id is now the filer's own.
    file_scenario(api)
    far = nid("ru-vks-SECRET-FAR")
    before = api.as_(ADMIN).get(f"/v1/notices/{far}").json()
    taken = api.as_("us-af").post("/v1/notices", json=circle_notice(lat=11.5, lon=11.5, id="ru-vks-SECRET-FAR"))
    fresh = api.as_("us-af").post("/v1/notices", json=circle_notice(lat=12.5, lon=12.5, id="us-af-fresh-id"))
    precondition(fresh.status_code == 201, fresh.text)
    assert taken.status_code == fresh.status_code == 201, taken.text
    assert taken.json()["notice"]["id"] == qid("us-af", "ru-vks-SECRET-FAR")
    assert taken.json()["receipt"]["notice_id"] == qid("us-af", "ru-vks-SECRET-FAR")
    # Nor can a party reach into another's namespace by sending the other's full id.
    r = api.as_("us-af").post("/v1/notices", json=circle_notice(lat=13.5, lon=13.5, id=far))
    assert r.status_code == 201, r.text
    assert r.json()["notice"]["id"] == qid("us-af", far)
    # ru-vks's notice is untouched; us-af's own id, filed again, is refused as any taken id of its own.
    assert api.as_(ADMIN).get(f"/v1/notices/{far}").json() == before
    again = api.as_("us-af").post("/v1/notices", json=circle_notice(lat=11.5, lon=11.5, id="ru-vks-SECRET-FAR"))
    assert again.status_code == 422, again.text


# ---------------------------------------------------------------------------------------------- events

NOTICE_EVENTS = {"notice.filed", "notice.updated", "notice.activated", "notice.ended", "notice.cancelled"}
CONFLICT_EVENTS = {"conflict.created", "conflict.updated", "conflict.resolved"}
B1_V2 = Filed("ru-vks-SECRET-B1", "ru-vks", 33.819137, 38.113917, 5713.391, 2311.97, 6113.79)
"""ru-vks's second version of B1: new numbers, still in conflict with tr-af's B2."""


def act_out(api: Api, s: Scenario) -> dict[str, list[httpx.Response]]:
    """After the filings: every acknowledgement, a webhook per party, and changes by their owners
    (an update, a cancellation, an end, an activation). Returns each actor's responses."""
    acknowledge_all(api, s)
    replies: dict[str, list[httpx.Response]] = {}
    for viewer in VIEWERS:
        r = api.as_(viewer).put("/v1/webhook", json={"url": hook_url(viewer), "secret": "s" * 20})
        assert r.status_code == (403 if viewer == ADMIN else 200), (viewer, r.text)
        replies.setdefault(viewer, []).append(r)
    r = api.as_("us-af").delete("/v1/webhook")
    assert r.status_code == 204
    r = api.as_("us-af").delete("/v1/webhook")
    assert r.status_code == 404
    replies["us-af"].append(r)

    ru = api.as_("ru-vks")
    far = BY_SHORT["tr-af-SECRET-FAR"].body()
    far["volumes"][0]["time_end"]["value"] = "2015-10-03T07:30:00Z"  # three days: flagged (meets nobody)
    changes = [
        ru.put(f"/v1/notices/{B1_V2.id}", json={"replaces_version": 1, **B1_V2.body()}),
        api.as_("tr-af").put(f"/v1/notices/{nid('tr-af-SECRET-FAR')}", json={"replaces_version": 1, **far}),
        ru.delete(f"/v1/notices/{nid('ru-vks-SECRET-A1')}"),
        ru.post(f"/v1/notices/{nid('ru-vks-SECRET-E1')}/end"),
        api.as_("tr-af").post(f"/v1/notices/{nid('tr-af-SECRET-FAR')}/activate"),
    ]
    for r in changes:
        assert r.status_code == 200, r.text
        replies.setdefault(r.json()["notice"]["party"], []).append(r)
    [b] = changes[0].json()["conflicts"]  # ru-vks still learns only that B exists
    assert b["disclosure"] == EX
    assert (changes[0].json()["hints"], changes[0].json()["hints_withheld"]) == (None, HINTS_WITHHELD)
    # The new version's numbers and B's new slice are markers too.
    s.markers["notice:" + B1_V2.id] += [Marker(number_text(x), f"a number of {B1_V2.id} v2") for x in B1_V2.numbers()]
    sl = api.as_(ADMIN).get(f"/v1/conflicts/{s.conflicts['B']}").json()["slice"]
    numbers = [sl["altitude"]["lower_m"], sl["altitude"]["upper_m"]]
    numbers += [x for ring in sl["overlap"]["coordinates"] for point in ring for x in point]
    s.markers["slice:B"] += [Marker(number_text(x), "a number of the new slice of conflict B") for x in numbers]
    return replies


def may_see_event(viewer: str, full: dict[str, Any], key_of: dict[str, str]) -> bool:
    """Whether the tables let ``viewer`` see this event (in the admin's, full, form)."""
    data = full["data"]
    if viewer == ADMIN:
        return True
    if full["type"] in NOTICE_EVENTS:
        return sees_notice(viewer, data["notice"]["id"])
    if full["type"] in CONFLICT_EVENTS or full["type"] == "conflict.acknowledged":
        return key_of[data["conflict"]["id"]] in SEES_CONFLICTS[viewer]
    if full["type"].startswith("webhook."):
        return bool(data["party"] == viewer)
    if full["type"] == "notice.probe_flagged":  # the filer and the parties the filing met
        return viewer == data["party"] or viewer in data["touched"]
    if full["type"] in ("message.sent", "message.acknowledged"):
        # the broker's thread about a conflict goes to the conflict's parties, and to nobody else
        return viewer in {r["party"] for r in data["message"]["to"]}
    return False  # party.added and the rest: the admin's


def test_each_viewers_event_stream_holds_exactly_the_events_it_may_see_each_cut_to_its_view(api: Api) -> None:
    s = file_scenario(api)
    replies = act_out(api, s)
    with ThreadPoolExecutor(len(VIEWERS)) as pool:
        streams = dict(zip(VIEWERS, pool.map(lambda v: api.events(v, after=0), VIEWERS), strict=True))
    admin = {e["data"]["id"]: e["data"] for e in streams[ADMIN]}
    last = api.broker.last_seq()
    assert list(admin) == list(range(1, last + 1)), "the admin sees every event"
    admin_types = Counter(e["type"] for e in admin.values())
    assert admin_types["conflict.updated"] >= 1 and admin_types["conflict.resolved"] == 2, admin_types
    assert admin_types["notice.probe_flagged"] == 1 and admin_types["probe.charged"] >= 4, admin_types
    key_of = {cid: key for key, cid in s.conflicts.items()}

    problems: list[str] = []
    for viewer, events in streams.items():
        got = [e["data"] for e in events]
        assert [e["id"] for e in got] == [seq for seq, e in admin.items() if may_see_event(viewer, e, key_of)], viewer
        for e in got:
            full = admin[e["id"]]
            assert (e["type"], e["time"]) == (full["type"], full["time"])
            data, whole = e["data"], full["data"]
            if e["type"] in NOTICE_EVENTS or e["type"].startswith("webhook.") or viewer == ADMIN:
                assert data == whole, (viewer, e["id"])
                continue
            if e["type"] == "notice.probe_flagged":  # the filer sees why, and not whom it met
                assert data == {k: whole[k] for k in ("party", "notice", "version", "reasons")}, (viewer, e["id"])
                continue
            if e["type"].startswith("message."):
                # the other recipient is named exactly where the conflict names its side
                ref = whole["message"]["ref"]
                assert whole["message"]["auto"] and ref["kind"] == "conflict", whole
                named = SEES_CONFLICTS[viewer][key_of[ref["id"]]][1]
                # (named recipients first, by name; an unnamed one's place tells nothing of its name)
                shown = [{**r, "party": r["party"] if r["party"] in named else None} for r in whole["message"]["to"]]
                expected_to = sorted((r for r in shown if r["party"]), key=lambda r: r["party"])
                expected_to += [r for r in shown if r["party"] is None]
                relayed = len(expected_to) > len([r for r in shown if r["party"]])
                expected = {**whole["message"], "to": expected_to, "relayed": relayed}
                assert data["message"] == expected, (viewer, e["id"])
                if "party" in whole:
                    assert data["party"] == (whole["party"] if whole["party"] in named else None), (viewer, e["id"])
                continue
            key = key_of[whole["conflict"]["id"]]
            check_conflict_view(viewer, key, data["conflict"], whole["conflict"])
            if e["type"] == "conflict.acknowledged":
                named = SEES_CONFLICTS[viewer][key][1]
                expected_party = whole["party"] if whole["party"] in named else None
                assert data == {**whole, "conflict": data["conflict"], "party": expected_party}, (viewer, e["id"])
            else:
                assert set(data) == {"conflict"}
        t = Transcript(viewer, [("event stream", json.dumps(events))])
        for r in replies.get(viewer, []):
            t.add(f"{r.request.method} {r.request.url.path} → {r.status_code}", r.text)
        problems += t.leaks(s)
        if viewer == ADMIN:
            assert_searchable(s, t, "notice:", "id:", "conflict:", "slice:", "hook:")
    assert problems == []


# ---------------------------------------------------------------------------------------------- formats


def test_exports_hold_the_callers_own_notices_and_gis_exactly_what_it_may_see(api: Api) -> None:
    """ACO, OpenAir, NOTAM and AIXM exports: the caller's own live notices (the admin's: all). GeoJSON and
    KML: the notices it sees whole, every site, and its conflicts at its level; nothing else."""
    s = file_scenario(api)
    problems: list[str] = []
    for viewer in VIEWERS:
        t = Transcript(viewer)
        own = {n.short for n in NOTICES if viewer in (n.owner, ADMIN)}
        for fmt, params in (("aco", {}), ("openair", {}), ("notam", {"fir": "OSTT"}), ("aixm", {})):
            r = get(api, viewer, t, f"/v1/exports/{fmt}", **params)
            assert r.status_code == 200, (viewer, fmt, r.text)
            # an ACO measure's NAME is the notice's name (its id when it has none)
            named = {n.short for n in NOTICES if (n.name if fmt == "aco" else n.short) in r.text}
            assert named == own, (viewer, fmt)
        zones = get(api, viewer, t, "/v1/exports/geozones", country="SYR")
        assert zones.status_code == 200, zones.text
        own_sites = {n.short for n in NOTICES if n.site and n.short in own}
        assert {z["identifier"] for z in zones.json()["features"]} == own_sites, viewer
        r = get(api, viewer, t, "/v1/exports/geojson", all="true")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json"), r.text
        features = [f["properties"] for f in r.json()["features"]]
        assert {p["notice"] for p in features if p["layer"] == "notice"} == SEES_WHOLE[viewer], viewer
        assert {p["notice"] for p in features if p["layer"] == "site"} == SITES, viewer
        shown = {p["conflict"]: p["disclosure"] for p in features if p["layer"] == "conflict"}
        expected = {s.conflicts[k]: level for k, (level, _) in SEES_CONFLICTS[viewer].items()}
        if viewer == ADMIN:  # the admin's views carry no disclosure level: the feature says "full"
            expected = {cid: "full" for cid in expected}
        assert shown == expected, viewer
        kml = get(api, viewer, t, "/v1/exports/kml", all="true")
        assert kml.status_code == 200 and kml.text.count("<Placemark>") == len(features), viewer
        for k, (level, _) in SEES_CONFLICTS[viewer].items():  # a shift only to a side that sees the other whole
            r = get(api, viewer, t, "/v1/exports/acmreq", conflict=s.conflicts[k])
            assert r.status_code in (200, 403, 422), (viewer, k, r.text)
            sees_whole = level == FULL and viewer != ADMIN  # (the admin is no side; a site's side is a 422)
            assert r.status_code != 200 or sees_whole, (viewer, k, level, r.text)
            assert r.status_code != 403 or not sees_whole, (viewer, k, level, r.text)
        problems += t.leaks(s)
        if viewer == ADMIN:
            assert_searchable(s, t, "id:", "conflict:", "slice:")
    assert problems == []


# ---------------------------------------------------------------------------------------------- audit


OWN_RECORDS = NOTICE_EVENTS | {"webhook.set", "webhook.removed"}
"""A party's export shows in full the events it caused that hold only its own records; a conflict
event holds the other side whole, so it is a stub even for the party whose filing found it."""


def test_audit_export_shows_a_partys_own_records_whole_the_rest_as_checkable_stubs_and_nothing_more(
    api: Api,
) -> None:
    s = file_scenario(api)
    act_out(api, s)
    docs = {viewer: api.as_(viewer).get("/v1/audit/export").json() for viewer in VIEWERS}
    key = api.as_(ADMIN).get("/v1/audit/key").json()["public_key"]
    admin_events = docs[ADMIN]["events"]
    assert all("stub" not in e for e in admin_events)
    assert {r["notice_id"] for r in docs[ADMIN]["receipts"]} == {n.id for n in NOTICES}
    problems: list[str] = []
    for viewer, doc in docs.items():
        assert verify_export(doc, key).ok, viewer
        assert [e["seq"] for e in doc["events"]] == [e["seq"] for e in admin_events]
        for mine, full in zip(doc["events"], admin_events, strict=True):
            if viewer == ADMIN or (full["actor"] == viewer and full["type"] in OWN_RECORDS):
                assert mine == full, (viewer, full["seq"])
            else:
                assert set(mine) == {"seq", "entry_digest", "prev_hash", "hash", "stub"}, (viewer, mine)
        if viewer != ADMIN:
            receipts = {r["notice_id"] for r in doc["receipts"]}
            assert receipts == {n.id for n in NOTICES if n.owner == viewer}, viewer
        problems += Transcript(viewer, [("audit export", json.dumps(doc))]).leaks(s)
    assert problems == []


# ---------------------------------------------------------------------------------------------- hints


def hint_pair(api: Api, lat: float, lng: float, ru_upper_m: float, ru_end: str) -> dict[str, Any]:
    """ru-vks files a tall, long notice; us-af one inside its band and window. us-af's filing reply."""
    tag = f"{lat}".replace(".", "-")
    ru = circle_notice(lat=lat, lon=lng, radius_km=6, lower_m=3011.37, upper_m=ru_upper_m, end=ru_end, id=f"ru-h{tag}")
    r = api.as_("ru-vks").post("/v1/notices", json=ru)
    precondition(r.status_code == 201, r.text)
    us = circle_notice(
        lat=lat + 0.01,
        lon=lng,
        radius_km=6,
        lower_m=4000,
        upper_m=5000,
        start="2015-09-30T08:00:00Z",
        end="2015-09-30T08:30:00Z",
        id=f"us-h{tag}",
    )
    r = api.as_("us-af").post("/v1/notices", json=us)
    precondition(r.status_code == 201, r.text)
    reply: dict[str, Any] = r.json()
    return reply


def test_what_a_filer_is_told_of_a_conflict_depends_only_on_what_the_policy_shows_it(api: Api) -> None:
    # Regression: hints were computed from the other side's whole volume, so at conflicts-only they
    # told the filer the other notice's altitude band and time window beyond the slice.
    # Two ru-vks notices that differ only above us-af's band and after its window: us-af's views of
    # the two conflicts are the same but for where they are, so its replies must be the same too.
    low = hint_pair(api, 12.31, 30.31, ru_upper_m=6011.37, ru_end="2015-09-30T10:30:00Z")
    high = hint_pair(api, 14.71, 33.71, ru_upper_m=6511.37, ru_end="2015-09-30T11:30:00Z")
    [a], [b] = low["conflicts"], high["conflicts"]
    precondition(a["disclosure"] == b["disclosure"] == CO, "both conflicts are seen at conflicts-only")
    precondition(a["slice"]["altitude"] == b["slice"]["altitude"], "the slices have the same altitudes")
    precondition(a["slice"]["time_window"] == b["slice"]["time_window"], "the slices have the same times")
    assert (low["hints"], low["hints_withheld"]) == (high["hints"], high["hints_withheld"])
    assert low["hints"] is None
    assert low["hints_withheld"] == HINTS_WITHHELD
