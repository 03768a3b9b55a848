"""Benchmarks: each module with a ``run() -> dict`` is one benchmark; ``python -m bench`` runs all."""
