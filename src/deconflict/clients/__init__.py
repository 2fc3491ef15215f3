"""The broker's HTTP clients, on the parties' side (nothing in ``services/`` calls over HTTP).

- :mod:`~deconflict.clients.party`: ``BrokerClient``, a party's client of the API (``deconflict
  client``): filing, reading, acknowledging, the live stream with resumption.
- Tracks into a running broker: a recording played back (``deconflict replay``) or a live
  BaseStation feed forwarded (``deconflict feed``):

  - :mod:`~deconflict.clients.recording`: reading a recording (SBS-1, CSV, OpenSky JSON).
  - :mod:`~deconflict.clients.sender`: the parties and tokens, the requests to ``POST /v1/tracks``
    (retries, halving, counting what the broker refused).
  - :mod:`~deconflict.clients.replay`: a recording played back, paced and re-stamped.
  - :mod:`~deconflict.clients.live`: a live feed forwarded as it comes.

The commands are in :mod:`deconflict.cli.client`, :mod:`deconflict.cli.client_replay` and
:mod:`deconflict.cli.client_feed`.
"""
