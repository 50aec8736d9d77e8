"""Spoof-aware fusion: a voice LLR and a countermeasure LLR into one decision with reasons."""
