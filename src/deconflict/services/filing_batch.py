"""File several notices for one caller in one transaction: all of them, or none.

An import over the API (``POST /v1/imports/…``) files every notice of a file as the caller, exactly
as ``POST /v1/notices`` files one (the same roles, probe budget, disclosure of the conflicts, hints,
log events and receipts, with the caller as the actor), and a refusal of any one of them leaves
nothing written. Each notice is parsed and detected before the filing lock
(:func:`~deconflict.services.commands.parse_file_notices`, then
:meth:`~deconflict.services.broker.Broker.prepare`: a party's notices never conflict with each
other, so each is detected against the store alone), then all are written in one transaction
under it (:meth:`~deconflict.services.broker.Broker.file_prepared`), their conflicts brought up to
date with what changed meanwhile: an import holds the lock no longer than its writes take.
"""

from __future__ import annotations

from deconflict.domain.errors import ValidationError
from deconflict.services.broker import Broker, Outcome
from deconflict.services.commands import FileNotices
from deconflict.services.filing_prepare import Prepared


def file_all(broker: Broker, cmd: FileNotices) -> list[Outcome]:
    """File each notice as :meth:`Broker.file` does, for ``cmd.caller``, in one transaction. A
    refusal of the ``i``-th names its fields as ``[i].<field>``; then nothing is filed."""
    prepared: list[Prepared] = []
    for i, one in enumerate(cmd.notices):
        try:
            prepared.append(broker.prepare(one))
        except ValidationError as e:
            raise e.prefixed(f"[{i}]") from None
    out: list[Outcome] = []
    with broker.write(cmd.caller) as tx:
        for i, p in enumerate(prepared):
            try:
                out.append(Outcome(created=True, body=broker.file_prepared(tx, cmd.caller, p)))
            except ValidationError as e:
                raise e.prefixed(f"[{i}]") from None
    return out
