"""Wires adapters to services: the one place that knows everything. ``build_broker`` makes the broker
from the settings (``build_memory_broker`` the same on the in-memory store, for tests);
``build_services`` the use cases that run beside it (the live picture, the hotline), which
``api.create_app`` mounts."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial

from deconflict.adapters.keys import load_existing_key, load_or_create_key
from deconflict.adapters.memory import MemoryStore
from deconflict.adapters.sql.store import open_store
from deconflict.config import Config
from deconflict.services.broker import Broker
from deconflict.services.hotline import Hotline
from deconflict.services.ports import BrokerUnitOfWork, Clock
from deconflict.services.tactical import TacticalService


def build_broker(
    config: Config, clock: Clock = time.time, *, store: BrokerUnitOfWork | None = None, create_key: bool = True
) -> Broker:
    """A broker on the configured store (migrated to the newest schema), or on ``store`` as it is,
    with the configured key (made on first use, unless ``create_key`` is false: then a missing key
    file is refused when the key is needed)."""
    on: BrokerUnitOfWork = open_store(config.db_url, clock=clock) if store is None else store
    return Broker(
        on,
        clock,
        partial(load_or_create_key if create_key else load_existing_key, config.key_file),
        settings=config.settings,
        disclosure=config.disclosure,
        limits=config.limits,
        hotline=config.hotline,
        reload_key=partial(load_existing_key, config.key_file),
        group_commit=config.server.group_commit,
    )


def build_memory_broker(config: Config, clock: Clock = time.time, *, create_key: bool = True) -> Broker:
    """:func:`build_broker` on a fresh in-memory store (its notices stored at ``clock``'s time)
    instead of the configured database: the settings and key file are the configuration's."""
    return build_broker(config, clock, store=MemoryStore(clock), create_key=create_key)


@dataclass(frozen=True)
class Services:
    """Every use case the API serves: the broker's, and those beside it."""

    broker: Broker
    tactical: TacticalService
    hotline: Hotline


def build_services(broker: Broker, config: Config) -> Services:
    """The use cases beside ``broker``, from the same settings."""
    return Services(broker, TacticalService(broker, config.tactical), Hotline(broker))
