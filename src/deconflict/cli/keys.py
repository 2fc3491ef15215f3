"""``deconflict key``: the broker's signing key (docs/deploy.md, docs/audit.md)."""

from __future__ import annotations

import typer

from deconflict.cli.common import ConfigOption, DbOption, config_or_exit, err, open_existing
from deconflict.domain.errors import ValidationError

key_app = typer.Typer(help="The broker's signing key.", no_args_is_help=True)


@key_app.command("rotate")
def key_rotate(db: DbOption = None, config: ConfigOption = None) -> None:
    """Sign with a new key from now on; old receipts and exports stay verifiable.

    Logs a key.rotated event signed by the old key and the new one, then puts the new key in the
    key file (the audit.key_file setting) and keeps the old one beside it as <key_file>.retired-<key id>.
    Stop every `deconflict serve` on the store first and start them again afterwards (replicas on
    several hosts: copy the new key file to each): a broker still running would sign with the old key.
    Parties who trust the old key can verify new exports with it: `audit verify` follows the
    rotations in the log.
    """
    from deconflict.adapters.keys import install_key, stage_key
    from deconflict.domain.audit import BrokerKey

    cfg = config_or_exit(config, db)
    broker = open_existing(cfg, write=True)
    try:
        broker.check_key()
        old = broker.key
        new = BrokerKey.generate()
        staged = stage_key(cfg.key_file, new)
    except ValidationError as e:
        raise err(str(e)) from None
    event = broker.rotate_key(new)
    retired = install_key(cfg.key_file, staged, old.key_id())
    typer.echo(f"rotated at seq {event.seq}: key {old.key_id()} retired (kept as {retired}), {new.key_id()} signs now")
    typer.echo(new.public_key_b64())
