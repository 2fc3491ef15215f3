"""The in-memory store: the ports of :mod:`deconflict.services.ports` without a database (see
:mod:`~deconflict.adapters.memory.store`)."""

from deconflict.adapters.memory.store import MemoryRepository, MemoryStore
from deconflict.adapters.memory.tables import DuplicateKey

__all__ = ["DuplicateKey", "MemoryRepository", "MemoryStore"]
