"""The HTTP API: :func:`create_app` builds it around a :class:`~deconflict.services.broker.Broker`."""

from deconflict.api.app import create_app

__all__ = ["create_app"]
