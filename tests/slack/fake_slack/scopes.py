"""Which bot scope each Web API method and each event needs, as Slack's method and event reference pages say.

With `FakeSlack.granted_scopes` set (None: every scope granted), a method called without one of its scopes
answers `{"ok": false, "error": "missing_scope", "needed": …, "provided": …}` like Slack. The `conversations.*`
methods list one scope per kind of conversation (e.g. `conversations.members`: channels:read, groups:read, im:read,
mpim:read): Slack wants the one of the conversation named, so a public channel's members need `channels:read`, a
private channel's `groups:read`, a DM's `im:read`.
"""

from __future__ import annotations

#: Web API method -> bot scopes of which any one is enough (empty: no scope needed).
METHOD_SCOPES: dict[str, frozenset[str]] = {
    "auth.test": frozenset(),
    "team.info": frozenset({"team:read"}),
    "users.info": frozenset({"users:read"}),
    "conversations.open": frozenset({"im:write", "mpim:write", "channels:manage", "groups:write"}),
    "conversations.info": frozenset({"im:read", "channels:read", "groups:read", "mpim:read"}),
    "conversations.history": frozenset({"im:history", "channels:history", "groups:history", "mpim:history"}),
    "conversations.replies": frozenset({"im:history", "channels:history", "groups:history", "mpim:history"}),
    "chat.postMessage": frozenset({"chat:write"}),
    "files.getUploadURLExternal": frozenset({"files:write"}),
    "files.completeUploadExternal": frozenset({"files:write"}),
    "usergroups.users.list": frozenset({"usergroups:read"}),
    "users.lookupByEmail": frozenset({"users:read.email"}),
    "users.list": frozenset({"users:read"}),
    "conversations.members": frozenset({"channels:read", "groups:read", "im:read", "mpim:read"}),
    "chat.update": frozenset({"chat:write"}),
    "chat.delete": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "chat.startStream": frozenset({"chat:write"}),
    "chat.appendStream": frozenset({"chat:write"}),
    "chat.stopStream": frozenset({"chat:write"}),
    # either scope until Slack drops assistant:write for it (changelog 2026-03-05)
    "assistant.threads.setStatus": frozenset({"chat:write", "assistant:write"}),
    "assistant.threads.setTitle": frozenset({"assistant:write"}),
    "assistant.threads.setSuggestedPrompts": frozenset({"assistant:write"}),
    "views.publish": frozenset(),
    "views.open": frozenset(),
    "views.push": frozenset(),
    "views.update": frozenset(),
    "apps.connections.open": frozenset(),  # app-level token with connections:write
}

#: Event type (as subscribed in a manifest) -> the bot scope Slack requires to subscribe to it.
EVENT_SCOPES: dict[str, frozenset[str]] = {
    "message.im": frozenset({"im:history"}),
    "app_home_opened": frozenset(),
    "app_uninstalled": frozenset(),
    "tokens_revoked": frozenset(),
    "assistant_thread_started": frozenset({"assistant:write"}),
    "assistant_thread_context_changed": frozenset({"assistant:write"}),
}

#: Features that need a scope: slash commands need `commands`; interactivity needs none.
COMMANDS_SCOPE = "commands"

#: Every bot scope named here: what `X-OAuth-Scopes` lists when every scope is granted (`granted_scopes` None).
ALL: frozenset[str] = frozenset().union(*METHOD_SCOPES.values(), *EVENT_SCOPES.values(), {COMMANDS_SCOPE})


#: Methods whose scope follows the kind of conversation named (``channels``, ``groups``, ``im``): its action.
BY_CONVERSATION: dict[str, str] = {
    "conversations.members": "read",
    "conversations.info": "read",
    "conversations.history": "history",
    "conversations.replies": "history",
}


def missing_scope(
    method: str, granted: set[str] | frozenset[str] | None, conversation: str | None = None
) -> str | None:
    """The scope to report as needed when ``granted`` lacks every scope ``method`` accepts (for a ``conversation`` of
    that kind: channels, groups or im, when the method's scope follows it), else None."""
    if granted is None:
        return None
    needed = METHOD_SCOPES.get(method, frozenset())
    if conversation is not None and method in BY_CONVERSATION:
        needed = frozenset({f"{conversation}:{BY_CONVERSATION[method]}"})
    if not needed or needed & granted:
        return None
    return sorted(needed)[0]
