"""Vietnamese text normalizer: numbers, dates, times, units and abbreviations as spoken words."""

from .abbreviations import DEFAULT_ABBREVIATIONS
from .core import normalize
from .numbers import DIALECTS

__all__ = ["DEFAULT_ABBREVIATIONS", "DIALECTS", "normalize"]
