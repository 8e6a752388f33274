"""What both kinds of backup (storage/backup.py: SQLite and the whole; storage/backup_postgres.py:
PostgreSQL) share: their errors, a restore's result, the check of a copy's migration revision,
and the programs they run."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from storage.migrate import alembic_config


class BackupError(Exception):
    """A backup or a restore that cannot be done, said in one line."""


class RestoreRefused(BackupError):
    """The restore changed nothing: the database is in use, or the copy failed a check."""


@dataclass(frozen=True)
class Restored:
    database: str
    # The copy's migration revision, and this code's head it was brought to.
    revision: str
    head: str
    # Where the database it replaced was kept (SQLite), if there was one.
    replaced: str | None = None
    # People (and people registered by an organisation) erased since the backup, erased again.
    erasures_replayed: int = 0

    @property
    def migrated(self) -> bool:
        return self.revision != self.head


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def check_revision(revision: str | None) -> tuple[str, str]:
    """The copy's revision and the head to migrate it to: the copy's revision must be this
    code's head or an older one."""
    if revision is None:
        raise RestoreRefused(
            "the copy holds no migration revision (no alembic_version): it is not a database "
            "of this bot"
        )
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    known = {r.revision for r in script.walk_revisions()}
    if revision not in known:
        raise RestoreRefused(
            f"the copy is at migration revision {revision}, unknown to this version of the bot "
            "(written by a newer version, or not by this bot): restore it with the version "
            "that wrote it"
        )
    return revision, head_revision()


def which(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise BackupError(
            f"{program} is not installed (Debian: apt install postgresql-client, of the "
            "server's major version or newer)"
        )
    return found
