"""Samverkan: shared situational picture, plans and follow-up for municipal and police crime prevention."""

__version__ = "0.1.0"
