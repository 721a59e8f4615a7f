"""A fake Slack on 127.0.0.1 for testing the Slack adapter with the real slack-bolt and slack_sdk.

    async with FakeSlack(signing_secret="s3cret") as fake:      # or the `fake_slack` fixture
        fake.add_user("U1", "Ada")
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        app = AsyncApp(client=client, signing_secret=fake.signing_secret)   # serve app.web_app() on 127.0.0.1
        fake.set_events_url("http://127.0.0.1:PORT/slack/events")
        sent = await fake.user_sends_dm("U1", "hi")           # signed message.im event; sent["status"] == 200
        await fake.wait_for(lambda: fake.bot_messages(sent["channel"]))

Identity: `api_url` ("http://127.0.0.1:PORT/api/"), `bot_token`, `bot_user_id`, `bot_id`, `team_id`, `app_id`,
`app_token` (xapp-, Socket Mode), `signing_secret`, `verification_token`.

Web API (`POST api_url + method`, form, query or JSON arguments, Bearer or `token` argument; errors are HTTP 200
`{"ok": false, "error": …}`): auth.test, team.info, users.info, conversations.open / info / history / replies,
chat.postMessage / update / delete / postEphemeral, chat.startStream / appendStream / stopStream,
assistant.threads.setStatus / setTitle / setSuggestedPrompts, views.publish / open / push / update,
apps.connections.open (xapp token only).
Blocks are validated lightly (see `blocks.py`: `invalid_blocks`, `msg_blocks_too_long`, `invalid_blocks_format`;
views answer `invalid_arguments`). Text over 40,000 chars and streamed markdown over 12,000 per call answer
`msg_too_long`. chat.update keeps the blocks when none are given (`blocks=[]` removes them).
Streams must be replies in a thread; outside DMs they need recipient_user_id/recipient_team_id; after `stream_ttl`
seconds (constructor argument or attribute, default 300), after `stream_append_limit` appends (None; a
deterministic expiry for tests) or `expire_stream()`, append/stop answer `message_not_in_streaming_state`.
Posting in a thread clears its assistant status (history kept).
views.open/push need a trigger_id issued by `click`/`slash_command`/`submit_view`, valid 3 s.

Knobs: `set_tier_limit(method, per_minute, window=60)` (per workspace; chat.postMessage per channel) answering 429
with Retry-After; `force_429(method, count, retry_after)` ("*" = any method); `force_error(method, error, count)`;
`force_http_error(method, status=503, count)`; `lose_answers(method, count)` (the call takes effect, then the
connection drops before the answer); `set_latency(method, seconds)` ("*" = all); `rate_stats(method)` (accepted,
limited, peak per window); `rate.enabled = False` or `FakeSlack(rate_limits=False)` to switch tiers off;
`remove_app(team_id, error)` (account_inactive | invalid_auth | token_revoked | channel_not_found) and
`await uninstall(team_id)` (also delivers app_uninstalled and tokens_revoked); `expire_stream(channel, ts)`;
`granted_scopes` (None = all; every answer lists them in `X-OAuth-Scopes` as Slack's do; a set of bot scopes
makes methods outside it answer `missing_scope`, see `scopes.py` for what each method and event needs);
`ack_timeout` (3 s: the app must answer within it);
`forge_signature = True` (bad X-Slack-Signature on every delivery); `add_workspace(team_id)`;
`auto_retries` (0; Slack uses 3) with `retry_delays`: events the app fails or acks late are redelivered with
X-Slack-Retry-Num / -Reason (http_timeout | http_error); `echo_bot_messages` (False): the app's own DM posts come
back as message events with bot_id, as Slack sends them; `set_events_url(url, interactivity_url=, commands_url=)`.

User side (each delivery is signed like Slack and recorded in `deliveries` as a `Delivery`: status, response_body,
json, ack_seconds, timed_out, retry_num; over Socket Mode when no events URL is set and a client is connected):
- `user_sends_dm(user, text, thread_ts=, files=, retry_num=, event_id=, broadcast=)` → dict (event, event_id, ts,
  channel, envelope, status, body, ack_seconds, delivery); `redeliver(event_id)` → status (X-Slack-Retry-Num 1, 2, …);
  `deliver_event(event)`; `open_app_home(user)` → status; `verify_url()`; `send_raw(body, headers)`.
- `start_assistant_thread(user)` → dict (channel, thread_ts, status): an `assistant_thread_started` event, so
  Bolt's AsyncAssistant works.
- `click(user, channel, ts, action_id, value=, selected=)` → status (block_actions). Earlier versions of a message
  stay clickable (stale clients, double clicks); picks are remembered into state.values of later clicks; any user
  may click any message (no membership check), so "another user's click" can be simulated.
- `click_in_view(user, view_id, action_id, …)` (Home tab / modal); `submit_view(user, view_id, values)` → dict
  (status, response_action, errors, …; the modal stack follows the answer); `close_view(user, view_id)`.
- `slash_command(user, command, text, channel_id=)` → dict (status, body, json, ack_seconds, response_url,
  trigger_id; the answer becomes an ephemeral). response_url POSTs (replace_original, delete_original,
  response_type) are applied to the messages.

Inspection: `messages(channel, thread_ts=None)` (all of the channel, or a thread's parent + replies; dicts with
text, blocks, ts, thread_ts, user, bot, streaming None|"streaming"|"stopped"|"expired", chunks, update_count,
versions), `bot_messages(...)`, `ephemerals(user)`, `home_view(user)`, `views_opened()`, `open_modals(user)`,
`thread_status(channel, thread_ts)`, `assistant_threads[(channel, thread_ts)]` (title, prompts), `calls` /
`calls_of(method)` (`RecordedCall`: method, args, status, response), `deliveries`, `dm_channel_of(user)`,
`await wait_for(predicate, timeout=5)`.

Socket Mode: up to 10 connections at once (`socket.connections`: the live ones; `socket.history`: every one, with
opened_at, closed_at, the envelopes `sent` over it and those `acked`); an 11th is sent `disconnect` with reason
`too_many_websockets` and closed. Each envelope goes to one live connection, round-robin; with `auto_retries`, an
event not acknowledged in time is sent again to another connection (`Delivery.connection` names the one used).
`socket.connected`, `socket.connects`, `await socket.request_reconnect()` (Slack's `disconnect` message),
`await socket.drop(connection)`, `await socket.drop_all()`, `async with socket.outage():` (connections dropped and
new ones refused with HTTP 503 until the block ends; `socket.refused` counts the refused attempts, and those
beyond 10 connections).
"""

from .delivery import Delivery
from .server import FakeSlack
from .state import RecordedCall

__all__ = ["Delivery", "FakeSlack", "RecordedCall"]
