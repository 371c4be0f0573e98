"""The contract of the routes that act on devices: commands, twin and shadows, jobs, firmware, the overview,
sites."""
from __future__ import annotations

from chalicelib.apidocs import aws_models as aws
from chalicelib.apidocs import models as m
from chalicelib.apidocs.operation import Operation
from chalicelib.commands.batches.schemas import BatchView, CommandBatch
from chalicelib.commands.schemas import AckCommand, Command, CommandListQuery, CreateCommand
from chalicelib.core.schema import PageQuery
from chalicelib.devices.schemas import Device
from chalicelib.firmware.schemas import (
    CreateFirmware,
    Firmware,
    FirmwareListQuery,
    UploadTicket,
    VersionCounts,
    VersionsQuery,
)
from chalicelib.jobs.schemas import CreateJob, Execution, Job, JobListQuery, UpdateExecution
from chalicelib.overview.schemas import Overview, SettledQuery
from chalicelib.sites.schemas import CreateSite, MapDevice, Site, UpdateSite
from chalicelib.twin.schemas import PatchDesired, ReportState

CONTROL: dict[tuple[str, str], Operation] = {
    # Commands
    ("POST", "/customer/devices/{device_id}/commands"): Operation(
        "Send a command", "commands", Command, 201, body=CreateCommand, errors=(409,),
        example={"command_type": "ping", "command_params": {}, "expires_in_minutes": 60, "client_token": "op-1"}),
    ("GET", "/customer/devices/{device_id}/commands"): Operation(
        "A device's command history, newest first", "commands", Command, many=True,
        query=(PageQuery, CommandListQuery),
        description="A bare JSON array; the cursor of the next page is the `X-Next-Token` response header, "
                    "passed back as `?next_token=`."),
    ("GET", "/customer/devices/{device_id}/commands/{command_id}"): Operation("One command", "commands", Command),
    ("POST", "/customer/groups/{group_id}/commands"): Operation(
        "Send a command to every enabled member of a group", "commands", CommandBatch, 202, body=CreateCommand,
        errors=(409,), also={200: "replay of the same client_token"},
        example={"command_type": "capture_image", "command_params": {"count": 1}, "client_token": "snap-1"},
        description="One command per enabled member (disabled ones are counted as `skipped`), followed "
                    "together by the answer's `batch_id`. The answer comes before any command is sent "
                    "(`sending`, counts 0): the request stores the batch and hands its walk, in chunks, to a run "
                    "it starts at once (the per-minute schedule takes over if that run dies); follow it with "
                    "GET /customer/command-batches/{batch_id}."),
    ("POST", "/customer/sites/{site_id}/commands"): Operation(
        "Send a command to every enabled device of a site", "commands", CommandBatch, 202, body=CreateCommand,
        errors=(409,), also={200: "replay of the same client_token"},
        example={"command_type": "capture_image", "command_params": {}},
        description="As for a group: one command per enabled device, one `batch_id` to follow them."),
    ("GET", "/customer/command-batches"): Operation(
        "List group and site commands, newest first", "commands", m.BatchPage, query=(PageQuery,)),
    ("GET", "/customer/command-batches/{batch_id}"): Operation(
        "A group or site command: its commands' counts per status and a page of them", "commands", BatchView,
        query=(PageQuery,)),
    ("GET", "/device/v1/commands/pending"): Operation(
        "The device's pending commands", "device", m.PendingCommands, auth="device"),
    ("POST", "/device/v1/commands/{command_id}/ack"): Operation(
        "Acknowledge a command", "device", m.AckAnswer, auth="device", body=AckCommand, errors=(409,),
        example={"status": "ok", "details": {"message": "pong"}}),
    # Twin
    ("GET", "/customer/devices/{device_id}/twin"): Operation("The device twin", "twin", m.TwinView),
    ("PATCH", "/customer/devices/{device_id}/twin/desired"): Operation(
        "Merge into the desired state (null deletes a key)", "twin", m.TwinPatched, body=PatchDesired,
        errors=(409,), example={"desired": {"interval_s": 30, "led": {"color": "green"}}}),
    ("GET", "/customer/devices/{device_id}/twin/delta"): Operation("What the device still has to apply", "twin",
                                                                   m.TwinDelta),
    ("GET", "/device/v1/shadow"): Operation("The desired state for the device", "device", m.Shadow, auth="device"),
    ("POST", "/device/v1/shadow/reported"): Operation(
        "Report the device's state", "device", m.ReportAccepted, auth="device", body=ReportState, errors=(409,),
        example={"reported": {"interval_s": 30}, "version": 1}),
    # Named shadows (AWS IoT's; the classic shadow is the twin)
    ("GET", "/customer/devices/{device_id}/shadows"): Operation("The device's named shadows", "twin",
                                                                aws.ShadowNames),
    ("GET", "/customer/devices/{device_id}/shadows/{name}"): Operation(
        "A named shadow, as AWS IoT's get answers it", "twin", aws.ShadowDocument,
        description="404 when the device or the shadow does not exist."),
    ("PATCH", "/customer/devices/{device_id}/shadows/{name}/desired"): Operation(
        "Merge into a named shadow's desired state (null deletes a key); creates the shadow", "twin",
        aws.ShadowUpdated, body=PatchDesired, errors=(409,), example={"desired": {"rate": 20}, "version": 1},
        description="`version` is the shadow version the caller read (409 when it moved). The device gets "
                    "`update/delta` on `$aws/things/{thing}/shadow/name/{name}/`."),
    ("DELETE", "/customer/devices/{device_id}/shadows/{name}"): Operation("Delete a named shadow", "twin",
                                                                          aws.ShadowDeleted),
    # Jobs
    ("POST", "/customer/jobs"): Operation(
        "Create a job for one device, a group or the fleet (optionally rate-limited, with abort thresholds, "
        "an in-progress timeout, or continuous)", "jobs", Job, 201, body=CreateJob, errors=(409,),
        also={200: "replay of the same client_token"},
        example={"document_type": "update_config", "document_params": {"config": {"interval_s": 60}},
                 "target_group_id": "demo-fleet", "expires_in_hours": 24, "client_token": "rollout-1",
                 "rollout": {"max_per_minute": 100},
                 "abort": [{"failure_type": "FAILED", "min_executed": 10, "threshold_percentage": 20}]}),
    ("GET", "/customer/jobs"): Operation("List jobs, newest first", "jobs", m.JobPage, query=(JobListQuery,)),
    ("GET", "/customer/jobs/{job_id}"): Operation(
        "A job, its counts and a page of its executions", "jobs", m.JobWithExecutions, query=(PageQuery,)),
    ("DELETE", "/customer/jobs/{job_id}"): Operation("Cancel a job", "jobs", Job, errors=(409,)),
    ("GET", "/device/v1/jobs/pending"): Operation("The device's pending jobs", "device", m.PendingJobs,
                                                  auth="device"),
    ("GET", "/device/v1/jobs/{job_id}/execution"): Operation(
        "The device's execution of a job, with the job document", "device", m.ExecutionWithDocument, auth="device"),
    ("PUT", "/device/v1/jobs/{job_id}/execution"): Operation(
        "Move the device's execution", "device", Execution, auth="device", body=UpdateExecution, errors=(409,),
        example={"status": "IN_PROGRESS", "expected_version": 1, "step_timeout_minutes": 10}),
    # Firmware
    ("POST", "/customer/firmware"): Operation(
        "Create a firmware artifact; the answer has its upload URL (once)", "firmware", UploadTicket, 201,
        body=CreateFirmware, example={"version": "1.4.0", "device_model": "sim-1", "notes": "fixes the wake drift",
                                      "max_size_bytes": 16777216},
        description="PUT the image to `upload_url` with `upload_headers` before `upload_expires_at`, then POST "
                    "`.../complete`. A declared `size_bytes` and `sha256` are signed into the URL (S3 refuses "
                    "another body); `max_size_bytes` is checked on completion."),
    ("GET", "/customer/firmware"): Operation("List firmware artifacts, oldest first", "firmware", m.FirmwarePage,
                                             query=(FirmwareListQuery,)),
    ("GET", "/customer/firmware/{firmware_id}"): Operation("One firmware artifact", "firmware", Firmware),
    ("POST", "/customer/firmware/{firmware_id}/complete"): Operation(
        "Measure the upload: ready with its SHA-256 and size, or rejected with the reason", "firmware", Firmware,
        errors=(409,), description="409 while nothing was uploaded. Idempotent once completed."),
    ("DELETE", "/customer/firmware/{firmware_id}"): Operation(
        "Delete an artifact and its image", "firmware", m.FirmwareDeleted, errors=(409,),
        description="409 while a job or command referring to it has not expired (`in_use_until`)."),
    ("GET", "/customer/firmware-versions"): Operation(
        "Devices per reported firmware version, in the fleet or one group", "firmware", VersionCounts,
        query=(VersionsQuery,), description="From counters moved by each twin report of "
                                            "`reported.firmware_version`. A version longer than 64 "
                                            "characters, or new to a scope counting 200 already, is "
                                            "counted under `(other)`."),
    # Overview
    ("GET", "/customer/overview"): Operation(
        "The fleet at a glance: presence, command outcomes of 24 h, jobs in progress, twins", "overview",
        Overview,
        description="Served from indexes with a bounded number of Queries (`requests` says how many this "
                    "answer cost; a count that reached the bound has `truncated: true`). Each number has a "
                    "list behind it: `/customer/devices?presence=...`, `/customer/devices?twin=pending`, "
                    "`/customer/commands?outcome=...`, `/customer/jobs?status=IN_PROGRESS`."),
    ("GET", "/customer/commands"): Operation(
        "Commands of every device that became final in the last `hours`, newest first", "overview",
        m.SettledCommandPage, query=(PageQuery, SettledQuery),
        description="The list behind the overview's outcome numbers. `outcome=publish_failed`: final "
                    "without the broker ever taking one of its publishes. An outcome is a filter over one "
                    "page of the window: a page may be short, follow `next_token`."),
    # Sites
    ("POST", "/customer/sites"): Operation(
        "Create a site", "sites", Site, 201, body=CreateSite, errors=(409,),
        example={"site_id": "north", "name": "North field", "wake_schedule_cron": "30 6 * * *",
                 "timezone": "America/New_York", "program": "pilot", "company": "Acme Farms"}),
    ("GET", "/customer/sites"): Operation("List sites", "sites", m.SitePage, query=(PageQuery,)),
    ("GET", "/customer/sites/{site_id}"): Operation("One site with its device count", "sites", Site),
    ("PATCH", "/customer/sites/{site_id}"): Operation(
        "Change a site; a new schedule reaches every active device", "sites", m.SiteUpdated, body=UpdateSite,
        errors=(409,), example={"wake_schedule_cron": "0 */4 * * *"}),
    ("DELETE", "/customer/sites/{site_id}"): Operation(
        "Delete a site without devices", "sites", m.SiteDeleted, errors=(409,)),
    ("PUT", "/customer/devices/{device_id}/site"): Operation(
        "Map a device to a site (it becomes active and gets its wake schedule)", "sites", m.DeviceMapped,
        body=MapDevice, errors=(409,), example={"site_id": "demo-site"}),
    ("DELETE", "/customer/devices/{device_id}/site"): Operation(
        "Unmap a device (back to pending_mapping)", "sites", Device, errors=(409,)),
}
