"""What the ``deconflict client`` commands share: where they call and as whom (the broker's URL
and the party's token), and a call whose every failure is one stderr line and an exit status.

Each value comes from its option (``--url``, ``--token``), else the environment
(``DECONFLICT_URL``, ``DECONFLICT_TOKEN``), else a profile of the client file: a TOML file
(``--client-config`` or ``DECONFLICT_CLIENT_CONFIG``, default
``$XDG_CONFIG_HOME/deconflict/client.toml``, i.e. ``~/.config/deconflict/client.toml``) whose tables
are profiles, ``[default]`` unless ``--profile``/``DECONFLICT_PROFILE`` names another::

    [default]
    url = "https://broker.example.org"
    token_file = "~/.config/deconflict/ru-vks.token"

A profile holds ``url`` and ``token`` or ``token_file``; any other key is refused. The token is
never printed: :class:`Target` says only where it came from.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from deconflict.cli.common import err
from deconflict.clients.party import BrokerClient
from deconflict.clients.responses import ClientError


class ConfigError(ValueError):
    """The URL or token cannot be found, or the client file is wrong: the message says where."""


@dataclass(frozen=True)
class Target:
    """Where to call and as whom; ``source`` says where the token came from (never the token)."""

    url: str
    token: str
    source: str
    warning: str | None = None
    """Something the user should fix (a token in a file others may read)."""


def config_path(option: Path | None) -> tuple[Path, bool]:
    """The client file, and whether it was asked for (then it must exist)."""
    if option is not None:
        return option, True
    if os.environ.get("DECONFLICT_CLIENT_CONFIG"):
        return Path(os.environ["DECONFLICT_CLIENT_CONFIG"]), True
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "deconflict" / "client.toml", False


def resolve(
    url: str | None, token: str | None, profile: str | None, config: Path | None, need_token: bool = True
) -> Target:
    """Each value from the option, else the environment, else the profile (``[default]`` unless named).
    Without ``need_token`` a missing token is an empty one (for ``/readyz``)."""
    path, asked = config_path(config)
    profile = profile or os.environ.get("DECONFLICT_PROFILE") or None
    section: dict[str, Any] = {}
    warning = None
    if path.is_file():
        try:
            doc = tomllib.loads(path.read_text())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"{path}: not a readable TOML file ({e})") from None
        name = profile or "default"
        found = doc.get(name)
        if found is None and profile is not None:
            raise ConfigError(f"{path}: no profile [{name}] (profiles: {', '.join(sorted(doc)) or 'none'})")
        if found is not None and not isinstance(found, dict):
            raise ConfigError(f"{path}: [{name}] must be a table with url and token or token_file")
        section = found or {}
        unknown = sorted(set(section) - {"url", "token", "token_file"})
        if unknown:
            raise ConfigError(f"{path}: [{name}].{unknown[0]}: unknown key (known: url, token, token_file)")
        if "token" in section and path.stat().st_mode & 0o077:
            warning = f"{path} holds a token and others may read it (chmod 600 {path})"
    elif asked:
        raise ConfigError(f"{path}: no such client configuration file")
    elif profile is not None:
        raise ConfigError(f"{path}: no such file, so no profile [{profile}]")
    where = f"{path} [{profile or 'default'}]"
    url = url or os.environ.get("DECONFLICT_URL") or section.get("url")
    if not url:
        raise ConfigError(f"no broker URL: give --url, set DECONFLICT_URL, or put url in {where}")
    if not str(url).startswith(("http://", "https://")):
        raise ConfigError(f"broker URL: must start with http:// or https://, got {url!r}")
    if token:
        return Target(str(url), token.strip(), "--token", warning)
    if os.environ.get("DECONFLICT_TOKEN"):
        return Target(str(url), os.environ["DECONFLICT_TOKEN"].strip(), "$DECONFLICT_TOKEN", warning)
    if section.get("token"):
        return Target(str(url), str(section["token"]).strip(), where, warning)
    if section.get("token_file"):
        tf = Path(str(section["token_file"])).expanduser()
        try:
            return Target(str(url), tf.read_text().strip(), f"{tf} (token_file in {where})", warning)
        except OSError as e:
            raise ConfigError(f"{where}: token_file {tf}: {e.strerror}") from None
    if not need_token:
        return Target(str(url), "", "nowhere", warning)
    raise ConfigError(f"no token: give --token, set DECONFLICT_TOKEN, or put token or token_file in {where}")


CLIENT_META = "deconflict.clients.party"
"""Set in ``ctx.meta`` (shared by every context of one command line) by ``deconflict client``."""


def under_client(ctx: typer.Context) -> bool:
    """Whether this command runs as ``deconflict client COMMAND`` (``replay`` and ``feed`` run at the
    top level too, and find the broker differently there)."""
    return bool(ctx.meta.get(CLIENT_META))


def target(ctx: typer.Context, need_token: bool = True) -> Target:
    """The URL and token for this command (resolved once; a bad configuration exits 2)."""
    found: Target | None = ctx.meta.get("deconflict.clients.party.target")
    if found is None:
        try:
            url, token, profile, config = ctx.obj
            found = resolve(url, token, profile, config, need_token)
        except ConfigError as e:
            raise err(str(e)) from None
        if found.warning:
            typer.echo(f"warning: {found.warning}", err=True)
        ctx.meta["deconflict.clients.party.target"] = found
    return found


UNREACHED = 4
"""The exit status when the broker could not be reached or failed (5xx): trying again may help.
(3 is taken: `audit` without --key, as `deconflict audit verify`.)"""


@contextmanager
def calling(
    ctx: typer.Context, prefix: str = "", need_token: bool = True, options: dict[str, str] | None = None
) -> Iterator[BrokerClient]:
    """The client, and every :class:`ClientError` as one stderr line and exit 2 (4 when unreached).
    A refused field is named after ``prefix``; ``options`` renames the body keys that come from
    options (``ack_within_s`` → ``ack-within``) so the line names what the user typed."""
    where = target(ctx, need_token)
    client = BrokerClient(where.url, where.token)
    try:
        yield client
    except ClientError as e:
        if e.network:
            line = f"error: {e.line()}" if e.status is None else f"error: {where.url}: {e.line()}"
            raise err(line, UNREACHED) from None
        if e.status == 401:
            raise err(f"error: 401 unauthorized by {where.url}: {e.reason} (token from {where.source})") from None
        if e.fields:
            named = [(_rename(f, options or {}), r) for f, r in e.fields]
            raise err("; ".join(f"{prefix}{f}: {r}" if f else r for f, r in named)) from None
        extra = ""
        if e.current_version is not None and "current version" not in e.reason:
            extra = f" (current version {e.current_version})"
        raise err(f"error: {e.line()}{extra}") from None
    finally:
        client.close()


def _rename(field: str, options: dict[str, str]) -> str:
    head = field.split(".")[0].split("[")[0]
    return options[head] + field[len(head) :] if head in options else field


def out(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2))


def say(lines: list[str] | str) -> None:
    for line in [lines] if isinstance(lines, str) else lines:
        typer.echo(line)


IdsOption = Annotated[bool, typer.Option("--ids", help="Print only the ids, one a line (for scripts).")]


def show_list(items: list[dict[str, Any]], ids: bool, as_json: bool, human: Callable[[], None]) -> None:
    """A list as its ids one a line (``--ids``), as JSON (``--json``), or for people (``human``)."""
    if ids:
        say([str(x["id"]) for x in items])
    elif as_json:
        out(items)
    else:
        human()
