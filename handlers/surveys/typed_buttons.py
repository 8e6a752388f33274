"""A survey question's buttons named by a typed text (handlers/typed_choice.py): "Par
téléphone", "oui", "pas du tout", "Courses, Papiers", "Passer", "Terminé"."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from handlers.typed_choice import typed_choice, typed_choices
from storage.models import QuestionKind, SurveyQuestion
from storage.surveys import NO, SCALE, YES, option_label, question_text

# The question's step buttons, as values no option code can take (codes are slugs).
SKIP, DONE = "«skip»", "«done»"


def _options(question: SurveyQuestion, locale: str) -> list[tuple[str, str]]:
    """(label as shown, value) of every button the question shows, in the person's locale."""
    kind = QuestionKind(question.kind)
    options: list[tuple[str, str]] = []
    if kind is QuestionKind.scale:
        texts = question_text(question, locale)
        options += [(str(n), str(n)) for n in range(SCALE[0], SCALE[1] + 1)]
        # The ends' words, as the question names them: "From 1 (Not at all) to 5 (Very)".
        options += [(texts[end], str(n)) for end, n in (("low", SCALE[0]), ("high", SCALE[1]))]
    elif kind is QuestionKind.yes_no:
        options += [(_("Yes"), YES), (_("No"), NO)]
    elif kind in (QuestionKind.single, QuestionKind.multiple):
        codes = [str(option["code"]) for option in question.options]
        options += [(option_label(question, code, locale), code) for code in codes]
    if kind is QuestionKind.multiple:
        options.append((_("Done"), DONE))
    if not question.required:
        options.append((_("Skip"), SKIP))
    return [(label, value) for label, value in options if label]


def typed_buttons(question: SurveyQuestion, text: str, locale: str) -> list[str] | None:
    """The buttons `text` names at this closed question, as their values (option codes, a
    scale's number, yes/no, SKIP, DONE); on a multiple choice, several options typed on one
    line ("Courses, Papiers"). None when it names no button, or not all its parts do."""
    if question.kind in (QuestionKind.number, QuestionKind.text):
        return None
    options = _options(question, locale)
    if question.kind is not QuestionKind.multiple:
        whole = typed_choice(text, options)
        return None if whole is None else [whole]
    named = typed_choices(text, options)
    if named is not None and len(named) > 1 and (SKIP in named or DONE in named):
        return None
    return named


def typed_skip(question: SurveyQuestion, text: str) -> bool:
    """Whether `text` names «Skip» at an optional number question (a free text is an answer,
    whatever it says)."""
    if question.required or question.kind is not QuestionKind.number:
        return False
    return typed_choice(text, [(_("Skip"), SKIP)]) == SKIP
