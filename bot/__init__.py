"""Wiring: configuration, the dispatcher and bot, middlewares, runners and the CLI."""
