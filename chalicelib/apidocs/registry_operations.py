"""The contract of the registry's routes: health and docs, devices and imports, provisioning (templates,
claims), certificates, groups, the broker's hooks."""
from __future__ import annotations

from chalicelib.apidocs import models as m
from chalicelib.apidocs.operation import Operation
from chalicelib.broker_auth.schemas import AuthnRequest, AuthzRequest, Decision
from chalicelib.certificates.schemas import (
    Certificate,
    ClaimCertificate,
    CreateCertificate,
    CreateClaimCertificate,
    UpdateCertificate,
)
from chalicelib.core.schema import PageQuery
from chalicelib.devices.schemas import CreateDevice, CreateGroup, Device, DeviceListQuery, Group, UpdateDevice
from chalicelib.imports.schemas import (
    DeviceImport,
    ImportCredentials,
    ImportPage,
    ImportQuery,
    ImportRow,
    ImportView,
    ResultQuery,
)
from chalicelib.provisioning.schemas import CreateTemplate, DryRun, DryRunResult, Template, TemplateBody

REGISTRY: dict[tuple[str, str], Operation] = {
    ("GET", "/health"): Operation(
        "Reachability of the database and the broker", "health", m.Health, auth="none",
        description="503 with the same body when a dependency is down. Each dependency's last known "
                    "status, probed at most every few seconds (`age_s` says how old it is)."),
    ("GET", "/customer/health"): Operation(
        "Health with the backlogs the schedules have left", "health", m.HealthDetails,
        description="Always 200 (`status` says degraded); `command_queue.awaiting_publish`: the caller's "
                    "tenant's commands waiting for a (re)publish, counted up to 1000 (`command_queue.capped` "
                    "is true when it reached that)."),
    ("GET", "/openapi.json"): Operation("This document", "docs", m.Body, auth="none"),
    ("GET", "/docs"): Operation("The API reference page (Swagger UI)", "docs", m.Body, auth="none",
                                media_type="text/html"),
    ("GET", "/docs/{asset}"): Operation("A static asset of the reference page", "docs", m.Body, auth="none",
                                        media_type="text/plain",
                                        path_enums={"asset": ("swagger-ui-bundle.js", "swagger-ui.css")}),
    # Devices
    ("POST", "/customer/devices"): Operation(
        "Register a device; the provision token is shown once", "devices", m.CreatedDevice, 201,
        body=CreateDevice, errors=(409,), example={"device_id": "cam-7", "name": "Camera 7"}),
    ("GET", "/customer/devices"): Operation(
        "List devices: all, a group's members, by site and/or status, by presence, or the twins pending",
        "devices", m.DevicePage, query=(PageQuery, DeviceListQuery),
        description="`presence` is a last-seen bucket of the overview: `online` (heard from within "
                    "FLEET_DEVICE_AWAY_AFTER_S), `hour` (within the twin's stale window), `day`, `week`, `older`, "
                    "`never`, and the unions `offline` (all but online) and `stale` (not within the stale "
                    "window), most recently seen first; `twin=pending`: reported version behind desired. "
                    "Neither combines with another filter."),
    ("GET", "/customer/devices/{device_id}"): Operation("One device", "devices", Device),
    ("PATCH", "/customer/devices/{device_id}"): Operation(
        "Rename a device or replace its attributes", "devices", Device, body=UpdateDevice,
        example={"name": "Camera 7 (gate)", "attributes": {"floor": 1}},
        description="Fields given replace the stored ones; `name: null` clears the name."),
    ("DELETE", "/customer/devices/{device_id}"): Operation(
        "Delete a device; its token dies at once", "devices", m.DeviceDeleted, errors=(409,)),
    ("POST", "/customer/devices/{device_id}/token"): Operation(
        "Rotate the provision token; the old one dies at once", "devices", m.TokenRotated, 201, errors=(409,)),
    ("POST", "/customer/devices/{device_id}/disable"): Operation(
        "Disable a device: its token is refused on HTTP and MQTT", "devices", Device, errors=(409,)),
    ("POST", "/customer/devices/{device_id}/enable"): Operation(
        "Re-enable a device", "devices", Device, errors=(409,)),
    ("POST", "/customer/device-imports"): Operation(
        "Import up to 10,000 devices from a CSV or JSON lines", "devices", DeviceImport, 202, body=ImportRow,
        query=(ImportQuery,), errors=(409,), also={200: "replay of the same client_token"},
        body_media={"text/csv": "device_id,name,attributes,groups,site,certificate\n"
                                "cam-1,Camera 1,\"{\"\"model\"\": \"\"esp32\"\"}\",floor-1;outdoor,barn,yes\n"
                                "cam-2,Camera 2,,floor-1,,\n",
                    "application/x-ndjson": '{"device_id": "cam-1", "name": "Camera 1", "groups": ["floor-1"], '
                                            '"certificate": true}\n'
                                            '{"device_id": "cam-2", "site": "barn"}\n'},
        description="Each row is an `ImportRow` (CSV: a header naming the columns; `attributes` as a JSON object "
                    "or one `attr.<key>` column per attribute; `groups` separated by `;`). The rows are read at "
                    "once (a body that cannot be read at all is a 400) and created in chunks: the answer may still "
                    "be `running`, and the per-minute schedule finishes what the request had no time for. Each "
                    "row ends `created`, `existed` (left untouched) or `refused` with the reason and field. "
                    "A row with a `site` is created mapped to it (`active`, with its welcome command), others "
                    "`pending_mapping`. A row with `certificate: true` (CSV: `true`, `false`, `1`, `0`, `yes` or "
                    "`no`; JSON lines: a boolean) also gets an X.509 certificate and key from the stage's "
                    "authority, besides its token; any other value refuses that row naming `certificate`. "
                    "`?client_token=` makes the request idempotent."),
    ("GET", "/customer/device-imports"): Operation(
        "List device imports, newest first", "devices", ImportPage, query=(PageQuery,)),
    ("GET", "/customer/device-imports/{import_id}"): Operation(
        "An import's progress and counts, and a page of its rows' results", "devices", ImportView,
        query=(PageQuery, ResultQuery),
        description="Results in row order; `?outcome=refused` lists only the refused rows. `next_token` is the "
                    "row number the page ended at."),
    ("POST", "/customer/device-imports/{import_id}/credentials"): Operation(
        "The created devices' provision tokens (and certificates), downloadable once", "devices", ImportCredentials,
        errors=(409,),
        description="Once the import completed: every created device's token, and for the rows with "
                    "`certificate: true` its `certificate_id`, `certificate_pem` and `private_key_pem` (the key "
                    "exists nowhere else), then they are erased; a second call, or one after "
                    "`FLEET_DEVICE_IMPORT_CREDENTIALS_TTL_H`, is a 409 saying why. The import and its rows never "
                    "show them."),
    # Provisioning templates
    ("POST", "/customer/provisioning-templates"): Operation(
        "Create a provisioning template", "provisioning", Template, 201, body=CreateTemplate, errors=(409,),
        example={"template_name": "esp32-cam", "parameters": {
                     "SerialNumber": {"pattern": "^[A-Z0-9]{8,16}$"},
                     "MacAddress": {"normalize": "mac"}},
                 "device_id": "esp32-{MacAddress}", "attributes": {"serial": "{SerialNumber}"},
                 "groups": ["floor-1"], "site_id": "barn", "allow_list_parameter": "SerialNumber",
                 "allow_list": ["A1B2C3D4"]},
        description="What a device enrolling itself may send (each parameter's pattern is matched whole, after "
                    "normalisation: `mac` turns AA:BB:CC:DD:EE:FF into aabbccddeeff), what its enrolment makes "
                    "(the device id and attributes may use `{Parameter}`; groups; a site maps it, with its welcome "
                    "command), and who checks it first: an allow-list of one parameter's values and/or a "
                    "pre-provisioning hook (an HTTPS URL answering `{\"allowProvisioning\": bool, "
                    "\"parameterOverrides\": {...}}`; a timeout, an error or any other answer refuses)."),
    ("GET", "/customer/provisioning-templates"): Operation(
        "List provisioning templates", "provisioning", m.TemplatePage, query=(PageQuery,)),
    ("GET", "/customer/provisioning-templates/{template_name}"): Operation(
        "One provisioning template, with its enrolment counts and last refusal", "provisioning", Template),
    ("PUT", "/customer/provisioning-templates/{template_name}"): Operation(
        "Replace what a provisioning template says (its counts stay)", "provisioning", Template, body=TemplateBody,
        example={"device_id": "esp32-{MacAddress}", "parameters": {"MacAddress": {"normalize": "mac"}},
                 "enabled": False}),
    ("DELETE", "/customer/provisioning-templates/{template_name}"): Operation(
        "Delete a provisioning template", "provisioning", m.TemplateDeleted),
    ("POST", "/customer/provisioning-templates/{template_name}/dry-run"): Operation(
        "What an enrolment with these parameters would make, or why it would be refused", "provisioning",
        DryRunResult, body=DryRun, example={"parameters": {"SerialNumber": "A1B2C3D4",
                                                           "MacAddress": "AA:BB:CC:DD:EE:FF"}},
        description="Nothing is made; the checks (and, unless `call_hook` is false, the hook) run as for a real "
                    "enrolment, and a refusal is counted on the template like one."),
    # Provisioning by claim
    ("POST", "/customer/provisioning-templates/{template_name}/claim-certificates"): Operation(
        "Issue a claim certificate of the template (its key answered once)", "provisioning",
        m.ClaimCertificateCreated, 201, body=CreateClaimCertificate, example={"expires_in_days": 365},
        description="The one credential a factory flashes into every board of the template. Signed by the stack's "
                    "CA with `CN=claim-{certificate_id}`, it may do nothing on the broker's claim listener but "
                    "AWS IoT's fleet-provisioning topics of this template (`$aws/certificates/create/json`, "
                    "`$aws/certificates/create-from-csr/json`, `$aws/provisioning-templates/{template_name}/"
                    "provision/json` and their `/accepted` and `/rejected` answers). Without `expires_in_days` "
                    "(1 to 3650) it lives the template's `claim_validity_days`."),
    ("GET", "/customer/provisioning-templates/{template_name}/claim-certificates"): Operation(
        "List the template's claim certificates", "provisioning", m.ClaimCertificatePage, query=(PageQuery,)),
    ("GET", "/customer/provisioning-templates/{template_name}/claim-certificates/{certificate_id}"): Operation(
        "One claim certificate (never its key)", "provisioning", ClaimCertificate),
    ("PATCH", "/customer/provisioning-templates/{template_name}/claim-certificates/{certificate_id}"): Operation(
        "Set a claim certificate ACTIVE, INACTIVE or REVOKED (final)", "provisioning", ClaimCertificate,
        body=UpdateCertificate, errors=(409,), example={"status": "REVOKED"},
        description="A claim that is not ACTIVE enrols no board: the broker refuses it at its next connect, its "
                    "open session is cut, and a request already on its way is rejected."),
    # Certificates
    ("POST", "/customer/devices/{device_id}/certificates"): Operation(
        "Issue an X.509 client certificate for the device", "certificates", m.CertificateCreated, 201,
        body=CreateCertificate, errors=(409,), example={"validity_days": 365},
        description="Without `csr` the server makes a P-256 key pair and answers its `private_key_pem` once; "
                    "with `csr` (PEM) it signs the device's own key. The subject is always "
                    "`CN={tenant_id}.{device_id}`: a CSR asking for another CN, any SAN or a CA is a 400."),
    ("GET", "/customer/devices/{device_id}/certificates"): Operation(
        "List the device's certificates", "certificates", m.CertificatePage, query=(PageQuery,)),
    ("GET", "/customer/devices/{device_id}/certificates/{certificate_id}"): Operation(
        "One certificate (its id is the SHA-256 fingerprint)", "certificates", Certificate),
    ("PATCH", "/customer/devices/{device_id}/certificates/{certificate_id}"): Operation(
        "Set a certificate ACTIVE, INACTIVE or REVOKED (final)", "certificates", Certificate,
        body=UpdateCertificate, errors=(409,), example={"status": "REVOKED"},
        description="A certificate that is not ACTIVE is refused at its next connect and its open "
                    "session is cut."),
    ("DELETE", "/customer/devices/{device_id}/certificates/{certificate_id}"): Operation(
        "Delete a certificate that is not ACTIVE", "certificates", m.CertificateDeleted, errors=(409,)),
    ("POST", "/device/v1/heartbeat"): Operation("A device says it is alive", "device", m.Heartbeat, auth="device"),
    # Groups
    ("POST", "/customer/groups"): Operation(
        "Create a group", "groups", Group, 201, body=CreateGroup, errors=(409,),
        example={"group_id": "floor-1", "name": "Floor 1"}),
    ("GET", "/customer/groups"): Operation("List groups", "groups", m.GroupPage, query=(PageQuery,)),
    ("GET", "/customer/groups/{group_id}"): Operation(
        "A group and a page of its members", "groups", m.GroupWithMembers, query=(PageQuery,)),
    ("DELETE", "/customer/groups/{group_id}"): Operation(
        "Delete a group and its memberships (the devices stay)", "groups", m.GroupDeleted),
    ("PUT", "/customer/groups/{group_id}/members/{device_id}"): Operation(
        "Add a device to a group (200 when it already was a member)", "groups", m.MemberAdded, 201,
        also={200: "already a member"}),
    ("DELETE", "/customer/groups/{group_id}/members/{device_id}"): Operation(
        "Remove a device from a group", "groups", m.MemberRemoved),
    # Broker hooks (a self-hosted broker's HTTP authentication and authorization)
    ("POST", "/broker/authn"): Operation(
        "May this MQTT client connect?", "broker", Decision, auth="broker", body=AuthnRequest,
        example={"username": "demo.sim-1", "password": "device-token", "clientid": "sim-1"}),
    ("POST", "/broker/authz"): Operation(
        "May this MQTT client publish or subscribe here?", "broker", Decision, auth="broker", body=AuthzRequest,
        example={"username": "demo.sim-1", "topic": "tenant/demo/device/sim-1/status", "action": "publish"}),
}
