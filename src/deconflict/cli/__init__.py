"""The ``deconflict`` command line: thin; parse, call a service, print. ``main`` is the entry
point (every error one stderr line and exit status 2); ``app`` the typer application.

- :mod:`~deconflict.cli.main`: the top-level commands (serve, file, check, detect, notices, …).
- :mod:`~deconflict.cli.broker`: parties, tokens, disclosure and the audit log on the broker's host.
- :mod:`~deconflict.cli.formats`, :mod:`~deconflict.cli.aco`, :mod:`~deconflict.cli.geozones`:
  airspace formats in and out.
- :mod:`~deconflict.cli.client` (with ``client_common``, ``client_live``, ``client_replay``, ``client_feed``): a
  party's client of a running broker, over :mod:`deconflict.clients`.
- :mod:`~deconflict.cli.common`, :mod:`~deconflict.cli.render`, :mod:`~deconflict.cli.client_render`:
  the shared options, store opening and the terminal's tables.
"""

from deconflict.cli.main import app, main

__all__ = ["app", "main"]
