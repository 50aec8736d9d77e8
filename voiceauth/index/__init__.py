"""faiss indices over stored voiceprints: the fraud watchlist's 1:N search."""

from voiceauth.index.vectors import Hit, VectorIndex
from voiceauth.index.watchlist import DEFAULT_ALERT_COSINE, WatchlistMonitor

__all__ = ["DEFAULT_ALERT_COSINE", "Hit", "VectorIndex", "WatchlistMonitor"]
