"""Tracks into a running broker over HTTP, on the client side: a recording played back
(``deconflict replay``) or a live BaseStation feed forwarded (``deconflict feed``)."""
