"""File several notices for one caller in one transaction: all of them, or none.

An import over the API (``POST /v1/imports/…``) files every notice of a file as the caller, exactly
as ``POST /v1/notices`` files one (the same roles, probe budget, disclosure of the conflicts, hints,
log events and receipts, with the caller as the actor), and a refusal of any one of them leaves
nothing written. Each notice is parsed and detected before the filing lock
(:meth:`~deconflict.services.broker.Broker.prepare`: a party's notices never conflict with each
other, so each is detected against the store alone), then all are written in one transaction
under it (:meth:`~deconflict.services.broker.Broker.file_prepared`), their conflicts brought up to
date with what changed meanwhile: an import holds the lock no longer than its writes take.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deconflict.domain.errors import ValidationError
from deconflict.domain.parties import Party
from deconflict.services.broker import Broker, Outcome
from deconflict.services.filing_prepare import Prepared


def file_all(broker: Broker, caller: Party, bodies: Sequence[Any], *, site: bool = False) -> list[Outcome]:
    """File each body as :meth:`Broker.file` does, for ``caller``, in one transaction. A refusal of
    the ``i``-th names its fields as ``[i].<field>``; then nothing is filed."""
    prepared: list[Prepared] = []
    for i, body in enumerate(bodies):
        try:
            prepared.append(broker.prepare(caller, body, site=site))
        except ValidationError as e:
            raise e.prefixed(f"[{i}]") from None
    out: list[Outcome] = []
    with broker.write(caller) as tx:
        for i, p in enumerate(prepared):
            try:
                out.append(Outcome(created=True, body=broker.file_prepared(tx, caller, p)))
            except ValidationError as e:
                raise e.prefixed(f"[{i}]") from None
    return out
