"""`collective` (or `python -m bot`): run, chat, migrate, i18n, challenges and surveys import,
the summary's figures, the export, backup and restore."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import ConfigError, Settings, database_name, load_settings

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
    chat.add_argument(
        "--database",
        metavar="FILE_OR_URL",
        help="the database to chat over (default: DATABASE_URL, else data/collective.db)",
    )
    commands.add_parser("migrate", help="apply the database migrations")
    commands.add_parser("i18n", help="re-extract the texts and update every catalog")
    challenges = commands.add_parser("challenges", help="challenges from files")
    challenge_commands = challenges.add_subparsers(dest="action", required=True)
    importing = challenge_commands.add_parser(
        "import", help="import the challenges of a YAML or JSON file, as drafts"
    )
    importing.add_argument("file", help="a .yaml, .yml or .json file")
    surveys = commands.add_parser("surveys", help="impact surveys").add_subparsers(
        dest="action", required=True
    )
    survey_import = surveys.add_parser("import", help="add surveys from a YAML or JSON file")
    survey_import.add_argument("file", help="the survey file (see examples/isolation-survey.yaml)")
    summary = commands.add_parser("summary", help="print the daily summary's figures")
    summary.add_argument("--date", help="YYYY-MM-DD, the summary's day (default: today)")
    summary.add_argument(
        "--calendar", action="store_true", help="midnight to midnight, not summary to summary"
    )
    summary.add_argument("--json", action="store_true", help="print JSON instead of text")
    export = commands.add_parser("export", help="write the CSV files for the data team")
    export.add_argument("directory", help="where to write them (created if needed)")
    backup = commands.add_parser(
        "backup", help="write a consistent copy of the database into DIR, the bot running or not"
    )
    backup.add_argument("directory", metavar="DIR", help="where to write it (created if needed)")
    backup.add_argument(
        "--keep", type=_at_least_one, metavar="N", help="keep only the N newest backups in DIR"
    )
    restore = commands.add_parser(
        "restore", help="replace the database with a backup, after checking it (bot stopped)"
    )
    restore.add_argument("file", help="a backup written by collective backup")
    args = parser.parse_args(argv)
    from bot.logs import configure

    configure("text")

    if args.command == "i18n":
        from bot.catalogs import update

        for path in update():
            print(path)
        return 0
    database = getattr(args, "database", None)
    overrides = {"database_url": as_database_url(database)} if database else {}
    try:
        settings = load_settings(**overrides)
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    configure(settings.log_format)  # LOG_FORMAT=json: one JSON object per line
    return asyncio.run(_dispatch(args, settings))


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "migrate":
        from storage.migrate import upgrade

        await upgrade(settings.database_url)
        print(f"The database {database_name(settings.database_url)} is up to date.")
        return 0
    if args.command == "surveys":
        return await _import_surveys(args.file, settings)
    if args.command == "challenges":
        return await _import_challenges(args.file, settings)
    if args.command == "summary":
        return await _summary(args, settings)
    if args.command == "export":
        return await _export(args.directory, settings)
    if args.command == "backup":
        return await _backup(args.directory, args.keep, settings)
    if args.command == "restore":
        return await _restore(args.file, settings)
    if args.command == "chat":
        # The conversation is the output: keep the logs to what goes wrong.
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        from bot.localchat import ChatRefused, chat

        try:
            await chat(settings, language_code=args.lang, chosen=args.database is not None)
        except ChatRefused as error:
            print(error, file=sys.stderr)
            return 2
        return 0
    if settings.bot_token is None:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    from bot.app import run

    logging.getLogger(__name__).info("database: %s", database_name(settings.database_url))
    await run(settings, settings.bot_token.get_secret_value())
    return 0


async def _import_surveys(path: str, settings: Settings) -> int:
    """Reads the file, migrates, imports every survey in one transaction: all or none."""
    # The output is one line per survey or one error: alembic logs at import already.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from storage.db import create_engine, create_sessionmaker
    from storage.migrate import upgrade
    from storage.survey_files import InvalidSurvey, import_surveys, load_survey_file
    from storage.surveys import questions_of

    try:
        items = load_survey_file(path)
    except InvalidSurvey as error:
        print(f"Survey file error: {error}", file=sys.stderr)
        return 2
    await upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine).begin() as session:
            surveys = await import_surveys(session, items, timezone=settings.timezone)
            lines = [
                f"survey {s.id}: series {s.series}, wave {s.wave}, "
                f"{len(await questions_of(session, s.id))} questions"
                for s in surveys
            ]
    except InvalidSurvey as error:
        print(f"Survey file error: {error}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    for line in lines:
        print(line)
    print(f"Saved in the database {database_name(settings.database_url)}.")
    return 0


async def _import_challenges(path: str, settings: Settings) -> int:
    """All the file's challenges as drafts, in one transaction, or none."""
    # The output is one line per challenge, or one line saying what is wrong.
    logging.getLogger().setLevel(logging.WARNING)
    from storage.challenge_files import ChallengeFileError, import_challenges, load_challenge_file
    from storage.challenges import challenge_text
    from storage.db import create_engine, create_sessionmaker
    from storage.migrate import upgrade

    try:
        items = load_challenge_file(path)
    except ChallengeFileError as error:
        print(f"{path}: {error}", file=sys.stderr)
        return 2
    await upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine).begin() as session:
            challenges = await import_challenges(session, items)
    except ChallengeFileError as error:
        print(f"{path}: {error}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    for challenge in challenges:
        title, _description = challenge_text(challenge, settings.default_locale)
        print(f"{challenge.id}\t{challenge.slug}\t{challenge.status.value}\t{title}")
    print(f"Saved in the database {database_name(settings.database_url)}.")
    return 0


async def _summary(args: argparse.Namespace, settings: Settings) -> int:
    """The figures of the summary of --date (its window ends at SUMMARY_TIME that day)."""
    import json
    from datetime import date

    from storage.db import create_engine, create_sessionmaker
    from storage.models import utcnow
    from storage.summary import as_dict, daily_figures, local_date, report_lines

    try:
        day = date.fromisoformat(args.date) if args.date else None
    except ValueError:
        print(f"--date: {args.date!r} is not a date like 2026-11-15", file=sys.stderr)
        return 2
    day = day or local_date(utcnow(), settings.timezone)
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            figures = await daily_figures(
                session,
                day,
                settings.timezone,
                cutoff=None if args.calendar else settings.summary_time,
            )
    finally:
        await engine.dispose()
    if args.json:
        print(json.dumps(as_dict(figures), ensure_ascii=False, indent=2))
    else:
        print(f"summary of {day.isoformat()}")
        print("\n".join(report_lines(figures)))
    return 0


async def _export(directory: str, settings: Settings) -> int:
    """The export's CSV files, written into `directory`."""
    from storage.db import create_engine, create_sessionmaker
    from storage.exports import export_files, write_files

    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            files = await export_files(session, settings.timezone, settings.group_locale)
    finally:
        await engine.dispose()
    for path in write_files(files, directory):
        print(path)
    return 0


def as_database_url(value: str) -> str:
    """--database: a URL as in DATABASE_URL, or the path of a SQLite file."""
    return value if "://" in value else f"sqlite+aiosqlite:///{value}"


def _at_least_one(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("keep at least 1")
    return number


async def _backup(directory: str, keep: int | None, settings: Settings) -> int:
    """A consistent copy of the database, taken while the bot may be writing; prints its path."""
    from storage.backup import BackupError, backup

    try:
        path = await backup(settings.database_url, directory, keep=keep)
    except (BackupError, OSError) as error:
        print(f"Backup failed: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0


async def _restore(path: str, settings: Settings) -> int:
    """The copy checked, then swapped in; refused while the database is in use."""
    # The output is what was restored, or why not: alembic would log each migration.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from storage.backup import BackupError, RestoreRefused, restore

    try:
        restored = await restore(settings.database_url, path)
    except RestoreRefused as error:
        print(f"Restore refused: {error}", file=sys.stderr)
        return 2
    except (BackupError, OSError) as error:
        print(f"Restore failed: {error}", file=sys.stderr)
        return 1
    revision = f"revision {restored.revision}"
    if restored.migrated:
        revision += f", migrated to {restored.head}"
    print(f"Restored {path} into {restored.database} ({revision}).")
    if restored.erasures_replayed:
        print(
            f"{restored.erasures_replayed} erasure(s) done since the backup were done again "
            "on the restored data."
        )
    if restored.replaced:
        print(f"The database it replaced is kept as {restored.replaced}.")
    return 0
