"""Plumbing every layer shares: the one-line user error, atomic file writes, text tables."""
