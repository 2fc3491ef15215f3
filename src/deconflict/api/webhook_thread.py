"""Webhook deliveries as one of the leader's jobs (api/replicas.py), on a thread and event loop
of their own."""

from __future__ import annotations

import asyncio
import threading

import anyio
import httpx

from deconflict.adapters.broker_webhooks import BrokerWebhookStore
from deconflict.adapters.webhooks import WebhookDeliverer
from deconflict.config import Config
from deconflict.services.broker import Broker


def deliver_webhooks(broker: Broker, config: Config, stop: threading.Event) -> None:
    """Webhook deliveries until ``stop`` is set, on the leader's thread and event loop of their own,
    so a slow receiver or database call never holds up the API. A commit (here or, heard by the
    listener, on another replica) wakes the deliverer; ``webhook_interval_s`` is the fallback."""

    async def main() -> None:
        done = anyio.Event()
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def nudge() -> None:  # called from worker threads after a commit
            loop.call_soon_threadsafe(wake.set)

        async def watch() -> None:
            while not stop.is_set():
                await anyio.sleep(0.1)
            done.set()
            wake.set()

        broker.listeners.append(nudge)
        try:
            async with httpx.AsyncClient() as client:
                deliverer = WebhookDeliverer(BrokerWebhookStore(broker, broker.store), broker.clock, client)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(watch)
                    await deliverer.run(done, config.server.webhook_interval_s, wake)
                    tg.cancel_scope.cancel()
        finally:
            broker.listeners.remove(nudge)

    anyio.run(main)
