"""Telegram for the update benchmark, in a process of its own (as Telegram is): the local
stand-in answering every call after a latency, and driven by the benchmark over HTTP — updates
pushed at once (a backlog) or at a steady rate, sent to a webhook by concurrent clients, and
what happened read back.

Run by bench/updates.py as `python -m bench.world`; it prints its base URL, then serves.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import sys
import time
from collections import deque
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from bot.standin import StandIn
from bot.standin.updates import private_chat


def _chat_of(update: dict[str, Any]) -> int:
    event = update.get("message") or update.get("callback_query") or {}
    chat = event.get("chat") or (event.get("message") or {}).get("chat") or {}
    return int(chat.get("id") or (event.get("from") or {}).get("id") or 0)


class World(StandIn):
    def __init__(self, token: str) -> None:
        super().__init__(token=token)
        self.latency = 0.0
        self.arrivals: dict[int, float] = {}
        self.feeding: asyncio.Task[None] | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        return await super()._handle(request)

    def learn(self, update: dict[str, Any]) -> None:
        """What the update implies Telegram knows: the person's chat and message, the button's
        query."""
        message = update.get("message")
        if message is not None:
            self.add_chat(message["chat"])
            self.store_message(message)
        query = update.get("callback_query")
        if query is not None:
            self.add_chat(private_chat(query["from"]))
            self._queries.add(query["id"])

    async def control(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        action = request.match_info["action"]
        if action == "latency":
            self.latency = float(body["seconds"])
        elif action == "messages":
            for message in body["messages"]:
                self.add_chat(message["chat"])
                self.store_message(message)
        elif action == "push":
            now = time.monotonic()
            for update in body["updates"]:
                self.learn(update)
                self.arrivals[update["update_id"]] = now
                self._updates.append(update)
            self._wakeup.set()
            self._wakeup = asyncio.Event()
        elif action == "steady":
            self.feeding = asyncio.create_task(self._steady(body["updates"], body["rate"]))
        elif action == "webhook":
            return web.json_response(await self._webhook_send(**body))
        elif action == "stats":
            failed = [c for c in self.calls if not c.ok]
            return web.json_response(
                {
                    "calls": len(self.calls),
                    "failed_calls": len(failed),
                    "failures": sorted({f"{c.method}: {c.error}" for c in failed})[:20],
                    "pending": len(self._updates),
                    "arrivals": self.arrivals,
                }
            )
        elif action == "forget":
            self.calls.clear()
            self.arrivals.clear()
            self._messages.clear()
        return web.json_response({"ok": True})

    async def _steady(self, updates: list[dict[str, Any]], rate: float) -> None:
        """Open loop: each update arrives at its time, whether the bot keeps up or not."""
        start = time.monotonic()
        for index, update in enumerate(updates):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.learn(update)
            self.arrivals[update["update_id"]] = time.monotonic()
            self.push_update(update)

    async def _webhook_send(
        self, url: str, secret: str, updates: list[dict[str, Any]], clients: int
    ) -> dict[str, Any]:
        """Sends the updates to the webhook, `clients` at a time, as Telegram does: a chat's
        next update only once its previous one is answered, in order; an update answered with
        an error is sent again."""
        for update in updates:
            self.learn(update)
        waiting: dict[int, deque[tuple[int, dict[str, Any]]]] = {}
        for position, update in enumerate(updates):
            waiting.setdefault(_chat_of(update), deque()).append((position, update))
        ready = [(queue[0][0], chat) for chat, queue in waiting.items()]
        heapq.heapify(ready)
        wake = asyncio.Event()
        statuses: dict[str, int] = {}
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        left = len(updates)

        async def client(http: ClientSession) -> None:
            nonlocal left
            while left:
                if not ready:
                    wake.clear()
                    await wake.wait()
                    continue
                _position, chat = heapq.heappop(ready)
                _position, update = waiting[chat].popleft()
                for _attempt in range(5):
                    async with http.post(url, json=update, headers=headers) as response:
                        statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1
                        if response.status == 200:
                            break
                left -= 1
                if waiting[chat]:
                    heapq.heappush(ready, (waiting[chat][0][0], chat))
                wake.set()

        started = time.monotonic()
        async with ClientSession(timeout=ClientTimeout(total=120)) as http:
            await asyncio.gather(*(client(http) for _ in range(clients)))
        return {"seconds": time.monotonic() - started, "statuses": statuses}

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_post("/control/{action}", self.control)
        self._stopping = asyncio.Event()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self._base_url = f"http://{host}:{self._runner.addresses[0][1]}"


async def main(token: str) -> None:
    # A long poll cut by the bot's stop is not news.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    world = World(token)
    await world.start()
    print(world.base_url, flush=True)
    # Serves until the benchmark closes our stdin.
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await world.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
