"""Public paths other layers need without importing the web framework (e.g. the worker)."""

from __future__ import annotations

WEBHOOK_PATH = "/api/integrations/google-calendar/webhook"
