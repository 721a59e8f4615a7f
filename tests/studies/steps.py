"""Steps of the results tests: run an interview of a study to its natural end through the core."""

from __future__ import annotations

from bot.api.models import Question, QuestionType
from bot.core.bridge import Bridge
from bot.core.events import Answer, UserText
from bot.core.keys import ConversationKey
from bot.core.store import RecordStatus
from tests.core.helpers import answer_for, respondent, start_consented


#: What each respondent answers, by question id (``n`` varies the answers between respondents).
def answers(n: int) -> dict[str, object]:
    return {
        "ease": 1 + n % 5,
        "src": ["A friend", "Reddit", "YouTube"][n % 3],
        "use": [["Voice"], ["Voice", "Events"], ["Forums"]][n % 3],
        "rank": [["Speed", "Price", "Fun"], ["Fun", "Speed", "Price"]][n % 2],
        "back": n % 2 == 0,
    }


async def finish_interview(bridge: Bridge, adapter: object, key: ConversationKey, study: str, n: int) -> str:
    """Start ``study`` for ``key`` and answer every question until the interview ends naturally (any platform)."""
    outcome = await start_consented(bridge, key, study=study)  # asked first, then "I agree"
    assert outcome.ok, outcome
    interview_id = outcome.interview_id
    assert interview_id
    values = answers(n)
    for _ in range(30):
        record = await bridge.store.get_interview(interview_id)
        assert record is not None
        if record.status is RecordStatus.COMPLETED:
            return interview_id
        stored = await bridge.store.pending_question(interview_id)
        question = Question.model_validate(stored.question) if stored is not None else None
        if question is not None and question.type is not QuestionType.OPEN_ENDED:
            value = values[question.id] if question.id in values else answer_for(question)
            event = Answer(key, key.user, interview_id, question.id, value)  # type: ignore[arg-type]
            assert (await bridge.handle(event)).ok
        else:
            text = "A friend told me; the welcome was friendly but the channel list was confusing."
            assert (await bridge.handle(UserText(key, text, respondent(key.user)))).ok
        await bridge.wait_until_idle(key)
    raise AssertionError("the interview never ended")
