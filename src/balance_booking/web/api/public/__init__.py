"""The public JSON API under /api/public (no authentication)."""
