"""Wires adapters to services: the one place that knows everything."""

from __future__ import annotations

import time
from functools import partial

from deconflict.adapters.keys import load_or_create_key
from deconflict.adapters.sql.store import open_store
from deconflict.config import Config
from deconflict.services.broker import Broker
from deconflict.services.ports import Clock


def build_broker(config: Config, clock: Clock = time.time) -> Broker:
    """A broker on the configured store (migrated to the newest schema) with the configured key."""
    store = open_store(config.db_url, clock=clock)
    return Broker(
        store,
        clock,
        partial(load_or_create_key, config.key_file),
        settings=config.settings,
        disclosure=config.disclosure,
        limits=config.limits,
        hotline=config.hotline,
    )
