"""Dialogs of the project window."""
