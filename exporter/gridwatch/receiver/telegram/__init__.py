"""Telegram: notifications rendered from per-language templates, and the bot's commands."""
