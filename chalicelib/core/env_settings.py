"""Settings read from prefixed environment variables: the part of pydantic-settings the functions use.

pydantic-settings' `BaseSettings` costs a Lambda about 80 ms of its cold start (it
imports asyncio, dotenv and its many sources); the functions only need flat fields
read from `FLEET_*` variables, which a plain pydantic model does as well.
"""
from __future__ import annotations

import os
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator


class EnvSettings(BaseModel):
    """Each field from `<env_prefix><NAME>` (any case) unless given as a keyword argument.

    As with pydantic-settings: keyword arguments win over the environment, which wins
    over the defaults; values are validated (and coerced from strings) the same way;
    unknown variables and arguments are ignored.
    """

    model_config = ConfigDict(extra="ignore", validate_default=True)
    env_prefix: ClassVar[str] = ""

    @model_validator(mode="before")
    @classmethod
    def _read_environment(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        prefix = cls.env_prefix.lower()
        from_env = {}
        for name, value in os.environ.items():
            field = name.lower().removeprefix(prefix)
            if name.lower().startswith(prefix) and field in cls.model_fields:
                from_env[field] = value
        return {**from_env, **data}
