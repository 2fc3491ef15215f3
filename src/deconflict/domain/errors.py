"""Errors a user can act on: every one names the field and the reason.

Every error deconflict raises for a caller to act on derives from :class:`DeconflictError`; the API
maps each to one status and code (``api/errors.py``), the command line to one stderr line and exit
status 2 (``cli.main``). The tree::

    DeconflictError
    ├── ValidationError (ValueError)    422 validation: refused input, with a field path per error
    ├── NotFoundError (LookupError)     404 not-found: missing, or not visible to the caller
    ├── Unauthorized                    401 unauthorized: no credential, or one the broker does not know
    ├── Forbidden (PermissionError)     403 forbidden: the role or ownership does not allow the call
    │   └── services.filing.NotOwnerError   a change of another party's notice
    ├── StaleVersionError               409 stale-version: an update of a version no longer current
    ├── AheadOfLogError                 409 ahead-of-log: a log position past this log's end
    ├── KeyRetiredError                 503 key-retired: this broker's signing key was rotated out
    ├── CommitUnconfirmed               503 commit-unconfirmed: a COMMIT the database warned about
    ├── services.probes.ProbeBudgetSpent    429 probe-budget (Retry-After)
    ├── api.limits.RateLimited              429 rate-limited (Retry-After)
    ├── services.tactical.TrackLimitExceeded  429 track-limit (Retry-After for a rate)
    ├── clients.sender.ReplayError          a replay or feed that cannot go on (client side)
    │   └── clients.sender.BrokerUnavailable    the broker unreachable through every retry
    ├── clients.party.ClientError           a party's client: the broker refused or did not answer
    └── formats.aco_export.AcoExportError (ValueError)  a notice an ACO cannot express

"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One refused field: ``path`` is a dotted/indexed path such as ``volumes[0].time_end``."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


class DeconflictError(Exception):
    """The root of every error deconflict raises for a caller to act on (see the module's tree)."""


class ValidationError(DeconflictError, ValueError):
    """Input that the broker refuses. Carries one or more :class:`FieldError`.

    >>> str(ValidationError([FieldError("volumes[0].time_end", "must be after time_start")]))
    'volumes[0].time_end: must be after time_start'
    """

    def __init__(self, errors: list[FieldError]) -> None:
        if not errors:
            raise ValueError("ValidationError needs at least one FieldError")
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))

    @classmethod
    def at(cls, path: str, reason: str) -> ValidationError:
        return cls([FieldError(path, reason)])

    def prefixed(self, prefix: str) -> ValidationError:
        """The same errors with ``prefix`` put in front of every path."""
        out = []
        for e in self.errors:
            if not prefix:
                out.append(e)
            elif not e.path:
                out.append(FieldError(prefix, e.reason))
            elif e.path.startswith("["):
                out.append(FieldError(prefix + e.path, e.reason))
            else:
                out.append(FieldError(f"{prefix}.{e.path}", e.reason))
        return ValidationError(out)


class StaleVersionError(DeconflictError):
    """An update named a version that is no longer the current one (optimistic concurrency)."""

    def __init__(self, notice_id: str, expected: int, current: int) -> None:
        self.notice_id = notice_id
        self.expected = expected
        self.current = current
        super().__init__(
            f"notice {notice_id!r}: update replaces version {expected} but the current version "
            f"is {current}; fetch it again and re-apply your change"
        )


class AheadOfLogError(DeconflictError):
    """A well-formed log position (``field``) that this log has not reached: the caller holds
    another broker's log, or this one was restored from an older copy. A conflict with the log's
    state (409), not a malformed request."""

    def __init__(self, field: str, head_seq: int) -> None:
        self.field = field
        self.reason = f"is past the end of the log (its last seq is {head_seq})"
        super().__init__(f"{field}: {self.reason}")


class KeyRetiredError(DeconflictError):
    """This broker's signing key was retired by a rotation another process logged (``deconflict key
    rotate`` while this replica ran), and its key file does not hold the key put in force: it signs
    nothing more until the new key file is in place (HTTP 503 with Retry-After)."""


class CommitUnconfirmed(DeconflictError):
    """The database answered a COMMIT with a warning instead of confirming it: PostgreSQL does so
    when the wait for the synchronous standby is cancelled, with the transaction on the primary
    alone, where a failover would lose it. Nothing of it is reported as done (HTTP 503 with
    Retry-After): a retry under the same ``Idempotency-Key`` returns the first answer if the
    transaction stands, and files it once if it was lost."""


class NotFoundError(DeconflictError, LookupError):
    """A notice (or other record) that does not exist, or that the caller may not see."""


class Unauthorized(DeconflictError):
    """No credential, or one the broker does not know (HTTP 401)."""


class Forbidden(DeconflictError, PermissionError):
    """A credential whose role or ownership does not allow the call (HTTP 403)."""
