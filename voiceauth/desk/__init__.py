"""The agent desk: one static page that follows live calls and starts step-ups and consent.

The page holds no data of its own; everything comes from the REST API and `GET /events` with
the agent's key, so it shows exactly what an agent key may read, and no score is rendered.
"""

from voiceauth.desk.routes import desk_router

__all__ = ["desk_router"]
