"""Live call updates for agent desks and dashboards, with slow consumers cut off.

Every state change is offered to each subscriber's bounded queue; a subscriber that falls
`max_queue` updates behind is closed with a reason rather than slowing the calls (a desk
reconnects and reads the current state with GET /calls/{id}).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from voiceauth.calls.snapshot import CallSnapshot

DEFAULT_MAX_QUEUE = 256
SLOW_CONSUMER = "slow consumer: fell too far behind the live updates"


@dataclass(eq=False)
class Subscription:
    """Updates of one call (call_id) or of every call (None). `closed_reason` once cut off."""

    call_id: str | None
    queue: asyncio.Queue[CallSnapshot | None] = field(
        default_factory=lambda: asyncio.Queue(DEFAULT_MAX_QUEUE)
    )
    closed_reason: str | None = None

    async def next(self) -> CallSnapshot | None:
        """The next update, or None when the subscription was closed."""
        return await self.queue.get()


class Broadcaster:
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    def subscribe(self, call_id: str | None = None) -> Subscription:
        subscription = Subscription(call_id)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def publish(self, snapshot: CallSnapshot) -> None:
        """Offer an update to every matching subscriber without ever waiting."""
        for subscription in list(self._subscriptions):
            if subscription.call_id not in (None, snapshot.call_id):
                continue
            try:
                subscription.queue.put_nowait(snapshot)
            except asyncio.QueueFull:
                self._close(subscription, SLOW_CONSUMER)

    def close_all(self, reason: str) -> None:
        for subscription in list(self._subscriptions):
            self._close(subscription, reason)

    def _close(self, subscription: Subscription, reason: str) -> None:
        self._subscriptions.discard(subscription)
        subscription.closed_reason = reason
        while not subscription.queue.empty():
            subscription.queue.get_nowait()
        subscription.queue.put_nowait(None)
