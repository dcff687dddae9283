"""Kamaros: a visual version history for any project folder."""

__version__ = "0.1.0"
