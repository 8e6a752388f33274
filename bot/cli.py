"""`collective` (or `python -m bot`): run, chat, migrate, i18n."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import ConfigError, Settings, load_settings

NO_TOKEN = (
    "BOT_TOKEN is not set. Ask @BotFather on Telegram for a token (/newbot), then put "
    "BOT_TOKEN=<token> in .env or the environment. To try the bot here without a token, "
    "run: collective chat"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="collective", description="La Collective's bot")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot (long polling); migrates the database first")
    chat = commands.add_parser("chat", help="talk to the bot in this terminal, with no token")
    chat.add_argument("--lang", default="fr", help="your Telegram language (fr, en, ar…)")
    commands.add_parser("migrate", help="apply the database migrations")
    commands.add_parser("i18n", help="re-extract the texts and update every catalog")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )

    if args.command == "i18n":
        from bot.catalogs import update

        for path in update():
            print(path)
        return 0
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    return asyncio.run(_dispatch(args, settings))


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "migrate":
        from storage.migrate import upgrade

        await upgrade(settings.database_url)
        print("The database is up to date.")
        return 0
    if args.command == "chat":
        from bot.localchat import chat

        # The conversation is the output: keep the logs to what goes wrong.
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        await chat(settings, language_code=args.lang)
        return 0
    if settings.bot_token is None:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    from bot.app import run

    await run(settings, settings.bot_token.get_secret_value())
    return 0
