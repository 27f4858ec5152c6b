"""A fake Telegram Bot API with Telegram's HTML and length rules, and a chat page for the demo."""
