"""Kernel front-end: the recording pypto.language stand-in and kernel models."""
