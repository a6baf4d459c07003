"""Benchmarks: runnable commands that print numbers (`python -m homeca.bench.ecc`)."""
