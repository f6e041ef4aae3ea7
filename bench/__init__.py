"""Benchmarks that print speed and memory numbers (`python -m bench.knowledge`); never run by the tests."""
