"""Benchmarks: speed measured here, never asserted in tests (figures in docs/benchmarks.md)."""
