"""`python -m bot.telegram`: runs the Telegram bridge until interrupted (long polling by default)."""
from __future__ import annotations

import asyncio
import logging
import sys

from bot.telegram.bridge import PRIVACY_FAQ_ID, TelegramBridge, TokenRedactingFormatter, build_application
from bot.telegram.clients import PartnerDesk, RasaClient
from bot.telegram.payloads import PayloadStore
from knowledge.catalogue import load_faq
from knowledge.settings import Settings, settings

log = logging.getLogger("bot.telegram")


def privacy_text(config: Settings) -> str:
    try:
        entries = load_faq(config.faq_path)
    except Exception:  # noqa: BLE001 - /privacy then falls back to a short built-in sentence
        return ""
    return next((entry.answer for entry in entries if entry.id == PRIVACY_FAQ_ID), "")


def configure_logging(config: Settings) -> None:
    logging.basicConfig(level=config.log_level)
    redacting = TokenRedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", config.telegram_bot_token)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(redacting)
    # httpx logs every request URL at INFO, and Bot API URLs carry the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # python-telegram-bot logs whole updates (what users typed: names, emails) at DEBUG.
    logging.getLogger("telegram").setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))


def main() -> int:
    config = settings()
    configure_logging(config)
    if not config.telegram_bot_token:
        print("TELEGRAM_BOT_TOKEN is not set: get one from @BotFather and put it in .env", file=sys.stderr)
        return 2
    if config.telegram_mode not in ("polling", "webhook"):
        print(f"TELEGRAM_MODE must be polling or webhook, got {config.telegram_mode!r}", file=sys.stderr)
        return 2
    from introductions.tokens import signing_secret
    from knowledge.settings import secret

    payloads = PayloadStore(config.state_dir / "telegram.sqlite3")
    payloads.prune()
    rasa = RasaClient(config.rasa_url, secret(config, "telegram_channel_token"))
    partners = PartnerDesk(config.partner_url, signing_secret(config))
    bridge = TelegramBridge(rasa, payloads, partners=partners, privacy_text=privacy_text(config))

    async def close_clients(_: object) -> None:
        await rasa.close()
        await partners.close()

    application = build_application(
        config.telegram_bot_token, config.telegram_base_url, bridge, post_shutdown=close_clients
    )
    log.info("Telegram bridge starting (%s) for Rasa at %s", config.telegram_mode, config.rasa_url)
    from bot.telegram.metrics import serve_metrics

    serve_metrics(config.telegram_metrics_port)
    if config.telegram_mode == "webhook":
        if not config.telegram_webhook_url or not config.telegram_webhook_secret:
            print("webhook mode needs TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET", file=sys.stderr)
            return 2
        # Telegram sends the secret in X-Telegram-Bot-Api-Secret-Token; PTB rejects updates without it.
        application.run_webhook(
            listen=config.host,
            port=config.telegram_webhook_port,
            url_path="telegram",
            webhook_url=config.telegram_webhook_url,
            secret_token=config.telegram_webhook_secret,
            bootstrap_retries=-1,
        )
    else:
        application.run_polling(bootstrap_retries=-1, allowed_updates=["message", "callback_query"])
    payloads.close()
    return 0


if __name__ == "__main__":
    asyncio.set_event_loop(asyncio.new_event_loop())
    raise SystemExit(main())
