"""faiss indices over stored voiceprints: the fraud watchlist's 1:N search, the AS-norm cohort."""

from voiceauth.index.cohort import CohortIndex
from voiceauth.index.vectors import Hit, VectorIndex
from voiceauth.index.watchlist import DEFAULT_ALERT_COSINE, WatchlistMonitor

__all__ = ["DEFAULT_ALERT_COSINE", "CohortIndex", "Hit", "VectorIndex", "WatchlistMonitor"]
