"""A NOTAM file applied in one transaction: each NOTAMN filed as a notice of the caller, each
NOTAMR an update of the notice filed from the NOTAM it names, each NOTAMC the end of it.

The NOTAM a change names is found as the caller's notice with that NOTAM's number as id
(``A0412/30`` → ``<party>:A0412-30``), or, within the file, through the NOTAMR that replaced it: a
notice keeps the id of the NOTAM that first filed it, so a NOTAMR of a NOTAMR in the same file
changes that notice again. A change naming a NOTAM that was never imported is refused, naming it.
"""

from __future__ import annotations

from collections.abc import Sequence

from deconflict.domain.errors import ValidationError
from deconflict.domain.notice_json import notice_to_json
from deconflict.domain.parties import Party
from deconflict.domain.volumes import NoticeState
from deconflict.formats.notam import NotamChange
from deconflict.formats.openair import Imported
from deconflict.services.broker import Broker, Outcome
from deconflict.services.commands import parse_file_notice, parse_new_version
from deconflict.services.filing_prepare import Prepared


def apply_notams(broker: Broker, caller: Party, records: Sequence[Imported | NotamChange], site: bool) -> list[Outcome]:
    """File, update or end as ``caller`` (as ``POST /v1/notices``, ``PUT`` and ``/end`` do), all in
    one transaction. A refusal of the ``i``-th record names its fields as ``[i].<field>``; then
    nothing is changed. New notices and new versions are parsed and detected before the filing
    lock, as one filing is (:mod:`~deconflict.services.commands`, then
    :meth:`~deconflict.services.broker.Broker.prepare`)."""
    alias: dict[str, str] = {}
    """A NOTAM number (as an id) → the id of the notice it filed or changed, within this file."""
    steps: list[tuple[str, Prepared | None]] = []
    """Each record's target notice (``""`` for a new one) and what was prepared for it."""
    for i, r in enumerate(records):
        try:
            if isinstance(r, Imported):
                new = broker.prepare(parse_file_notice(caller, notice_to_json(r.notice), broker.limits, site=site))
                alias[str(r.notice.id)] = str(new.notice.id)
                steps.append(("", new))
                continue
            target = alias.get(r.names, f"{caller.name}:{r.names}")
            if r.replacement is not None:
                body = {k: v for k, v in notice_to_json(r.replacement.notice).items() if k != "id"}
                cmd = parse_new_version(caller, target, body, broker.limits, site=site)
                steps.append((target, broker.prepare_update(cmd)))
            else:
                steps.append((target, None))
            alias[r.number] = target
        except ValidationError as e:
            raise e.prefixed(f"[{i}]") from None
    out: list[Outcome] = []
    what = "protected site" if site else "notice"
    with broker.write(caller) as tx:
        repo = tx.repo
        for i, (r, (target, p)) in enumerate(zip(records, steps, strict=True)):
            try:
                if isinstance(r, Imported):
                    assert p is not None
                    out.append(Outcome(created=True, body=broker.file_prepared(tx, caller, p)))
                    continue
                owner = repo.notice_owner(target)
                if owner is None or owner[0] != caller.name:
                    raise ValidationError.at(
                        "header",
                        f"{r.names.replace('-', '/')} was never imported: no {what} of {caller.name} was filed from it "
                        "(import that NOTAM first, or name the NOTAM that first filed the notice)",
                    )
                if owner[1] != site:
                    filed = "a protected site" if owner[1] else "a notice, not a protected site"
                    raise ValidationError.at(
                        "header", f"{r.names.replace('-', '/')} filed {filed}: import this file as {filed[2:]}s"
                    )
                if p is not None:
                    current = repo.get(target)
                    assert current is not None
                    out.append(Outcome(body=broker.update_prepared(tx, caller, target, current.version, p, site)))
                else:
                    out.append(Outcome(body=broker.set_state_in(tx, caller, target, NoticeState.ENDED, None, site)))
            except ValidationError as e:
                raise e.prefixed(f"[{i}]") from None
    return out
