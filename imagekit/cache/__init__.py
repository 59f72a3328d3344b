"""The local caches (wheels, debs, bases, layers, facts, scans): what they hold, their locks, and
pruning them under a size limit, least recently used first."""

from imagekit.cache.areas import Area, Entry, Scan, scan
from imagekit.cache.lock import shared, touch, using
from imagekit.cache.prune import Pruned, Removed, Rule, prune, prune_to_limit
from imagekit.cache.sizes import (
    MAX_SIZE_VARIABLE,
    CacheError,
    configured_limit,
    format_size,
    parse_age,
    parse_size,
)

__all__ = [
    "MAX_SIZE_VARIABLE",
    "Area",
    "CacheError",
    "Entry",
    "Pruned",
    "Removed",
    "Rule",
    "Scan",
    "configured_limit",
    "format_size",
    "parse_age",
    "parse_size",
    "prune",
    "prune_to_limit",
    "scan",
    "shared",
    "touch",
    "using",
]
