"""Call sessions: a live call's tracks in, voice and liveness evidence and its state out."""
