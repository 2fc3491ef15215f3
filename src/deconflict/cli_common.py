"""What every command module shares: the store and configuration options, error exits, and the
broker built from them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from deconflict.config import Config, load_config
from deconflict.domain.errors import ValidationError
from deconflict.services.broker import Broker
from deconflict.services.ports import Clock

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store URL (sqlite:///FILE or postgresql+psycopg://…) or a SQLite file path. "
        "Default: $DECONFLICT_DB or ./deconflict.sqlite",
    ),
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Theater configuration TOML (default: $DECONFLICT_CONFIG).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def err(message: str, code: int = 2) -> typer.Exit:
    """Print an error to stderr unwrapped (scripts grep it) and return the exit to raise."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def config_or_exit(config: Path | None, db: str | None) -> Config:
    """The configuration, or exit 2 naming the bad key."""
    try:
        return load_config(config, db=db)
    except ValidationError as e:
        raise err(f"configuration: {e}") from None


def open_broker(cfg: Config, clock: Clock = time.time) -> Broker:
    """The broker on the configured store (migrated) with the configured key: filings from the
    command line are logged and receipted like those over the API."""
    from deconflict.bootstrap import build_broker

    return build_broker(cfg, clock)
