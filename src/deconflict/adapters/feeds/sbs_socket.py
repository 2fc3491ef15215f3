"""SBS-1/BaseStation lines and states from a live TCP server (dump1090's port 30003), reconnecting
with a back-off; the lines are decoded by :mod:`deconflict.adapters.feeds.sbs`."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterator

from deconflict.adapters.feeds.sbs import DEFAULT_PORT, SbsDecoder, decode_sbs
from deconflict.domain.tracks import TrackState

log = logging.getLogger("deconflict.adapters.feeds.sbs")
"""The SBS feed's logger (its file and its socket log as one)."""


def parse_address(text: str, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """``host:port``, ``tcp://host:port``, ``[v6]:port`` or a bare host → ``(host, port)``.

    >>> parse_address("tcp://radar.local:30003"), parse_address("[::1]:31003"), parse_address("pi")
    (('radar.local', 30003), ('::1', 31003), ('pi', 30003))
    """
    rest = text.strip()
    if rest.lower().startswith("tcp://"):
        rest = rest[6:]
    rest = rest.rstrip("/")
    port_text = ""
    if rest.startswith("["):
        host, sep, tail = rest[1:].partition("]")
        if not sep or (tail and not tail.startswith(":")):
            raise ValueError(f"{text!r}: not host:port")
        port_text = tail[1:]
    elif rest.count(":") == 1:
        host, _, port_text = rest.partition(":")
    else:
        host = rest
    if not host:
        raise ValueError(f"{text!r}: no host")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{text!r}: port {port_text!r} is not 1 to 65535")
    return host, int(port_text)


Connect = Callable[[tuple[str, int], float], socket.socket]
"""Opens a TCP connection given ``(host, port)`` and a timeout (``socket.create_connection``)."""


def _create_connection(address: tuple[str, int], timeout: float) -> socket.socket:
    return socket.create_connection(address, timeout=timeout)


def sbs_socket_lines(
    address: tuple[str, int] | str,
    stop: threading.Event,
    *,
    connect: Connect = _create_connection,
    initial_backoff_s: float = 1.0,
    max_backoff_s: float = 30.0,
    read_timeout_s: float = 1.0,
    max_line_bytes: int = 4096,
) -> Iterator[str]:
    """Lines from a BaseStation TCP server until ``stop`` is set; reconnects when the connection
    fails or closes, waiting ``initial_backoff_s``, then twice as long each time up to
    ``max_backoff_s`` (back to the start once a connection delivers data).

    ``stop`` is checked at least every ``read_timeout_s``, and interrupts a back-off wait at once.
    A line longer than ``max_line_bytes`` (a wrong port sending binary) is cut and passed on, so the
    decoder counts it as malformed, rather than let the buffer grow.
    """
    addr = parse_address(address) if isinstance(address, str) else address
    backoff = initial_backoff_s
    while not stop.is_set():
        try:
            sock = connect(addr, read_timeout_s)
        except OSError as e:
            log.warning("SBS %s:%d: cannot connect (%s); retrying in %.1f s", *addr, e, backoff)
            if stop.wait(backoff):
                return
            backoff = min(backoff * 2, max_backoff_s)
            continue
        log.info("SBS %s:%d: connected", *addr)
        with sock:
            sock.settimeout(read_timeout_s)
            buf = b""
            while not stop.is_set():
                try:
                    chunk = sock.recv(65536)
                except TimeoutError:
                    continue
                except OSError as e:
                    log.warning("SBS %s:%d: read failed (%s)", *addr, e)
                    break
                if not chunk:
                    break
                backoff = initial_backoff_s
                *complete, buf = (buf + chunk).split(b"\n")
                for raw in complete:
                    yield raw.decode("utf-8", "replace").rstrip("\r")
                if len(buf) > max_line_bytes:
                    yield buf[:200].decode("utf-8", "replace")
                    buf = b""
        if stop.is_set():
            return
        # A partial last line is dropped: the next connection starts at a line boundary of its own.
        log.warning("SBS %s:%d: disconnected; reconnecting in %.1f s", *addr, backoff)
        if stop.wait(backoff):
            return
        backoff = min(backoff * 2, max_backoff_s)


def sbs_socket_states(
    address: tuple[str, int] | str,
    stop: threading.Event,
    decoder: SbsDecoder | None = None,
    *,
    connect: Connect = _create_connection,
    initial_backoff_s: float = 1.0,
    max_backoff_s: float = 30.0,
) -> Iterator[TrackState]:
    """States from a live BaseStation server until ``stop`` is set (see :func:`sbs_socket_lines`).

    Line numbers in the decoder's examples count from the first line of the first connection.
    """
    lines = sbs_socket_lines(
        address, stop, connect=connect, initial_backoff_s=initial_backoff_s, max_backoff_s=max_backoff_s
    )
    return decode_sbs(lines, decoder)
