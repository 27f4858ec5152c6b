"""The Alertmanager webhook receiver: outbox, Telegram notifier and bot, Tuya load shedding."""
