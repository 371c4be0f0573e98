"""The overview page in a real browser: its numbers equal the API's and the records', each links to its list,
and the device page's command history stays inside its panel at common widths."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from chalicelib.core.auth.operator import issue_local_token
from chalicelib.core.config import Settings
from infra.local.console import console_url
from tests.browser.conftest import ConsoleErrors, ConsoleStack, console_page, shot
from tests.stack_support import ROOT

pytestmark = pytest.mark.slow

WIDTHS = (1280, 1400, 1920)
# An ACK's details as devices send them: long values without spaces are what ran past the panel.
LONG_DETAILS = {"message": "pong", "firmware": "cam-" + "9" * 40, "trace": "x" * 120,
                "readings": [round(i * 0.123, 3) for i in range(25)]}


@dataclass
class Tenant:
    """A fresh tenant of the console stack: its operator API and its console URL."""

    stack: ConsoleStack
    tenant_id: str
    token: str

    def api(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return requests.request(method, self.stack.info["api_url"] + path, headers=headers, timeout=15, **kw)

    def ok(self, method: str, path: str, **kw: Any) -> Any:
        resp = self.api(method, path, **kw)
        assert resp.status_code in (200, 201), (path, resp.status_code, resp.text)
        return resp.json()

    def device(self, method: str, path: str, token: str, **kw: Any) -> requests.Response:
        return requests.request(method, self.stack.info["api_url"] + path, headers={"X-Provision-Token": token},
                                timeout=15, **kw)

    def backdate(self, device_id: str, command_id: str) -> None:
        """Expire a command now and run the expiry (the stack's `make backdate ... --tick`)."""
        env = {**os.environ, "STACK_DIR": str(self.stack.workdir)}
        for key in [k for k in env if k.startswith("FLEET_")]:
            env.pop(key)
        subprocess.run([sys.executable, "-m", "infra.local.backdate", "command", self.tenant_id, device_id,
                        command_id, "--tick"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)

    def every(self, path: str, key: str) -> list[dict[str, Any]]:
        """Every item of a listing, following next_token."""
        items: list[dict[str, Any]] = []
        token = None
        for _ in range(50):
            body = self.ok("GET", path, params={"limit": 100, **({"next_token": token} if token else {})})
            items += body[key]
            token = body["next_token"]
            if not token:
                return items
        raise AssertionError(f"{path} did not end")


@pytest.fixture(scope="module")
def fleet(console_stack: ConsoleStack) -> dict[str, Any]:
    """A tenant with three devices (two heard from), two ACKed and two missed commands, a pending twin, a job."""
    secret = (console_stack.workdir / "secret").read_text().strip()
    tenant_id = f"ov-{uuid.uuid4().hex[:8]}"
    tenant = Tenant(console_stack, tenant_id, issue_local_token(Settings(jwt_secret=secret), tenant_id))
    tokens = {d: tenant.ok("POST", "/customer/devices", json={"device_id": d})["provision_token"]
              for d in ("gate-cam", "yard-cam", "spare-cam")}
    for device_id in ("gate-cam", "yard-cam"):
        assert tenant.device("GET", "/device/v1/commands/pending", tokens[device_id]).status_code == 200
    acked = []
    for _ in range(2):
        sent = tenant.ok("POST", "/customer/devices/gate-cam/commands", json={"command_type": "ping"})
        command_id = sent["command_id"]
        ack = tenant.device("POST", f"/device/v1/commands/{command_id}/ack", tokens["gate-cam"],
                            json={"status": "ok", "details": LONG_DETAILS})
        assert ack.status_code == 200, ack.text
        acked.append(command_id)
    missed = []
    for device_id in ("gate-cam", "spare-cam"):
        command_id = tenant.ok("POST", f"/customer/devices/{device_id}/commands",
                               json={"command_type": "test_expiry"})["command_id"]
        tenant.backdate(device_id, command_id)
        missed.append(command_id)
    tenant.ok("PATCH", "/customer/devices/yard-cam/twin/desired", json={"desired": {"led": "on"}})
    job = tenant.ok("POST", "/customer/jobs", json={"document_type": "reboot", "document_params": {},
                                                    "target_device_id": "gate-cam"})
    return {"tenant": tenant, "acked": acked, "missed": missed, "job_id": job["job_id"]}


@pytest.fixture
def tenant_page(browser: Browser, fleet: dict[str, Any], console_errors: ConsoleErrors,
                request: pytest.FixtureRequest) -> Iterator[Page]:
    """The console signed in as the fleet's tenant."""
    tenant: Tenant = fleet["tenant"]
    with console_page(browser, console_url(tenant.stack.base_url, tenant.token), console_errors,
                      request.node.name) as page:
        yield page


def stat(page: Page, slug: str) -> int:
    text = page.get_by_test_id(f"stat-{slug}").first.inner_text()
    assert not text.startswith("≥"), f"{slug} is a lower bound"
    return int(text)


def test_overview_numbers_equal_the_api_and_the_records(tenant_page: Page, fleet: dict[str, Any]) -> None:
    tenant: Tenant = fleet["tenant"]
    page = tenant_page
    # Given the console's home page
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_test_id("stat-total")).to_have_text("3")
    # When the API is asked for the same overview
    body = tenant.ok("GET", "/customer/overview")
    devices, commands = body["devices"], body["commands"]
    # Then the page shows the API's numbers
    shown = {"online": stat(page, "online"), "offline": stat(page, "offline"), "total": stat(page, "total"),
             "delivered": stat(page, "delivered"), "missed": stat(page, "missed"), "expired": stat(page, "expired"),
             "publish-failed": stat(page, "publish-failed"), "in-progress": stat(page, "in-progress"),
             "pending": stat(page, "pending"), "stale": stat(page, "stale"),
             "never-seen": stat(page, "never-seen")}
    assert shown == {"online": devices["online"], "offline": devices["offline"], "total": devices["total"],
                     "delivered": commands["outcomes"]["delivered"], "missed": commands["outcomes"]["missed"],
                     "expired": commands["outcomes"]["expired"],
                     "publish-failed": commands["outcomes"]["publish_failed"], "in-progress": body["jobs"]["count"],
                     "pending": body["twins"]["pending"], "stale": body["twins"]["stale"],
                     "never-seen": devices["buckets"]["never"]}
    expect(page.get_by_test_id("latency-count")).to_have_text(str(commands["ack_latency"]["count"]))
    # And the API's numbers are what the records say
    every_device = tenant.every("/customer/devices", "devices")
    assert devices["total"] == len(every_device) == 3
    assert devices["online"] == len(tenant.every("/customer/devices?presence=online", "devices")) == 2
    delivered = tenant.every("/customer/commands?outcome=delivered", "commands")
    assert {c["command_id"] for c in delivered} == set(fleet["acked"])
    assert shown["delivered"] == 2 and shown["missed"] == 2 and shown["expired"] == 0
    statuses = [tenant.ok("GET", f"/customer/devices/gate-cam/commands/{c}")["status"] for c in fleet["acked"]]
    assert statuses == ["delivered", "delivered"]
    jobs = tenant.every("/customer/jobs?status=IN_PROGRESS", "jobs")
    assert [j["job_id"] for j in jobs] == [fleet["job_id"]] and shown["in-progress"] == 1
    assert tenant.ok("GET", "/customer/devices/yard-cam/twin")["sync_status"] == "pending" and shown["pending"] == 1
    expect(page.locator(f"tr[data-job-id='{fleet['job_id']}'] [data-testid='job-done']")).to_have_text("0/1")


def test_each_overview_number_opens_the_list_behind_it(tenant_page: Page, fleet: dict[str, Any]) -> None:
    page = tenant_page
    expect(page.get_by_test_id("stat-offline")).to_have_text("1")
    # Offline: the one device never heard from
    page.get_by_role("link", name="Offline: 1").click()
    expect(page.get_by_role("heading", name="Devices")).to_be_visible()
    table = page.get_by_role("table", name="Devices")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tr[data-device-id='spare-cam']")).to_be_visible()
    expect(page.get_by_label("Last seen")).to_have_value("offline")
    # Twins pending: the device whose desired state moved
    page.go_back()
    page.get_by_role("link", name="Pending: 1").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tr[data-device-id='yard-cam']")).to_be_visible()
    # Delivered: the two ACKed commands, across devices
    page.go_back()
    page.get_by_role("link", name="Delivered: 2").click()
    commands = page.get_by_role("table", name="Settled commands")
    expect(commands.locator("tbody tr")).to_have_count(2)
    for command_id in fleet["acked"]:
        expect(commands.locator(f"tr[data-command-id='{command_id}']")).to_contain_text("delivered")
    # Jobs in progress
    page.get_by_role("link", name="Overview", exact=True).click()
    page.get_by_role("link", name="In progress: 1").click()
    expect(page.get_by_label("Status filter")).to_have_value("IN_PROGRESS")
    expect(page.get_by_role("link", name=fleet["job_id"])).to_be_visible()


OVERFLOW_SCRIPT = """() => {
  const out = [];
  const panels = [...document.querySelectorAll('.panel')];
  for (const panel of panels) {
    const box = panel.getBoundingClientRect();
    for (const el of panel.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.right > box.right + 0.5 || r.left < box.left - 0.5) {
        const name = `${el.tagName.toLowerCase()}.${el.className}`;
        out.push(`${name} in ${panel.getAttribute('aria-labelledby')}: ${Math.round(r.left)}-${Math.round(r.right)}`
                 + ` outside ${Math.round(box.left)}-${Math.round(box.right)}`);
      }
      if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible'
          && el.tagName !== 'PRE') {
        const name = `${el.tagName.toLowerCase()}.${el.className}`;
        out.push(`${name} scrolls sideways (${el.scrollWidth} > ${el.clientWidth})`);
      }
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth) out.push('the page scrolls sideways');
  return {panels: panels.length, out};
}"""


def assert_nothing_overflows(page: Page, name: str) -> None:
    shot(page, name)
    result = page.evaluate(OVERFLOW_SCRIPT)
    assert result["panels"] >= 2
    assert result["out"] == [], f"{name}: " + "; ".join(result["out"][:10])


@pytest.mark.parametrize("width", WIDTHS)
def test_device_page_command_history_stays_inside_its_panel(tenant_page: Page, fleet: dict[str, Any],
                                                            width: int) -> None:
    page = tenant_page
    page.set_viewport_size({"width": width, "height": 1000})
    # Given a device whose history holds ACKs with long details
    page.goto(fleet["tenant"].stack.base_url + "/devices/gate-cam")
    history = page.get_by_role("table", name="Command history")
    for command_id in fleet["acked"]:
        expect(history.locator(f"tr[data-command-id='{command_id}']")).to_contain_text("firmware")
    expect(page.get_by_role("heading", name="Twin")).to_be_visible()
    # Then no element runs past its panel's border, and nothing scrolls sideways
    assert_nothing_overflows(page, f"device-history-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_overview_fits_its_panels(tenant_page: Page, width: int) -> None:
    page = tenant_page
    page.set_viewport_size({"width": width, "height": 1000})
    expect(page.get_by_test_id("stat-total")).to_have_text("3")
    expect(page.locator(".recharts-bar-rectangle").first).to_be_visible()
    assert_nothing_overflows(page, f"overview-{width}")
