#!/usr/bin/env bash
# Starts the action server (private: loopback, token), the Rasa server (HTTP API with its auth token, CORS
# allow-list), the partner web app (accept/decline pages, bridge endpoints, outbox delivery) on the
# configured ports (and the Telegram bridge when TELEGRAM_BOT_TOKEN is set), waits until they answer, prints
# where to chat, and stops all on Ctrl-C (or when one dies). Tokens left unset in .env are generated into
# the state directory on first run (knowledge.settings.generated_secret), never put on a command line.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .env ] && set -a && . ./.env && set +a

HOST="${GALAXY_HOST:-127.0.0.1}"
RASA_PORT="${RASA_PORT:-5005}"
ACTION_HOST="${ACTION_HOST:-127.0.0.1}"
ACTION_PORT="${ACTION_PORT:-5055}"
PARTNER_HOST="${PARTNER_HOST:-$HOST}"
PARTNER_PORT="${PARTNER_PORT:-5056}"
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://${ACTION_HOST}:${ACTION_PORT}/webhook}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TF_CPP_MIN_LOG_LEVEL=2 PYTHONPATH="$PWD"
STATE="${GALAXY_STATE_DIR:-.galaxy}"
LOGS=.galaxy/logs
mkdir -p "$LOGS"
started=$(date +%s.%N)

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "stopping…"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

wait_for() {  # url, name, pid [, Rasa API token: read by curl from a pipe, never put on a command line]
  for _ in $(seq 1 600); do
    if [ -n "${4:-}" ]; then
      if printf 'url = "%s?token=%s"\n' "$1" "$4" | curl -fs -o /dev/null -K -; then return 0; fi
    elif curl -fs -o /dev/null "$1"; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then echo "$2 exited; see $LOGS/$2.log"; tail -20 "$LOGS/$2.log"; exit 1; fi
    sleep 0.5
  done
  echo "$2 did not start within 300 s; see $LOGS/$2.log"; exit 1
}

# Every process reads the same generated secrets; create them once before any starts.
.venv/bin/python -c "from knowledge.settings import SECRET_NAMES, secret, settings; [secret(settings(), n) for n in SECRET_NAMES]"

.venv/bin/python -m actions --host "$ACTION_HOST" --port "$ACTION_PORT" > >(tee "$LOGS/actions.log") 2>&1 &
pids+=($!)
.venv-rasa/bin/python -m bot.channels run --enable-api --interface "$HOST" --port "$RASA_PORT" \
  --model models/galaxy.tar.gz --endpoints endpoints.yml --credentials credentials.yml \
  > "$LOGS/rasa.log" 2>&1 &
pids+=($!)
.venv/bin/python -m introductions.web --host "$PARTNER_HOST" --port "$PARTNER_PORT" > "$LOGS/partners.log" 2>&1 &
pids+=($!)
wait_for "http://${ACTION_HOST}:${ACTION_PORT}/health" actions "${pids[0]}"
# /status answers once the model is loaded (409 before), and only with the API token.
wait_for "http://${HOST}:${RASA_PORT}/status" rasa "${pids[1]}" \
  "$(.venv/bin/python -c "from knowledge.settings import secret, settings; print(secret(settings(), 'rasa_auth_token'))")"
wait_for "http://${PARTNER_HOST}:${PARTNER_PORT}/health" partners "${pids[2]}"
if [ -n "${REST_CHANNEL_TOKEN:-}" ]; then rest_token='$REST_CHANNEL_TOKEN'; else rest_token="\$(cat ${STATE}/rest_channel_token)"; fi
if [ -n "${SMTP_HOST:-}" ]; then
  mail_line="Mail:     sent through ${SMTP_HOST}:${SMTP_PORT:-25}"
else
  mail_line="Mail:     no SMTP_HOST set, so every email is written to ${MAIL_DIR:-${STATE}/mail}/ (one .eml each)"
fi
telegram_line="Telegram: off (set TELEGRAM_BOT_TOKEN in .env to start the bridge)"
if [ -n "${TELEGRAM_BOT_TOKEN:-}" ]; then
  # Started once Rasa answers, so the first updates find it; the token goes by environment, never argv.
  .venv/bin/python -m bot.telegram > "$LOGS/telegram.log" 2>&1 &
  pids+=($!)
  telegram_line="Telegram: bridge running (${TELEGRAM_MODE:-polling}); log in ${LOGS}/telegram.log"
  if [ -n "${TELEGRAM_BOT_USERNAME:-}" ]; then
    telegram_line+=$'\n'"            webinar link: https://t.me/${TELEGRAM_BOT_USERNAME#@}?start=webinar"
  fi
fi
ready=$(python3 -c "import time; print(round(time.time() - $started, 1))")
echo "$ready" > .galaxy/ready_seconds

cat <<MSG

Galaxy Assistant is ready (servers up in ${ready}s).
  REST:     POST http://${HOST}:${RASA_PORT}/webhooks/rest/session, then /webhooks/rest/webhook
            {"sender": "<session_id>", "message": "hi"}, both with -H "Authorization: Bearer ${rest_token}"
  Partners: http://${PARTNER_HOST}:${PARTNER_PORT}/introductions/…  (accept/decline links; PUBLIC_BASE_URL)
  ${mail_line}
  Widget:   http://${HOST}:${RASA_PORT}/widget/   (webinar: http://${HOST}:${RASA_PORT}/widget/webinar)
  ${telegram_line}
  Terminal: make chat   (in another terminal)
  Logs:     ${LOGS}/
Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}" || true
echo "a server stopped; see ${LOGS}/ (Ctrl-C stops the others too)"
