"""Product analytics events, stored for the product team."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, insert

from balance_booking.adapters.db import tables as t

# Built once: a conflict is recorded on every 409, and building the statement each time cost
# more than running it.
_INSERT = insert(t.tracking_events)


class SqlTracking:
    """Tracking events stored for the product team."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def track(self, event: str, properties: dict[str, str], *, at: datetime) -> None:
        self._connection.execute(
            _INSERT,
            {
                "event": event,
                "properties": json.dumps(properties, ensure_ascii=False),
                "occurred_at": at,
            },
        )
