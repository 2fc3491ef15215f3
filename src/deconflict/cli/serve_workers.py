"""``deconflict serve --workers N``: N processes of the broker on one PostgreSQL and one socket.

A process of CPython runs Python on one core at a time. Most of a filing is Python outside the
filing lock (reading the body, finding the candidates, cutting the conflicts' slices), so a second
process on a second core files in parallel with the first up to the lock. The workers are
replicas of one broker as docs/deploy.md describes them (the store's notifications wake every
worker's live streams, one leader runs the tactical cycle and the hotline's escalation), started
and watched by uvicorn's process supervisor on the socket ``serve`` bound: a worker that dies is
started again, and SIGINT or SIGTERM stops them all.

PostgreSQL only: SQLite lets one process write, and a second would not be told of the first's
events (``serve`` refuses ``--workers`` above 1 on SQLite).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

MAX_WORKERS = 64


def worker_app() -> FastAPI:
    """The app of one worker (uvicorn's factory, run in each worker process): the broker on the
    store and configuration that ``serve`` resolved and left in the environment."""
    from deconflict.api import create_app
    from deconflict.cli.common import config_or_exit, open_broker
    from deconflict.cli.runtime import tune_for_serving

    cfg = config_or_exit(None, None)
    app = create_app(open_broker(cfg), cfg)
    tune_for_serving()
    return app


def run_workers(sock: socket.socket, host: str, port: int, workers: int, db_url: str, config: Path | None) -> None:
    """Serve ``sock`` with ``workers`` processes until SIGINT or SIGTERM."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ["DECONFLICT_DB"] = db_url  # what --db and --config said, for every worker
    if config is not None:
        os.environ["DECONFLICT_CONFIG"] = str(config.resolve())
    settings = uvicorn.Config(
        "deconflict.cli.serve_workers:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        timeout_graceful_shutdown=2,
    )
    Multiprocess(settings, sockets=[sock]).run()
