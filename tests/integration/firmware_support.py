"""Helpers of the firmware tests: upload an image through its presigned URL, fetch one as a device does."""
from __future__ import annotations

import hashlib
from typing import Any

import requests

from tests.support import Api


def create_firmware(api: Api, version: str = "1.0.0", **fields: Any) -> dict[str, Any]:
    """POST /customer/firmware; the answer (artifact and upload URL)."""
    resp = api.post("/customer/firmware", {"version": version, "device_model": "sim-1", **fields})
    assert resp.status == 201, resp.body
    return resp.body


def put_image(ticket: dict[str, Any], image: bytes) -> requests.Response:
    """Upload through the presigned PUT, with the headers its signature covers."""
    return requests.put(ticket["upload_url"], data=image, headers=ticket["upload_headers"], timeout=10)


def ready_firmware(api: Api, image: bytes, version: str = "1.0.0") -> dict[str, Any]:
    """An artifact uploaded and completed: `ready`, with the platform's checksum."""
    ticket = create_firmware(api, version, sha256=hashlib.sha256(image).hexdigest())
    assert put_image(ticket, image).status_code == 200
    done = api.post(f"/customer/firmware/{ticket['firmware']['firmware_id']}/complete")
    assert done.status == 200 and done.body["status"] == "ready", done.body
    return done.body


def download(ref: dict[str, Any], headers: dict[str, str] | None = None, url: str | None = None) -> requests.Response:
    """GET an image as a device does: the URL it was given, with the headers it was given (or others)."""
    return requests.get(url or ref["url"], headers=ref["headers"] if headers is None else headers, timeout=10)
