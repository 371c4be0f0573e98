"""Listings over a time window (a presence bucket, the commands settled lately) page on while the window moves.

The window's edge is read from the clock on every page; a client paging slowly must get the
rest of the listing, not a 400 blaming a cursor the server itself handed out.
"""
from __future__ import annotations

from datetime import timedelta

from chalicelib.core.clock import utcnow
from chalicelib.devices.presence import Presence, PresenceWindows
from chalicelib.devices.store import DeviceRepository
from chalicelib.overview.schemas import Outcome
from chalicelib.overview.store import OverviewReader
from tests.commands_support import ack_http, send
from tests.support import Api

WINDOWS = PresenceWindows(online_s=300, stale_after=timedelta(hours=1))


def test_a_presence_page_goes_on_after_the_bucket_moved_past_its_cursor(api: Api) -> None:
    # Given two devices heard from now, listed one a page, newest first
    for name in ("pg-a", "pg-b"):
        _, token = api.create_device(name)
        assert api.device_call("GET", "/device/v1/commands/pending", token).status == 200
    devices = DeviceRepository()
    now = utcnow()
    first = devices.list_by_seen(api.tenant_id, *WINDOWS.bounds(Presence.ONLINE, now), 1, None)
    assert len(first.items) == 1 and first.next_token
    # When the next page is asked once the online window's edge has moved past the cursor
    later = devices.list_by_seen(api.tenant_id, *WINDOWS.bounds(Presence.ONLINE, now + timedelta(minutes=10)), 1,
                                 first.next_token)
    # Then the bucket is over: an empty last page, not a 400 naming next_token
    assert later.items == [] and later.next_token is None
    # And a page whose window still holds the cursor goes on to the other device
    same = devices.list_by_seen(api.tenant_id, *WINDOWS.bounds(Presence.ONLINE, now), 1, first.next_token)
    assert len(same.items) == 1 and same.items[0].device_id != first.items[0].device_id


def test_a_settled_commands_page_goes_on_after_the_window_moved_past_its_cursor(api: Api) -> None:
    # Given two commands delivered now, listed one a page, newest first
    device_id, token = api.create_device("pg-cmd")
    for _ in range(2):
        assert ack_http(api, token, send(api, device_id)["command_id"]).status == 200
    reader = OverviewReader()
    now = utcnow()
    for outcome in (None, Outcome.DELIVERED):
        first = reader.settled_page(api.tenant_id, now - timedelta(hours=1), outcome, 1, None)
        assert len(first.items) == 1 and first.next_token
        # When the next page is asked once the window's start has moved past the cursor
        later = reader.settled_page(api.tenant_id, now + timedelta(minutes=1), outcome, 1, first.next_token)
        # Then the listing is over: an empty last page, not a 400 naming next_token
        assert later.items == [] and later.next_token is None
        # And with the window still holding the cursor, the other command follows
        same = reader.settled_page(api.tenant_id, now - timedelta(hours=1), outcome, 1, first.next_token)
        assert [c.command_id for c in same.items] != [c.command_id for c in first.items] and len(same.items) == 1
