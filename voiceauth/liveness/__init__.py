"""Liveness: spoofing countermeasures (replayed and synthetic speech) behind one protocol."""

from voiceauth.liveness.base import COUNTERMEASURES, Countermeasure, create_countermeasure

__all__ = ["COUNTERMEASURES", "Countermeasure", "create_countermeasure"]
