"""Tests of the desktop window."""
