"""The update benchmark's mix still goes through the bot as rehearsed (`python -m bench
updates` plays it for many people): every step finds its button, and the effects are there."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bench.mix import rehearse, steps
from storage.db import create_engine
from storage.migrate import upgrade
from storage.models import Initiative, Need, Participation, SurveyResponse, User


async def test_the_benchmarks_mix_goes_through_the_bot(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'mix.db'}"
    await upgrade(url)
    script = await rehearse(url, "100000:BENCH")
    assert len(script) == len([kind for kind, _ in steps("x") if kind != "invite"])
    engine = create_engine(url)
    async with engine.connect() as connection:
        for model in (Need, Initiative, Participation):
            assert await connection.scalar(select(func.count()).select_from(model)) == 1
        done = select(func.count()).select_from(SurveyResponse)
        assert await connection.scalar(done.where(SurveyResponse.completed_at.is_not(None))) == 1
        onboarded = select(func.count()).select_from(User).where(User.onboarded_at.is_not(None))
        assert await connection.scalar(onboarded) == 1
    await engine.dispose()
