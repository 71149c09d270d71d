"""Ensemble: a self-hosted Discord bot for group roleplay, driven by MiniMax M2-her."""

__version__ = "0.1.0"
