"""File several notices for one caller in one transaction: all of them, or none.

An import over the API (``POST /v1/imports/…``) files every notice of a file as the caller, exactly
as ``POST /v1/notices`` files one (the same roles, probe budget, disclosure of the conflicts, hints,
log events and receipts, with the caller as the actor), and a refusal of any one of them leaves
nothing written. :class:`~deconflict.services.broker.Broker` files one notice per transaction, so
this runs its public :meth:`~deconflict.services.broker.Broker.file` for each notice on a broker
whose store is one transaction already open: each filing's own "transaction" is that one, which
commits once, after the last notice, or rolls back whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from deconflict.domain.errors import ValidationError
from deconflict.domain.parties import Party
from deconflict.services.broker import Broker, Reply
from deconflict.services.ports import BrokerRepository


class _OneTransaction:
    """A store whose every transaction is the one already open (nothing commits until it does)."""

    def __init__(self, repo: BrokerRepository) -> None:
        self.repo = repo

    @contextmanager
    def begin(self, write: bool = True) -> Iterator[BrokerRepository]:
        yield self.repo


@contextmanager
def one_transaction(broker: Broker) -> Iterator[tuple[Broker, BrokerRepository]]:
    """A broker whose every change runs in one transaction (committed when the block ends, rolled
    back whole if it raises), and that transaction's repository, for reads between the changes."""
    with broker.store.begin() as repo:
        repo.lock_for_filing()  # held from the first read to the commit, as one filing holds it
        yield (
            Broker(
                _OneTransaction(repo),
                broker.clock,
                broker.key,
                broker.settings,
                broker.policy,
                broker.limits,
                broker.hotline,
            ),
            repo,
        )
    for wake in list(broker.listeners):  # the live streams: new events are committed
        wake()


def file_all(broker: Broker, caller: Party, bodies: Sequence[Any], *, site: bool = False) -> list[Reply]:
    """File each body as :meth:`Broker.file` does, for ``caller``, in one transaction. A refusal of
    the ``i``-th names its fields as ``[i].<field>``; then nothing is filed."""
    out: list[Reply] = []
    with one_transaction(broker) as (inner, _):
        for i, body in enumerate(bodies):
            try:
                out.append(inner.file(caller, body, site=site))
            except ValidationError as e:
                raise e.prefixed(f"[{i}]") from None
    return out
