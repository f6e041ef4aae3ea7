"""Rasa custom actions: thin adapters that read slots, call `knowledge/` and format replies."""
