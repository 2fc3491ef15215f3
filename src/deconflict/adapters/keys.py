"""The broker's signing key on disk: one unencrypted PKCS8 PEM file, readable by its owner only."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from deconflict.domain.audit import BrokerKey
from deconflict.domain.errors import ValidationError

FIELD = "audit.key_file"
"""The setting that names the key file: errors are reported on it."""


def load_or_create_key(path: str | Path) -> BrokerKey:
    """The key in the PEM file at ``path``; if there is no file, a new key written there (mode 0600).

    The new file appears whole or not at all. If another process creates the file at the same
    moment, its key wins and is the one returned, so two brokers never sign with different keys
    believing they share one. A file that cannot be read or is not an Ed25519 private key is a
    :class:`ValidationError` on ``audit.key_file`` naming the path.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     k = load_or_create_key(pathlib.Path(d) / "keys" / "broker.pem")
    ...     load_or_create_key(pathlib.Path(d) / "keys" / "broker.pem").key_id() == k.key_id()
    True
    """
    p = Path(path)
    try:
        return _read(p)
    except FileNotFoundError:
        pass
    key = BrokerKey.generate()
    try:
        created = _create_exclusively(p, key.to_pem())
    except OSError as e:
        raise ValidationError.at(FIELD, f"{p}: cannot create the key file: {e.strerror or e}") from None
    if created:
        return key
    # Lost the race to another process: use the key it wrote.
    try:
        return _read(p)
    except FileNotFoundError:
        raise ValidationError.at(FIELD, f"{p}: the key file vanished while it was being created") from None


def load_existing_key(path: str | Path) -> BrokerKey:
    """The broker's key from ``path``; a missing file is a :class:`ValidationError`, never a new key
    (a new key would sign an export of a log whose receipts another key signed)."""
    p = Path(path)
    if not p.is_file():
        raise ValidationError.at(
            FIELD, f"{p}: no such file; this command does not create the broker's key (`deconflict serve` does)"
        )
    return load_or_create_key(p)


def _read(p: Path) -> BrokerKey:
    """The key in ``p``; ``FileNotFoundError`` passes through, every other failure names the path."""
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as e:
        raise ValidationError.at(FIELD, f"{p}: cannot be read: {e.strerror or e}") from None
    try:
        return BrokerKey.from_pem(data)
    except ValidationError as e:
        reason = "; ".join(err.reason for err in e.errors)
        raise ValidationError.at(FIELD, f"{p}: {reason}") from None


def _create_exclusively(p: Path, data: bytes) -> bool:
    """Write ``data`` to ``p`` atomically with mode 0600 unless ``p`` exists; True if this call created it."""
    p.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600 whatever the umask, in the same directory so that the final
    # rename or link stays on one file system and is atomic.
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            # A key lost in a crash after its receipts went out would leave them unverifiable.
            os.fsync(f.fileno())
        try:
            # link() fails if the name exists, so a concurrent creator's key is never replaced.
            os.link(tmp, p)
            created = True
        except FileExistsError:
            created = False
        except OSError:
            # File systems without hard links: fall back to a plain atomic rename.
            if p.exists():
                created = False
            else:
                os.replace(tmp, p)
                created = True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    if created:
        _fsync_dir(p.parent)
    return created


def _fsync_dir(d: Path) -> None:
    # Makes the new directory entry durable; not every platform lets a directory be opened.
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def staged_path(path: str | Path) -> Path:
    """Where :func:`stage_key` writes a rotation's new key before the log records it."""
    p = Path(path)
    return p.with_name(p.name + ".next")


def stage_key(path: str | Path, key: BrokerKey) -> Path:
    """Write ``key`` next to the key file at ``path`` (``<name>.next``, mode 0600, synced), replacing
    one an interrupted rotation left there; the file's path."""
    staged = staged_path(path)
    staged.unlink(missing_ok=True)
    try:
        if not _create_exclusively(staged, key.to_pem()):
            raise ValidationError.at(FIELD, f"{staged}: another rotation is writing it at this moment")
    except OSError as e:
        raise ValidationError.at(FIELD, f"{staged}: cannot be written: {e.strerror or e}") from None
    return staged


def install_key(path: str | Path, staged: Path, old_key_id: str) -> Path:
    """Put the staged key in place of the key file at ``path``, keeping the old one as
    ``<name>.retired-<key id>`` (its public key still verifies the receipts it signed); the
    retired file's path. Each step is atomic: a crash leaves the old key or the new one in place."""
    p = Path(path)
    retired = p.with_name(f"{p.name}.retired-{old_key_id}")
    with contextlib.suppress(FileExistsError):
        os.link(p, retired)
    os.replace(staged, p)
    _fsync_dir(p.parent)
    return retired
