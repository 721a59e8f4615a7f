"""What the bot says about consent and personal data, in the reader's language.

Buttons read **I agree** and **No thanks** (scripts and tests rely on those words); on the terminal the same words
are typed. Every sentence here goes through the catalogue.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core import texts
from bot.core.i18n import Catalogue
from bot.core.posted_cards import CardsErased
from bot.core.studies import Study

__all__ = [
    "agree_label",
    "consent_reminder",
    "consent_text",
    "decline_label",
    "declined",
    "delete_phrases",
    "erased",
    "forget_cancelled",
    "forget_confirm",
    "forget_label",
    "keep_label",
    "my_data_sent",
    "nothing_stored",
]


def agree_label(tr: Catalogue) -> str:
    """The button (and, on the terminal, the typed words) that gives consent."""
    return tr.gettext("I agree")


def decline_label(tr: Catalogue) -> str:
    """The button (and typed words) that refuses consent."""
    return tr.gettext("No thanks")


def forget_label(tr: Catalogue) -> str:
    """The button (and typed word) that confirms erasing everything about the person."""
    return tr.gettext("Erase my data")


def keep_label(tr: Catalogue) -> str:
    """The button (and typed word) that keeps everything."""
    return tr.gettext("Keep it")


def delete_phrases(tr: Catalogue) -> tuple[str, ...]:
    """What a person can type in a DM to ask for erasure."""
    return ("delete my data", "forget me", tr.pgettext(texts.TYPED, "delete my data"))


def consent_text(tr: Catalogue, study: Study, retention_days: float, *, terminal: bool = False) -> str:
    """The study's consent text: what is collected, who sees it, how long it is kept, how to stop and delete.

    ``terminal``: worded for the terminal chat, which has no slash commands (its buttons are typed words, which the
    terminal adapter names after the text)."""
    parts = [tr.gettext("Before we start “{study}”:").format(study=study.name)]
    if study.consent:
        parts.append(study.consent)
    if study.anonymous:
        parts.append(
            tr.gettext(
                "• What is collected: your answers in this conversation, under a pseudonym — not your name or "
                "your account id."
            )
        )
        parts.append(
            tr.ngettext(
                "• Who sees it: the team running the study sees answers without names, and summaries only once "
                "{count} person has answered.",
                "• Who sees it: the team running the study sees answers without names, and summaries only once "
                "{count} people have answered.",
                study.min_responses,
            ).format(count=study.min_responses)
        )
    else:
        if terminal:  # the interview service gets a pseudonym of the login, and the name typed at the start
            collected = tr.gettext(
                "• What is collected: your answers in this conversation, and the name you gave, if any."
            )
        else:
            collected = tr.gettext(
                "• What is collected: your answers in this conversation, with your name and account id."
            )
        parts.append(collected)
        parts.append(tr.gettext("• Who sees it: the team running the study, with your name — this is not anonymous."))
    days = round(retention_days)
    parts.append(
        tr.ngettext(
            "• How long: this bot keeps your answers for {count} day after the interview ends; the interview "
            "service keeps its own copy for the study's owner.",
            "• How long: this bot keeps your answers for {count} days after the interview ends; the interview "
            "service keeps its own copy for the study's owner.",
            days,
        ).format(count=days)
    )
    if terminal:  # no slash commands here: the typed words that work in this chat
        parts.append(
            tr.gettext(
                "• Stop at any time by typing “{exit}”. Typing “{delete}” erases what this bot stores about you."
            ).format(exit=texts.exit_word(tr), delete=delete_phrases(tr)[-1])
        )
    else:
        parts.append(
            tr.gettext(
                "• Stop at any time by typing “{exit}”. “/interview forget-me” (or a message saying “delete my "
                "data”) erases what this bot stores about you; “/interview my-data” sends you a copy."
            ).format(exit=texts.exit_word(tr))
        )
    return "\n".join(parts)


def consent_reminder(tr: Catalogue) -> str:
    """A message while the consent text waits for its answer: nothing was sent."""
    return tr.gettext(
        "Nothing has been sent yet. Please answer “{agree}” to begin the interview, or “{decline}”."
    ).format(agree=agree_label(tr), decline=decline_label(tr))


def declined(tr: Catalogue, study: Study) -> str:
    """After **No thanks**."""
    return tr.gettext("No problem — nothing was sent, and you won't be asked about “{study}” again. Thank you!").format(
        study=study.name
    )


def forget_confirm(tr: Catalogue) -> str:
    """The question before erasing."""
    return tr.gettext(
        "Erase everything this bot stores about you — your interviews, their transcripts, your answers to consent "
        "texts and anything waiting to be sent? A running interview ends first. This cannot be undone."
    )


def forget_cancelled(tr: Catalogue) -> str:
    """After **Keep it**."""
    return tr.gettext("Nothing was erased.")


def erased(tr: Catalogue, interviews: int, lines: int, cards: CardsErased) -> str:
    """What was erased (with the results cards that named the person), and what stays at the interview service."""
    head = tr.ngettext(
        "Done: this bot erased everything it stored about you — {count} interview",
        "Done: this bot erased everything it stored about you — {count} interviews",
        interviews,
    ).format(count=interviews)
    lines_text = tr.ngettext("{count} transcript line", "{count} transcript lines", lines).format(count=lines)
    said = [
        tr.gettext(
            "{head}, {lines}, your consent answers and anything queued. Only a note that an erasure happened (a "
            "scrambled code, not your id) and its date remain."
        ).format(head=head, lines=lines_text)
    ]
    if cards.deleted:
        said.append(
            tr.ngettext(
                "The summary card of your interview that the team had been shown was deleted too.",
                "The {count} summary cards of your interviews that the team had been shown were deleted too.",
                cards.deleted,
            ).format(count=cards.deleted)
        )
    if cards.waiting:
        said.append(
            tr.ngettext(
                "{count} summary card the team had been shown could not be deleted just now: the bot keeps trying.",
                "{count} summary cards the team had been shown could not be deleted just now: the bot keeps trying.",
                cards.waiting,
            ).format(count=cards.waiting)
        )
    said.append(
        tr.gettext(
            "The interview service that ran the interview keeps its own copy, which this bot cannot delete: to have "
            "it removed, write to the team running the study."
        )
    )
    return " ".join(said)


def nothing_stored(tr: Catalogue, erased_at: float | None) -> str:
    """Forget-me or my-data with nothing stored about the person."""
    if erased_at is None:
        return tr.gettext("This bot stores nothing about you — there is nothing to erase or send.")
    when = datetime.fromtimestamp(erased_at, UTC).strftime("%Y-%m-%d")
    return tr.gettext(
        "This bot stores nothing about you — your data was already erased on {date}. The interview service keeps "
        "its own copy: write to the team running the study to have it removed."
    ).format(date=when)


def my_data_sent(tr: Catalogue) -> str:
    """With the JSON file of ``/interview my-data``."""
    return tr.gettext(
        "Here is everything this bot stores about you, as a JSON file (only you can see this). The interview "
        "service keeps its own copy; the team running the study can send you that one."
    )
