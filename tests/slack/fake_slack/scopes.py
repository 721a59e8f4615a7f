"""Which bot scope each Web API method and each event needs, as Slack's method and event reference pages say.

With `FakeSlack.granted_scopes` set (None: every scope granted), a method called without one of its scopes
answers `{"ok": false, "error": "missing_scope", "needed": …, "provided": …}` like Slack.
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


def missing_scope(method: str, granted: set[str] | frozenset[str] | None) -> str | None:
    """The scope to report as needed when ``granted`` lacks every scope ``method`` accepts, else None."""
    if granted is None:
        return None
    needed = METHOD_SCOPES.get(method, frozenset())
    if not needed or needed & granted:
        return None
    return sorted(needed)[0]
