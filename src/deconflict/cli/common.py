"""What every command module shares: the store and configuration options, error exits, files read
and written with one-line errors, and the broker built from them.

A command that only reads the store opens it with :func:`open_existing`: it never creates a store,
never migrates one and never creates the signing key. Commands that set a broker up (``demo``,
``file``, ``serve``, ``party add``, ``db upgrade``) use :func:`open_broker`, which does all three.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from deconflict.config import Config, load_config
from deconflict.domain import strict
from deconflict.domain.audit import VerifyReport
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


def read_text(path: Path, label: str | None = None) -> str:
    """The UTF-8 text of ``path``, or exit 2 with one line naming it (after ``label``, an option
    such as ``--key``) and why it cannot be read."""
    name = f"{label} {path}" if label else str(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise err(f"{name}: no such file") from None
    except IsADirectoryError:
        raise err(f"{name}: is a directory, not a file") from None
    except PermissionError:
        raise err(f"{name}: permission denied") from None
    except UnicodeDecodeError as e:
        raise err(f"{name}: not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start})") from None
    except OSError as e:
        raise err(f"{name}: cannot be read ({e.strerror or e})") from None


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """Around a reader of ``path``: what it raises becomes one line per problem and exit 2 (the
    reader's field errors, or why the file cannot be read)."""
    try:
        yield
    except FileNotFoundError:
        raise err(f"{path}: no such file") from None
    except OSError as e:
        raise err(f"{path}: {e.strerror or e}") from None
    except ValidationError as e:
        raise err("\n".join(str(x) for x in e.errors)) from None


def read_json(path: Path, label: str | None = None) -> Any:
    """The JSON document in ``path``, or exit 2 with one line naming it and the reason."""
    text = read_text(path, label)
    name = f"{label} {path}" if label else str(path)
    try:
        return strict.loads(text)
    except json.JSONDecodeError as e:
        raise err(f"{name}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except ValidationError as e:
        raise err("\n".join(f"{name}: {x}" for x in e.errors)) from None


def readable_file(path: Path) -> None:
    """Exit 2 with one line unless ``path`` is an existing file this process may read (for the
    readers that open files themselves)."""
    if not path.exists():
        raise err(f"{path}: no such file")
    if path.is_dir():
        raise err(f"{path}: is a directory, not a file")
    if not os.access(path, os.R_OK):
        raise err(f"{path}: permission denied")


def writable_file(path: Path, option: str) -> None:
    """Exit 2 with one line unless ``path`` can be written (created in its folder, or overwritten),
    without touching it: checked before work that cannot be undone (a report logged)."""
    if path.is_dir():
        raise err(f"{option} {path}: cannot write: is a directory")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise err(f"{option} {path}: cannot write: permission denied")
        return
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise err(f"{option} {path}: cannot write: no folder {parent}")
    if not os.access(parent, os.W_OK):
        raise err(f"{option} {path}: cannot write: permission denied in {parent}")


def write_text(path: Path, text: str, option: str, after: str = "") -> None:
    """Write ``text`` to ``path``, or exit 2 with one line naming it (and ``after``, what was
    already done)."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise err(f"{option} {path}: cannot write ({e.strerror or e}){after}") from None


def config_or_exit(config: Path | None, db: str | None) -> Config:
    """The configuration, or exit 2 naming the file or the bad key."""
    path = config if config is not None else os.environ.get("DECONFLICT_CONFIG") or None
    if path is not None:
        read_text(Path(path), "--config")  # a directory, a missing or non-UTF-8 file: one line
    try:
        return load_config(config, db=db)
    except ValidationError as e:
        raise err(f"configuration: {e}") from None


def _shown(url: str) -> str:
    """The store URL as printed: without its password."""
    import sqlalchemy as sa

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def _reason(e: Exception) -> str:
    """The first line of a driver's error, without SQLAlchemy's background link."""
    orig = getattr(e, "orig", None)
    text = str(orig if orig is not None else e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``None`` for another database); exit 2 when it is a directory."""
    import sqlalchemy as sa

    try:
        u = sa.make_url(url)
    except sa.exc.ArgumentError as e:
        raise err(f"--db {url}: not a store URL ({e})") from None
    if u.get_backend_name() != "sqlite":
        return None
    path = Path(u.database or ":memory:")
    if path.is_dir():
        raise err(f"store {_shown(url)}: {path} is a directory, not a SQLite file")
    return path


def _not_a_store(url: str, e: Exception) -> typer.Exit:
    import sqlalchemy as sa

    if isinstance(e, sa.exc.DatabaseError) and "not a database" in _reason(e):
        return err(f"store {_shown(url)}: not a SQLite database ({_reason(e)})")
    return err(f"store {_shown(url)}: cannot open it ({_reason(e)})")


def open_broker(cfg: Config, clock: Clock = time.time) -> Broker:
    """The broker on the configured store (created or migrated as needed) with the configured key
    (created on first use): filings from the command line are logged and receipted like those over
    the API."""
    import sqlalchemy as sa

    from deconflict.bootstrap import build_broker

    _sqlite_file(cfg.db_url)
    try:
        return build_broker(cfg, clock)
    except sa.exc.SQLAlchemyError as e:
        raise _not_a_store(cfg.db_url, e) from None


def upgrade_store(url: str) -> None:
    """Create or migrate the store at ``url`` to the newest schema, or exit 2 saying why not."""
    import sqlalchemy as sa

    from deconflict.adapters.sql.migrate import upgrade

    _sqlite_file(url)
    try:
        upgrade(url)
    except sa.exc.SQLAlchemyError as e:
        raise _not_a_store(url, e) from None


def open_existing(cfg: Config, clock: Clock = time.time, *, write: bool = False) -> Broker:
    """The broker on the store that is already there, for commands that read it (or, ``write``,
    change records it must already hold: revoke a party, rotate a token, set a disclosure rule).

    Creates nothing: a SQLite file that does not exist, or a database without deconflict's schema,
    is exit 2 saying where it looked and how to make one. A schema older than this version's is
    migrated only for ``write``; a read asks for ``deconflict db upgrade``. The signing key is read
    when needed, never created.
    """
    import sqlalchemy as sa

    from deconflict.adapters.sql import migrate
    from deconflict.adapters.sql.store import SqlStore

    url, shown = cfg.db_url, _shown(cfg.db_url)
    how = f"create one with `deconflict db upgrade --db {shown}`, or point --db (or DECONFLICT_DB) at yours"
    path = _sqlite_file(url)
    if path is not None and (str(path) == ":memory:" or not path.exists()):
        raise err(f"no store at {shown}: {path.absolute()} does not exist; {how}")
    try:
        revision = migrate.current_revision(url)
    except sa.exc.SQLAlchemyError as e:
        raise _not_a_store(url, e) from None
    if revision is None:
        raise err(f"no store at {shown}: the database has no deconflict schema; {how}")
    store = SqlStore(url, clock=clock)
    if revision != migrate.head_revision():
        if not write:
            store.close()
            raise err(
                f"store {shown}: its schema is at revision {revision}, not this version's "
                f"{migrate.head_revision()}; run `deconflict db upgrade --db {shown}` first"
            )
        try:
            store.ensure_schema()
        except Exception as e:
            store.close()
            raise err(f"store {shown}: cannot migrate its schema ({_reason(e)})") from None
    from deconflict.bootstrap import build_broker

    return build_broker(cfg, clock, store=store, create_key=False)


def say_verification(report: VerifyReport, where: str) -> None:
    """Print an audit export's verification and exit as ``audit verify`` does: 0 verified with a key
    the user gave, 1 a problem found (each named at its place in ``where``), 3 consistent only with
    the key the export carries, which proves nothing by itself."""
    for p in report.problems:
        typer.echo(f"{where}: {p.where}: {p.what}")
    counts = (
        f"{report.events} events ({report.full_events} in full), {report.receipts} receipts, head seq {report.head_seq}"
    )
    if report.after_seq:
        counts += (
            f", after seq {report.after_seq} (an incremental export: its after.hash must be your last head's hash)"
        )
    if not report.ok:
        trust = "the key you gave" if report.key_trusted else "the key inside the file"
        typer.echo(f"FAILED: {len(report.problems)} problem(s); {counts}, checked with {trust}, key id {report.key_id}")
        raise typer.Exit(1)
    if not report.key_trusted:
        typer.echo(
            f"UNTRUSTED KEY: {counts}: consistent with the key it carries ({report.key_id}), but that key is not "
            "trusted: anyone can re-sign a rewritten log; give --key with the broker's public key to verify it"
        )
        raise typer.Exit(3)
    typer.echo(f"OK: {counts}, checked with the key you gave, key id {report.key_id}")
