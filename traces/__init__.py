"""Trace writers/readers, statistics, comparison, critical path, plots."""
