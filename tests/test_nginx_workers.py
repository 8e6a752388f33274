"""Several workers, for real: nginx with deploy/nginx/collective.conf (ports, secret and paths
made local) in front of two `collective run` webhook workers on loopback ports, over
PostgreSQL and Redis, with the stand-in as Telegram. A conversation goes through nginx; each
update is handled once, the outbox is drained once by the two senders, /readyz answers on both
workers, and nginx refuses what does not carry the secret.

Needs nginx (Debian's package; .ci/run installs it) and TEST_DATABASE_URL + TEST_REDIS_URL:
skipped, saying which is missing, without them."""

from __future__ import annotations

import asyncio
import getpass
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import pytest
from aiohttp import ClientError, ClientSession
from dotenv import dotenv_values
from sqlalchemy import func, select

from bot.config import Settings
from bot.standin import StandIn, make_user, private_chat
from bot.webhook import SECRET_HEADER
from storage.db import create_engine, create_sessionmaker
from storage.models import OutboxMessage, OutboxStatus, ProcessedUpdate
from storage.outbox import TextMessage, enqueue
from tests.conftest import TOKEN
from tests.conversation import buttons_of
from tests.scratch import Scratch
from tests.through_webhook import samples

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "collective.conf"
SECRET = "5f" * 32  # as `openssl rand -hex 32` makes them (README)
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
PEOPLE = (7001, 7002)
OUTBOX_CHATS = (7101, 7102, 7103, 7104, 7105)
WAIT = 120.0  # seconds any condition may take on a slow, shared machine before it fails


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def until(condition: Callable[[], Awaitable[bool]], what: str, within: float = WAIT) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await condition():
        assert loop.time() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.1)


def site_config(workers: list[int], port: int, folder: Path) -> str:
    """deploy/nginx/collective.conf with its workers, its secret and its paths made local,
    TLS left out (the test speaks plain HTTP on the loopback)."""
    text = SITE.read_text(encoding="utf-8")

    def once(pattern: str, replacement: str, flags: int = 0) -> None:
        nonlocal text
        text, count = re.subn(pattern, replacement, text, count=1, flags=flags)
        assert count == 1, f"{SITE.name} no longer has {pattern!r}"

    upstream = "".join(
        f"    server 127.0.0.1:{worker} max_fails=1 fail_timeout=10s;\n" for worker in workers
    )
    once(r"(?m)^(    server 127\.0\.0\.1:\d+ .*\n)+", upstream)
    once(r'"CHANGE-ME-same-as-WEBHOOK_SECRET"', f'"{SECRET}"')
    once(r"(?m)^    listen 443 ssl;$", f"    listen 127.0.0.1:{port};")
    once(r"(?m)^    listen \[::\]:443 ssl;\n", "")
    once(r"(?m)^    ssl_certificate .*\n    ssl_certificate_key .*\n", "")
    once(r"(?m)^    access_log /var/log/nginx/.*$", f"    access_log {folder}/access.log;")
    once(r"(?s)\nserver \{\n    listen 80;.*\Z", "\n")
    return text


def nginx_config(folder: Path, site: Path) -> str:
    # As root, nginx's workers would otherwise run as nobody, who cannot read the test's folder.
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    temp = " ".join(
        f"{kind}_temp_path {folder}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"daemon off;\n{user}\nworker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log warn;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n    {temp}\n    include {site};\n}}\n"
    )


@pytest.fixture
def services() -> tuple[str, str]:
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light; .ci/run does it)")
    postgres, redis = os.environ.get("TEST_DATABASE_URL"), os.environ.get("TEST_REDIS_URL")
    if not postgres or not redis:
        pytest.skip("several workers need PostgreSQL and Redis: TEST_DATABASE_URL, TEST_REDIS_URL")
    # A Redis database of this test's own: others flush theirs (15) between tests.
    return postgres, urlsplit(redis)._replace(path="/14").geturl()


@pytest.fixture
async def database(tmp_path: Path, services: tuple[str, str]) -> AsyncIterator[str]:
    scratch = Scratch(False, tmp_path, tmp_path / "unused")
    try:
        yield await scratch.database(revision=None)
    finally:
        await scratch.drop()


def _append(path: Path) -> IO[bytes]:
    return open(path, "ab")


class Workers:
    """The two worker processes, their ports, and their stderr kept in files."""

    def __init__(self, folder: Path, env: dict[str, str], ports: list[int]) -> None:
        self.folder, self.env, self.ports = folder, env, ports
        self.processes: list[asyncio.subprocess.Process] = []

    async def command(self, *args: str, port: int | None = None) -> asyncio.subprocess.Process:
        env = {**self.env, "WEBHOOK_PORT": str(port)} if port else self.env
        log = _append(self.folder / f"worker-{port or args[0]}.log")
        try:
            return await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", *args, env=env, cwd=self.folder, stderr=log
            )
        finally:
            log.close()

    def logs(self) -> str:
        return "\n".join(
            path.read_text(errors="replace")[-3000:] for path in self.folder.glob("worker-*.log")
        )


@pytest.fixture
async def running(
    tmp_path: Path, services: tuple[str, str], database: str, standin: StandIn
) -> AsyncIterator[tuple[Workers, int]]:
    """`collective migrate`, then nginx and two `collective run` workers behind it; stopped
    (SIGTERM: the updates in hand finish) at the end."""
    from redis.asyncio import Redis

    redis_url = services[1]
    async with Redis.from_url(redis_url) as client:
        await client.flushdb()
    nginx_port, ports = free_port(), [free_port(), free_port()]
    clean = {k: v for k, v in os.environ.items() if k.upper() not in _SETTINGS}
    env = {
        **clean,
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": standin.base_url,
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "WEBHOOK_URL": f"http://127.0.0.1:{nginx_port}",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_HOST": "127.0.0.1",
        "LOG_FORMAT": "json",
        "DELIVERY_POLL_SECONDS": "0.05",
    }
    workers = Workers(tmp_path, env, ports)
    migrate = await workers.command("migrate")
    assert await asyncio.wait_for(migrate.wait(), WAIT) == 0, workers.logs()

    site = tmp_path / "collective.conf"
    site.write_text(site_config(ports, nginx_port, tmp_path))
    main = tmp_path / "nginx.conf"
    main.write_text(nginx_config(tmp_path, site))
    assert NGINX is not None
    options = ["-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(main)]
    checked = await asyncio.create_subprocess_exec(NGINX, "-t", *options, stderr=subprocess.PIPE)
    _out, errors = await checked.communicate()
    assert checked.returncode == 0, errors.decode()
    nginx = await asyncio.create_subprocess_exec(NGINX, *options)
    try:
        for port in ports:
            workers.processes.append(await workers.command("run", port=port))
        yield workers, nginx_port
    finally:
        for process in workers.processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        codes = [await asyncio.wait_for(p.wait(), WAIT) for p in workers.processes]
        nginx.send_signal(signal.SIGQUIT)
        await asyncio.wait_for(nginx.wait(), WAIT)
    # Stopped by SIGTERM, each worker ended well: its updates and sends finished first.
    assert codes == [0, 0], workers.logs()


_SETTINGS = {name.upper() for name in Settings.model_fields}


async def ready(http: ClientSession, port: int) -> bool:
    try:
        async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
            return response.status == 200
    except ClientError:
        return False


async def metrics_of(http: ClientSession, port: int) -> dict[Any, float]:
    async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
        assert response.status == 200
        return samples(await response.text())


@pytest.mark.postgres
async def test_two_workers_behind_nginx_handle_each_update_once_and_drain_the_outbox_once(
    running: tuple[Workers, int], database: str, standin: StandIn
) -> None:
    workers, nginx_port = running
    engine = create_engine(database)
    sessionmaker = create_sessionmaker(engine)
    # Messages waiting in the outbox, for the two workers' senders to share.
    for chat in OUTBOX_CHATS:
        standin.add_chat(private_chat(make_user(chat)))
    async with sessionmaker.begin() as session:
        for chat in OUTBOX_CHATS:
            for number in range(4):
                await enqueue(session, TextMessage(chat_id=chat, text=f"Note {number} to {chat}"))

    try:
        async with ClientSession() as http:
            for port in workers.ports:

                async def up(port: int = port) -> bool:
                    for process in workers.processes:
                        assert process.returncode is None, workers.logs()
                    return await ready(http, port)

                await until(up, f"the worker on {port} ready")
            assert len(standin.calls_of("setWebhook")) == 2
            telegram = f"http://127.0.0.1:{nginx_port}/telegram"

            async def post(update: dict[str, Any], headers: dict[str, str]) -> int:
                async with http.post(telegram, json=update, headers=headers) as response:
                    return response.status

            # Nothing without the secret reaches a worker.
            stranger = standin.make_user(7999, language_code="en")
            calls = len(standin.calls)
            for headers in ({}, {SECRET_HEADER: "a guess"}):
                assert await post(standin.message_update(stranger, "/start"), headers) == 403
            async with http.post(
                telegram,
                data=io.BytesIO(b"x" * (2 * 1024 * 1024)),
                headers={SECRET_HEADER: SECRET},
            ) as response:
                assert response.status == 413
            async with http.get(f"http://127.0.0.1:{nginx_port}/readyz") as response:
                assert response.status == 404  # monitoring asks the workers themselves

            # Two people onboarding, their updates interleaved, each posted once answered.
            people = [standin.make_user(p, language_code="en") for p in PEOPLE]
            sent: list[int] = []
            steps: list[str | None] = ["/start", "English", "I have read it, continue", "Citizen"]
            for step in steps:
                for person in people:
                    update = _next_update(standin, person, step)
                    sent.append(update["update_id"])
                    assert await post(update, {SECRET_HEADER: SECRET}) == 200, workers.logs()
            for person in people:
                said = [str(m.get("text")) for m in standin.chat_messages(person["id"])]
                assert any("arrondissement" in text for text in said), said
            assert [c for c in standin.calls[calls:] if c.params.get("chat_id") == 7999] == []

            async def drained() -> bool:
                async with sessionmaker() as session:
                    waiting = await session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.status == OutboxStatus.pending)
                    )
                return waiting == 0

            await until(drained, "the outbox drained")
            found = [await metrics_of(http, port) for port in workers.ports]
            for port in workers.ports:
                assert await ready(http, port), f"the worker on {port} is not ready"
    finally:
        async with sessionmaker() as session:
            handled = list(await session.scalars(select(ProcessedUpdate.update_id)))
            statuses = Counter(await session.scalars(select(OutboxMessage.status)))
        await engine.dispose()

    # Each update handled once, the work spread over both workers.
    assert sorted(handled) == sorted(sent)
    per_worker = [f[("collective_updates_handled_total", ())] for f in found]
    assert sum(per_worker) == len(sent) and min(per_worker) > 0, per_worker
    assert [f[("collective_updates_failed_total", ())] for f in found] == [0, 0]
    # Every outbox row sent, and each exactly once across the two senders.
    assert set(statuses) == {OutboxStatus.sent}
    notes = Counter(
        (c.params["chat_id"], c.params["text"])
        for c in standin.calls_of("sendMessage")
        if str(c.params.get("text", "")).startswith("Note ")
    )
    assert len(notes) == 4 * len(OUTBOX_CHATS) and set(notes.values()) == {1}
    sends = sum(f[("collective_outbox_messages_total", (("outcome", "sent"),))] for f in found)
    assert sends == statuses[OutboxStatus.sent]


def _next_update(standin: StandIn, person: dict[str, Any], step: str | None) -> dict[str, Any]:
    """A text, or the press of the button whose label is `step` on the latest keyboard."""
    if step is not None and step.startswith("/"):
        return standin.message_update(person, step)
    messages = [m for m in standin.chat_messages(person["id"]) if m.get("reply_markup")]
    assert messages, "the bot has shown no buttons"
    buttons = buttons_of(messages[-1])
    [data] = [b["callback_data"] for b in buttons if b["text"] == step]
    return standin.callback_update(person, messages[-1], data)


def test_the_citys_env_file_names_real_settings_and_loads() -> None:
    values = dotenv_values(ROOT / "deploy" / "city.env")
    unknown = {name for name in values if name.lower() not in Settings.model_fields}
    assert unknown == set()
    settings = Settings(_env_file=ROOT / "deploy" / "city.env")  # type: ignore[call-arg]
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.redis_url and settings.webhook_url and settings.webhook_secret
    assert settings.log_format == "json" and settings.backup_dir


def test_the_unit_runs_one_worker_per_port_and_nginx_lists_them() -> None:
    unit = (ROOT / "deploy" / "systemd" / "collective@.service").read_text()
    assert "Environment=WEBHOOK_PORT=%i" in unit and "Environment=WEBHOOK_HOST=127.0.0.1" in unit
    assert "EnvironmentFile=/etc/collective/city.env" in unit
    site = SITE.read_text()
    assert re.findall(r"server 127\.0\.0\.1:(\d+)", site) == ["8081", "8082"]
    assert "client_max_body_size" in site and "return 403" in site
