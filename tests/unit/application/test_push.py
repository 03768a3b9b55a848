"""Push notifications against the fakes: EnsurePushChannel's channel life cycle and
HandlePushNotification's verification (channel, resource, token, message number)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from balance_booking.application.errors import InvalidRequestError, NotFoundError
from tests.fakes.calendar import FakeChannel
from tests.fakes.clock import START
from tests.unit.application.wiring import (
    MAX_MESSAGE_NUMBER,
    WEBHOOK,
    PushNotice,
    PushRejectedError,
    World,
    push_address,
    sha256_hex,
)


def channel(world: World) -> FakeChannel:
    [live] = world.calendar.live_channels()
    return live


def notice(live: FakeChannel, *, number: str | None = "2", state: str = "exists") -> PushNotice:
    return PushNotice(
        channel_id=live.channel_id,
        resource_id=live.resource_id,
        token=live.token,
        resource_state=state,
        message_number=number,
    )


@pytest.fixture
def pushed(synced: World) -> World:
    """Connected, with a live push channel."""
    assert synced.ensure_push.execute().kind == "created"
    return synced


# --- where Google may push ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "address"),
    [
        ("https://booking.example", "https://booking.example/hook"),
        ("https://booking.example/", "https://booking.example/hook"),
        ("http://localhost:8000", "http://localhost:8000/hook"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/hook"),
        ("http://[::1]:8000", "http://[::1]:8000/hook"),
        ("http://booking.example", None),
        ("http://10.0.0.5", None),
        ("ftp://booking.example", None),
        ("https://", None),
    ],
)
def test_push_is_on_only_where_google_can_deliver(base: str, address: str | None) -> None:
    assert push_address(base, "/hook") == address


# --- EnsurePushChannel -------------------------------------------------------------------


def test_no_address_means_push_is_off() -> None:
    world = World(push_url=None).given().connect()
    assert world.ensure_push.execute().kind == "off"
    assert world.calendar.calls["watch_events"] == 0


def test_no_connection_means_no_channel(ready: World) -> None:
    assert ready.ensure_push.execute().kind == "not_connected"
    assert ready.calendar.calls["watch_events"] == 0


def test_a_switched_off_integration_opens_no_channel(synced: World) -> None:
    synced.set_enabled.execute(enabled=False)
    assert synced.ensure_push.execute().kind == "not_connected"


def test_a_new_channel_is_stored_with_only_the_hash_of_its_token(synced: World) -> None:
    outcome = synced.ensure_push.execute()
    live = channel(synced)
    assert (outcome.kind, outcome.expires_at) == ("created", START + timedelta(days=7))
    assert live.address == WEBHOOK
    assert len(live.token) >= 43
    record = synced.record()
    assert (record.push_channel_id, record.push_resource_id) == (live.channel_id, live.resource_id)
    assert record.push_token_hash == sha256_hex(live.token)
    assert record.push_expires_at == live.expires_at
    assert record.push_last_message_number == 0
    assert live.token not in repr(record)
    assert synced.metrics.count("push_channels", result="created") == 1


def test_a_healthy_channel_is_kept(pushed: World) -> None:
    pushed.clock.advance(timedelta(days=5, hours=23, minutes=59))
    outcome = pushed.ensure_push.execute()
    assert outcome.kind == "kept"
    assert outcome.expires_at == START + timedelta(days=7)
    assert pushed.calendar.calls["watch_events"] == 1


def test_a_channel_with_a_day_left_is_replaced_then_the_old_one_stopped(pushed: World) -> None:
    old = channel(pushed)
    pushed.clock.advance(timedelta(days=6))
    outcome = pushed.ensure_push.execute()
    assert outcome.kind == "renewed"
    new = channel(pushed)
    assert new.channel_id != old.channel_id
    assert new.token != old.token
    assert pushed.calendar.channels[old.channel_id].stopped
    assert pushed.record().push_channel_id == new.channel_id
    assert pushed.metrics.count("push_channels", result="renewed") == 1
    # The successor was stored before the old one was stopped.
    calls = [op for op, _ in pushed.calendar.log if op in {"watch_events", "stop_channel"}]
    assert calls[-2:] == ["watch_events", "stop_channel"]


def test_an_expired_channel_is_replaced(pushed: World) -> None:
    pushed.clock.advance(timedelta(days=8))
    assert pushed.ensure_push.execute().kind == "renewed"
    assert pushed.record().push_expires_at == pushed.clock.now() + timedelta(days=7)


def test_renew_replaces_even_a_healthy_channel(pushed: World) -> None:
    old = channel(pushed)
    assert pushed.ensure_push.execute(renew=True).kind == "renewed"
    assert channel(pushed).channel_id != old.channel_id


def test_a_refused_watch_stores_nothing(synced: World) -> None:
    synced.calendar.refuse("watch_events", 400, "pushNotSupportedForRequestedResource")
    outcome = synced.ensure_push.execute()
    assert outcome.kind == "failed"
    assert outcome.detail
    assert synced.record().push_channel_id is None
    assert synced.metrics.count("push_channels", result="failed") == 1


def test_a_channel_opened_elsewhere_meanwhile_wins_and_ours_is_stopped(pushed: World) -> None:
    pushed.clock.advance(timedelta(days=6, hours=1))
    theirs_expiry = pushed.clock.now() + timedelta(days=7)

    def another_process_renews(operation: str) -> None:
        if operation == "watch_events":
            pushed.calendar.on_call = None
            record = pushed.record()
            pushed.save_record(
                replace(record, push_channel_id="theirs", push_expires_at=theirs_expiry)
            )

    pushed.calendar.on_call = another_process_renews
    outcome = pushed.ensure_push.execute()
    assert (outcome.kind, outcome.expires_at) == ("kept", theirs_expiry)
    assert pushed.record().push_channel_id == "theirs"
    assert pushed.calendar.live_channels()[0].channel_id != pushed.record().push_channel_id
    surplus = [c for c in pushed.calendar.channels.values() if c.channel_id != "theirs"]
    assert sum(not c.stopped for c in surplus) == 1, "only the old channel, not ours, lives on"


def test_a_disconnect_meanwhile_leaves_no_channel(synced: World) -> None:
    def admin_disconnects(operation: str) -> None:
        if operation == "watch_events":
            synced.calendar.on_call = None
            synced.disconnect.execute()

    synced.calendar.on_call = admin_disconnects
    assert synced.ensure_push.execute().kind == "not_connected"
    assert synced.record().push_channel_id is None
    # The tokens are gone, so the surplus channel cannot be stopped: it lives until it
    # expires, and every push on it is refused as unknown meanwhile.
    [surplus] = synced.calendar.live_channels()
    with pytest.raises(NotFoundError):
        synced.handle_push.execute(notice(surplus))


def test_the_status_shows_a_live_channel(pushed: World) -> None:
    view = pushed.status.execute()
    assert (view.push_active, view.push_expires_at) == (True, START + timedelta(days=7))
    pushed.clock.advance(timedelta(days=7))
    assert pushed.status.execute().push_active is False


# --- HandlePushNotification --------------------------------------------------------------


def test_a_verified_change_schedules_one_sync(pushed: World) -> None:
    ack = pushed.handle_push.execute(notice(channel(pushed)))
    assert (ack.result, ack.reason) == ("sync_scheduled", None)
    assert pushed.syncs.requested == 1
    assert pushed.record().push_last_message_number == 2
    assert pushed.metrics.count("push_notifications", result="sync_scheduled") == 1


def test_replays_and_older_messages_are_ignored(pushed: World) -> None:
    live = channel(pushed)
    pushed.handle_push.execute(notice(live, number="5"))
    for number in ("5", "4"):
        ack = pushed.handle_push.execute(notice(live, number=number))
        assert (ack.result, ack.reason) == ("ignored", "stale_message_number")
    assert pushed.handle_push.execute(notice(live, number="8")).result == "sync_scheduled"
    assert pushed.syncs.requested == 2


@pytest.mark.parametrize(
    "channel_id",
    [None, "", "not-our-channel"],
    ids=["missing", "empty", "unknown"],
)
def test_an_unknown_channel_is_not_found(pushed: World, channel_id: str | None) -> None:
    with pytest.raises(NotFoundError):
        pushed.handle_push.execute(replace(notice(channel(pushed)), channel_id=channel_id))
    assert pushed.syncs.requested == 0
    assert pushed.metrics.count("push_notifications", result="unknown_channel") == 1


def test_an_expired_channel_is_not_found(pushed: World) -> None:
    live = channel(pushed)
    pushed.clock.advance(timedelta(days=7))
    with pytest.raises(NotFoundError):
        pushed.handle_push.execute(notice(live))


def test_a_replaced_channel_is_not_found(pushed: World) -> None:
    old = channel(pushed)
    pushed.ensure_push.execute(renew=True)
    with pytest.raises(NotFoundError):
        pushed.handle_push.execute(notice(old, number="90"))
    assert pushed.handle_push.execute(notice(channel(pushed))).result == "sync_scheduled"


def test_a_disconnected_channel_is_not_found(pushed: World) -> None:
    live = channel(pushed)
    pushed.disconnect.execute()
    with pytest.raises(NotFoundError):
        pushed.handle_push.execute(notice(live, number="7"))


def test_a_notification_while_needs_reauth_is_not_found(pushed: World) -> None:
    live = channel(pushed)
    pushed.save_record(replace(pushed.record(), status="needs_reauth"))
    with pytest.raises(NotFoundError):
        pushed.handle_push.execute(notice(live))


@pytest.mark.parametrize(
    "forged",
    [
        {"resource_id": "x-wrong-resource"},
        {"resource_id": None},
        {"token": "wrong-token"},
        {"token": ""},
        {"token": None},
    ],
    ids=["wrong-resource", "no-resource", "wrong-token", "empty-token", "no-token"],
)
def test_a_forged_notification_is_rejected_and_spends_nothing(
    pushed: World, forged: dict[str, str | None]
) -> None:
    live = channel(pushed)
    with pytest.raises(PushRejectedError):
        pushed.handle_push.execute(replace(notice(live, number="50"), **forged))
    assert pushed.syncs.requested == 0
    assert pushed.metrics.count("push_notifications", result="rejected") == 1
    assert pushed.handle_push.execute(notice(live, number="50")).result == "sync_scheduled"


def test_a_token_one_character_off_is_rejected(pushed: World) -> None:
    live = channel(pushed)
    # Flip the last character (a random token may already end in "A").
    last = "B" if live.token.endswith("A") else "A"
    with pytest.raises(PushRejectedError):
        pushed.handle_push.execute(replace(notice(live), token=live.token[:-1] + last))


@pytest.mark.parametrize(
    ("state", "reason"), [("sync", "sync_message"), ("not_exists", "no_change")]
)
def test_messages_other_than_exists_are_acknowledged_only(
    pushed: World, state: str, reason: str
) -> None:
    ack = pushed.handle_push.execute(notice(channel(pushed), state=state, number="soon"))
    assert (ack.result, ack.reason) == ("ignored", reason)
    assert pushed.syncs.requested == 0


@pytest.mark.parametrize(
    "number",
    [None, "", "soon", "0", "-5", "1.5", str(MAX_MESSAGE_NUMBER + 1), "9" * 32],
)
def test_a_malformed_message_number_is_refused(pushed: World, number: str | None) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        pushed.handle_push.execute(notice(channel(pushed), number=number))
    assert refused.value.field == "X-Goog-Message-Number"
    assert pushed.record().push_last_message_number == 0


def test_a_leap_in_message_numbers_cannot_freeze_the_channel(pushed: World) -> None:
    live = channel(pushed)
    leap = pushed.handle_push.execute(notice(live, number=str(MAX_MESSAGE_NUMBER)))
    assert (leap.result, leap.reason) == ("ignored", "implausible_message_number")
    assert pushed.record().push_last_message_number == 0, "the leap is not stored"
    # The genuine next message still gets through, and so do later ones.
    assert pushed.handle_push.execute(notice(live, number="2")).result == "sync_scheduled"
    assert pushed.handle_push.execute(notice(live, number="1000")).result == "sync_scheduled"


def test_a_switched_off_integration_ignores_pushes(pushed: World) -> None:
    live = channel(pushed)
    pushed.set_enabled.execute(enabled=False)
    ack = pushed.handle_push.execute(notice(live, number="9"))
    assert (ack.result, ack.reason) == ("ignored", "switched_off")
    assert pushed.record().push_last_message_number == 0, "the number is not spent"


def test_verification_takes_no_write_for_a_forged_push(pushed: World) -> None:
    commits = pushed.db.commits
    with pytest.raises(PushRejectedError):
        pushed.handle_push.execute(replace(notice(channel(pushed)), token="forged"))
    with pytest.raises(NotFoundError):
        pushed.handle_push.execute(replace(notice(channel(pushed)), channel_id="forged"))
    assert pushed.db.commits == commits
