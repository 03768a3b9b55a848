"""The admin JSON API under /api/admin (bearer token or the admin session)."""
