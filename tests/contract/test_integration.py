"""Contract: the Google Calendar integration row and pending OAuth states."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import timedelta

import pytest

from balance_booking.application.ports import CalendarLink, IntegrationRecord, OAuthState
from balance_booking.domain.calendar_account import IntegrationStatus
from tests.contract.conftest import Backend
from tests.contract.data import T0, at

FULL = IntegrationRecord(
    status=IntegrationStatus.CONNECTED,
    enabled=False,
    calendar_id="primary",
    account_email="owner@example.com",
    timezone="Asia/Kolkata",
    access_token_enc="enc-access",
    refresh_token_enc="enc-refresh",
    token_expires_at=at(1),
    granted_scopes=frozenset({"openid", "email", "calendar.events"}),
    last_sync_at=at(-1),
    last_sync_ok=True,
    last_sync_error="old error",
    last_success_at=at(-2),
    push_channel_id="channel-1",
    push_resource_id="resource-1",
    push_expires_at=at(100),
    push_token_hash="a" * 64,
    push_last_message_number=7,
    refresh_lease_until=at(0.1),
    last_reconcile_at=at(-1),
    last_reconcile_summary='{"checked": 1}',
)


def store_full(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.integration.save(FULL, now=T0)
        uow.commit()


def test_no_row_reads_as_a_disconnected_default(backend: Backend) -> None:
    with backend.uow() as uow:
        assert uow.integration.get() == IntegrationRecord()
        assert uow.integration.get_for_update() == IntegrationRecord()
        assert uow.integration.calendar_link() == CalendarLink(
            connected=False, last_success_at=None, enabled_override=None
        )


def test_every_field_round_trips(backend: Backend) -> None:
    store_full(backend)
    with backend.uow() as uow:
        stored = uow.integration.get()
    for item in fields(IntegrationRecord):
        assert getattr(stored, item.name) == getattr(FULL, item.name), item.name


def test_saving_again_overwrites_and_can_clear_fields(backend: Backend) -> None:
    store_full(backend)
    cleared = replace(
        FULL,
        status=IntegrationStatus.DISCONNECTED,
        access_token_enc=None,
        refresh_token_enc=None,
        granted_scopes=frozenset(),
        enabled=None,
    )
    with backend.uow() as uow:
        uow.integration.save(cleared, now=at(1))
        uow.commit()
    with backend.uow() as uow:
        assert uow.integration.get() == cleared


def test_a_read_record_is_a_copy(backend: Backend) -> None:
    store_full(backend)
    with backend.uow() as uow:
        record = uow.integration.get_for_update()
        record.status = IntegrationStatus.NEEDS_REAUTH
        assert uow.integration.get().status == "connected", "only save() writes"


@pytest.mark.parametrize(
    ("status", "connected"),
    [("connected", True), ("needs_reauth", True), ("error", True), ("disconnected", False)],
)
def test_calendar_link_reflects_the_row(backend: Backend, status: str, connected: bool) -> None:
    with backend.uow() as uow:
        uow.integration.save(replace(FULL, status=IntegrationStatus(status)), now=T0)
        uow.commit()
    with backend.uow() as uow:
        assert uow.integration.calendar_link() == CalendarLink(
            connected=connected,
            last_success_at=FULL.last_success_at,
            enabled_override=False,
            timezone="Asia/Kolkata",
        )


def test_push_message_numbers_only_go_up_on_the_stored_channel(backend: Backend) -> None:
    with backend.uow() as uow:
        assert uow.integration.advance_push_message(channel_id="channel-1", number=1) is False
        uow.integration.save(replace(FULL, push_last_message_number=None), now=T0)
        uow.commit()
    with backend.uow() as uow:
        assert uow.integration.advance_push_message(channel_id="channel-1", number=3) is True
        assert uow.integration.advance_push_message(channel_id="channel-1", number=3) is False
        assert uow.integration.advance_push_message(channel_id="channel-1", number=2) is False
        assert uow.integration.advance_push_message(channel_id="other", number=50) is False
        assert uow.integration.advance_push_message(channel_id="channel-1", number=2**40) is True
        uow.commit()
    with backend.uow() as uow:
        assert uow.integration.get().push_last_message_number == 2**40


def test_push_bookkeeping_leaves_the_data_version_alone(backend: Backend) -> None:
    store_full(backend)
    before = backend.version()
    with backend.uow() as uow:
        assert uow.integration.advance_push_message(channel_id="channel-1", number=8)
        uow.commit()
    assert backend.version() == before
    store_full(backend)
    assert backend.version() == before + 1, "saving the row may change what is offered"


def _state(name: str, *, expires_in: float = 0.5, session: str | None = "session-1") -> OAuthState:
    return OAuthState(
        state_hash=f"state-{name}",
        session_hash=session,
        code_verifier_enc=f"enc-verifier-{name}",
        expires_at=T0 + timedelta(hours=expires_in),
        used_at=None,
    )


def test_oauth_states_round_trip_and_are_spent_once(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.oauth_states.add(_state("a"), created_at=T0)
        uow.oauth_states.add(_state("b", session=None), created_at=T0)
        uow.commit()
    with backend.uow() as uow:
        assert uow.oauth_states.get_for_update("state-a") == _state("a")
        assert uow.oauth_states.get_for_update("state-b") == _state("b", session=None)
        assert uow.oauth_states.get_for_update("state-x") is None
        uow.oauth_states.mark_used("state-a", at(0.1))
        uow.commit()
    with backend.uow() as uow:
        used = uow.oauth_states.get_for_update("state-a")
    assert used is not None
    assert used.used_at == at(0.1)


def test_expired_oauth_states_are_deleted(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.oauth_states.add(_state("old", expires_in=-1), created_at=T0)
        uow.oauth_states.add(_state("edge", expires_in=0), created_at=T0)
        uow.oauth_states.add(_state("live"), created_at=T0)
        uow.commit()
    with backend.uow() as uow:
        assert uow.oauth_states.delete_expired(T0) == 2, "expiring exactly now counts"
        uow.commit()
    with backend.uow() as uow:
        assert [h for h, _ in uow.oauth_states.all_verifiers()] == ["state-live"]


def test_verifiers_can_be_listed_and_replaced(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.oauth_states.add(_state("a"), created_at=T0)
        uow.oauth_states.add(_state("b"), created_at=T0)
        uow.commit()
    with backend.uow() as uow:
        assert sorted(uow.oauth_states.all_verifiers()) == [
            ("state-a", "enc-verifier-a"),
            ("state-b", "enc-verifier-b"),
        ]
        uow.oauth_states.set_verifier("state-b", "rotated")
        uow.commit()
    with backend.uow() as uow:
        stored = uow.oauth_states.get_for_update("state-b")
    assert stored is not None
    assert stored.code_verifier_enc == "rotated"


def test_the_largest_message_number_the_webhook_accepts_is_stored(backend: Backend) -> None:
    largest = 2**63 - 1  # application/push.py MAX_MESSAGE_NUMBER
    store_full(backend)
    with backend.uow() as uow:
        assert uow.integration.advance_push_message(channel_id="channel-1", number=largest)
        uow.commit()
    with backend.uow() as uow:
        assert uow.integration.get().push_last_message_number == largest
        assert uow.integration.advance_push_message(channel_id="channel-1", number=largest) is False
