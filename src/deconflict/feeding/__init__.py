"""Tracks into a running broker over HTTP, on the client side: a recording played back
(``deconflict replay``) or a live BaseStation feed forwarded (``deconflict feed``).

- :mod:`~deconflict.feeding.recording`: reading a recording (SBS-1, CSV, OpenSky JSON).
- :mod:`~deconflict.feeding.sender`: the parties and tokens, the requests to ``POST /v1/tracks``
  (retries, halving, counting what the broker refused).
- :mod:`~deconflict.feeding.replay`: a recording played back, paced and re-stamped.
- :mod:`~deconflict.feeding.live`: a live feed forwarded as it comes.

The commands are in :mod:`deconflict.cli_client_feed`.
"""
