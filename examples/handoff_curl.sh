#!/bin/sh
# Hand a user over into an interview with nothing but curl: the user is asked for consent in their DM first, the
# interview starts when they click I agree. Then read the handoff and end it (docs/handoff.md).
#
#   BRIDGE_URL=http://127.0.0.1:8080 HANDOFF_TOKEN=... WORKSPACE=<guild or team id> USER_ID=<user id> \
#   PLATFORM=discord STUDY=default CALLBACK_URL=https://your-bot.example/callbacks sh examples/handoff_curl.sh
#
# Each step prints the HTTP status and the JSON answer. Sending the same request with the same Idempotency-Key
# again gives the same handoff (one consent text, at most one interview), so a retry after a timeout is safe; the
# same key with a different body is refused (422 idempotency_key_reused).
set -eu

: "${BRIDGE_URL:=http://127.0.0.1:8080}"
: "${PLATFORM:=discord}"
: "${STUDY:=default}"
: "${CALLBACK_URL:=}"
: "${IDEMPOTENCY_KEY:=ticket-$(date +%s)}"
: "${CONSENT_WAIT:=300}"

callback=""
if [ -n "$CALLBACK_URL" ]; then callback=", \"callback_url\": \"$CALLBACK_URL\""; fi
body="{\"platform\": \"$PLATFORM\", \"workspace\": \"$WORKSPACE\", \"user\": \"$USER_ID\", \"study\": \"$STUDY\",
       \"context\": {\"came_from\": \"support-bot\", \"plan\": \"team\"}$callback}"

echo "1. hand the user over: the study's consent text goes to their DM (status consent_pending)"
answer=$(curl -sS -w '\n%{http_code}' -X POST "$BRIDGE_URL/v1/handoffs" \
  -H "Authorization: Bearer $HANDOFF_TOKEN" \
  -H "Content-Type: application/json" \
  -H "Idempotency-Key: $IDEMPOTENCY_KEY" \
  -d "$body")
echo "$answer"
status=$(printf '%s\n' "$answer" | tail -n 1)
[ "$status" = 202 ] || exit 1
handoff_id=$(printf '%s\n' "$answer" | sed -n 's/.*"handoff_id": *"\([^"]*\)".*/\1/p')

echo "2. the same request again (a retry): the same handoff"
curl -sS -w '\n%{http_code}\n' -X POST "$BRIDGE_URL/v1/handoffs" \
  -H "Authorization: Bearer $HANDOFF_TOKEN" -H "Idempotency-Key: $IDEMPOTENCY_KEY" -d "$body"

echo "3. where it stands, once the user has answered (accepted: the interview runs; declined or expired: it never will)"
waited=0
while :; do
  view=$(curl -sS -w '\n%{http_code}' "$BRIDGE_URL/v1/handoffs/$handoff_id" -H "Authorization: Bearer $HANDOFF_TOKEN")
  case "$view" in
    *'"status": "consent_pending"'* | *'"status":"consent_pending"'*) ;;
    *) break ;;
  esac
  [ "$waited" -lt "$CONSENT_WAIT" ] || break
  sleep 1
  waited=$((waited + 1))
done
echo "$view"

echo "4. take the user back: the interview ends (reason manual) and the user is thanked"
curl -sS -w '\n%{http_code}\n' -X DELETE "$BRIDGE_URL/v1/handoffs/$handoff_id" -H "Authorization: Bearer $HANDOFF_TOKEN"
