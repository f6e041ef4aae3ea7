"""Rasa input channels of the Galaxy Assistant."""
