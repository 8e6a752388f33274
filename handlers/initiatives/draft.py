"""The proposal being written, kept in the dialog between two answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from handlers.draft import Draft
from storage.initiatives import Proposal
from storage.models import Initiative


@dataclass
class ProposalDraft(Draft, key="proposal"):
    theme_code: str | None = None
    arrondissement: int | None = None
    title: str | None = None
    description: str | None = None
    photo_file_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    # Came from the summary: after the answer, back to the summary.
    editing: bool = False
    # The initiative being revised after coordinators asked for changes.
    resubmitting: int | None = None

    # One field per step of the form (the location's longitude goes with its latitude).
    answers: ClassVar[tuple[str, ...]] = (
        "theme_code",
        "arrondissement",
        "title",
        "description",
        "photo_file_id",
        "latitude",
    )

    def proposal(self) -> Proposal:
        assert self.theme_code and self.arrondissement is not None
        return Proposal(
            title=self.title or "",
            description=self.description or "",
            theme_code=self.theme_code,
            arrondissement=self.arrondissement,
            photo_file_id=self.photo_file_id,
            latitude=self.latitude,
            longitude=self.longitude,
        )

    @classmethod
    def revising(cls, initiative: Initiative) -> ProposalDraft:
        return cls(
            theme_code=initiative.theme_code,
            arrondissement=initiative.arrondissement,
            title=initiative.title,
            description=initiative.description,
            photo_file_id=initiative.photo_file_id,
            latitude=initiative.latitude,
            longitude=initiative.longitude,
            editing=True,
            resubmitting=initiative.id,
        )
