"""Parameters of the command types devices are known to understand (seed 002, plus ping).

Any other command type is free-form: its parameters are passed through untouched.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    ValidationError,
)

from chalicelib.core.errors import InvalidInput
from chalicelib.core.schema import ResourceId, StrictInt
from chalicelib.sites.rules import Timezone, WakeCron

Text = Annotated[str, StringConstraints(max_length=200)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]
Version = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")]


def _iso_string(value: object) -> object:
    # Params are stored and sent as given, so only the form every device can parse is taken.
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 timestamp string with a UTC offset")
    return value


FileName = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")]
# An ISO 8601 string with an offset ("2026-12-01T06:00:00Z"): not a number, not a naive time.
IsoTimestamp = Annotated[AwareDatetime, BeforeValidator(_iso_string)]


class Params(BaseModel):
    """Base of known parameter sets: unknown keys are an error, so typos do not reach a device."""

    model_config = ConfigDict(extra="forbid")


class PingParams(Params):
    """ping: no parameters; the device answers `pong` in its ACK details."""


class RebootParams(Params):
    """reboot: optionally after a delay."""

    delay_s: StrictInt = Field(default=0, ge=0, le=3600)


class CaptureImageParams(Params):
    """capture_image: take pictures now."""

    count: StrictInt = Field(default=1, ge=1, le=20)


class SendImageParams(Params):
    """send_image: (re)transmit one stored image."""

    # A file name on the device, never a path: no '/', '\\' or leading '.'.
    image_name: FileName


class SetWakeScheduleParams(Params):
    """set_wake_schedule: the wake cron, its timezone, the next wake time and the site context."""

    # The same rules as a site's schedule: standard 5-field cron, IANA zone names.
    cron: WakeCron
    timezone: Timezone = "UTC"
    next_wake_at: IsoTimestamp | None = None
    # The site context of a welcome command (seed 002), as the sites feature sends it;
    # schedule_id orders a device's schedules (apply the greatest).
    schedule_id: Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] | None = None
    site_id: ResourceId | None = None
    site_name: Text | None = None
    program: Text | None = None
    company: Text | None = None


class UpdateConfigParams(Params):
    """update_config: keys of the device configuration to change."""

    config: dict[str, Any] = Field(min_length=1)


class UpdateFirmwareParams(Params):
    """update_firmware: where to download an image hosted elsewhere, its version and checksum."""

    url: HttpUrl
    version: Version
    sha256: Sha256


class FirmwareArtifactParams(Params):
    """update_firmware with an artifact of the tenant: its URL (per device), version and checksum are filled
    in at delivery, so nothing else may be given."""

    firmware_id: ResourceId


PARAMS_BY_TYPE: dict[str, type[Params]] = {
    "ping": PingParams,
    "reboot": RebootParams,
    "capture_image": CaptureImageParams,
    "send_image": SendImageParams,
    "set_wake_schedule": SetWakeScheduleParams,
    "update_config": UpdateConfigParams,
    "update_firmware": UpdateFirmwareParams,
}


def check_params(command_type: str, params: dict[str, Any]) -> None:
    """Validate the parameters of a known command type; 400 naming `command_params.<field>`.

    The parameters are stored as given (not re-serialised), so what the operator sent is
    exactly what the device receives.
    """
    model = PARAMS_BY_TYPE.get(command_type)
    if model is UpdateFirmwareParams and "firmware_id" in params:
        model = FirmwareArtifactParams
    if model is None:
        return
    try:
        model.model_validate(params)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        field = f"command_params.{loc}" if loc else "command_params"
        raise InvalidInput(f"{field}: {first.get('msg')}", field=field, command_type=command_type) from exc
