"""Repositories grouped by aggregate: SQL rows in, domain objects out. Nothing here commits."""
