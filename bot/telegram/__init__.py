"""Telegram channel: a python-telegram-bot bridge between Telegram chats and Rasa's REST channel
(`python -m bot.telegram`, started by `make run` when TELEGRAM_BOT_TOKEN is set)."""
