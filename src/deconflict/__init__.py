"""deconflict: a neutral airspace de-confliction broker."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("deconflict")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
