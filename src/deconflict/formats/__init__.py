"""Airspace formats other than our JSON: read into notice documents, written from notices.

Readers turn a file's text into the same notice JSON a party would file (so an import goes through
:func:`deconflict.domain.notice_json.parse_notice` and the broker's filing path like any JSON), and
report every record they cannot read with its line and field. Writers turn notices back into the
format. No I/O here: the command line reads and writes the files.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """A record of a file that cannot be read: where (line, field) and why."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"
