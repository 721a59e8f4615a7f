"""The platform-neutral core: one conversation maps to one interview.

This package is the facade for adapters and embedding bots: everything they need is exported here, and they
import nothing else of the core (``make lint`` checks it). The store, the turn runner and the lifecycle stay
behind :class:`Bridge`.
"""

from bot.api.shared_window import SharedWindow
from bot.core.action_labels import action_label
from bot.core.adapter_state import AdapterState, MemoryState
from bot.core.admin import AdminActor, Digest, StudyCounts
from bot.core.bridge import Bridge
from bot.core.campaign_record import (
    MAX_REMINDERS,
    CampaignReport,
    FoundPeople,
    campaign_id,
    parse_offsets,
    problem_lines,
    report_lines,
)
from bot.core.clock import Clock, ManualClock, SystemClock
from bot.core.endings import EndReason, ending_label
from bot.core.events import (
    Answer,
    CancelExit,
    ConsentReply,
    DataFile,
    Exit,
    ForgetMe,
    InboundEvent,
    MyData,
    Outcome,
    OutcomeKind,
    RespondentInfo,
    Retry,
    Start,
    UserText,
)
from bot.core.handoff import HandoffHandle
from bot.core.handoff_types import (
    MAX_CONTEXT_BYTES,
    DirectMessages,
    HandoffCode,
    HandoffError,
    HandoffRequest,
    HandoffSummary,
)
from bot.core.hooks import EndedHook, StartedHook
from bot.core.i18n import Catalogue, catalogue, language_of
from bot.core.invitations import (
    DEFAULT_REMINDER_AFTER,
    DEFAULT_REMINDERS,
    Campaign,
    CampaignCounts,
    Invitation,
    InvitationState,
)
from bot.core.keys import ConversationKey
from bot.core.limits import Limit, SlidingWindow, TokenBucket
from bot.core.observe import Connection, Connections, Observer
from bot.core.policy import AfterCompletion, BridgeConfig
from bot.core.ports import (
    Action,
    Adapter,
    Notice,
    NoticeKind,
    PendingQuestion,
    ReplyStream,
    RespondentUnreachable,
    ResultsCard,
    ResultsChannel,
    ResultsFile,
)
from bot.core.privacy_texts import agree_label, decline_label, forget_label, keep_label
from bot.core.recruiting import Delivery, InvitationDesk, InvitationSender, RecruitingStore, SweepReport
from bot.core.safe_text import printable
from bot.core.scheduler import FairScheduler, Grant
from bot.core.shared_scheduler import SharedScheduler
from bot.core.store import RecordStatus
from bot.core.studies import DEFAULT_STUDY, Study, StudyBook, StudyState
from bot.core.texts import cancel_word, confirm_word, exit_word, retry_word, start_word
from bot.core.views import InterviewStatus
from bot.core.volunteers import Volunteers

__all__ = [
    "DEFAULT_REMINDERS",
    "DEFAULT_REMINDER_AFTER",
    "DEFAULT_STUDY",
    "MAX_CONTEXT_BYTES",
    "MAX_REMINDERS",
    "Action",
    "Adapter",
    "AdapterState",
    "AdminActor",
    "AfterCompletion",
    "Answer",
    "Bridge",
    "BridgeConfig",
    "Campaign",
    "CampaignCounts",
    "CampaignReport",
    "CancelExit",
    "Catalogue",
    "Clock",
    "Connection",
    "Connections",
    "ConsentReply",
    "ConversationKey",
    "DataFile",
    "Delivery",
    "Digest",
    "DirectMessages",
    "EndReason",
    "EndedHook",
    "Exit",
    "FairScheduler",
    "ForgetMe",
    "FoundPeople",
    "Grant",
    "HandoffCode",
    "HandoffError",
    "HandoffHandle",
    "HandoffRequest",
    "HandoffSummary",
    "InboundEvent",
    "InterviewStatus",
    "Invitation",
    "InvitationDesk",
    "InvitationSender",
    "InvitationState",
    "Limit",
    "ManualClock",
    "MemoryState",
    "MyData",
    "Notice",
    "NoticeKind",
    "Observer",
    "Outcome",
    "OutcomeKind",
    "PendingQuestion",
    "RecordStatus",
    "RecruitingStore",
    "ReplyStream",
    "RespondentInfo",
    "RespondentUnreachable",
    "ResultsCard",
    "ResultsChannel",
    "ResultsFile",
    "Retry",
    "SharedScheduler",
    "SharedWindow",
    "SlidingWindow",
    "Start",
    "StartedHook",
    "Study",
    "StudyBook",
    "StudyCounts",
    "StudyState",
    "SweepReport",
    "SystemClock",
    "TokenBucket",
    "UserText",
    "Volunteers",
    "action_label",
    "agree_label",
    "campaign_id",
    "cancel_word",
    "catalogue",
    "confirm_word",
    "decline_label",
    "ending_label",
    "exit_word",
    "forget_label",
    "keep_label",
    "language_of",
    "parse_offsets",
    "printable",
    "problem_lines",
    "report_lines",
    "retry_word",
    "start_word",
]
