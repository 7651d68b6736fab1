"""painsynth: privacy-preserving synthetic face videos for pain recognition."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("painsynth")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0.0.0+unknown"
