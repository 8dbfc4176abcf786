"""Benchmarks: one command each, JSON on standard output, ratios against a baseline measured
in the same run (see bench/README.md)."""
