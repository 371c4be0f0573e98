"""The composition root: every long-lived object, built on first use from one `Settings`.

One `Container` per process (a Lambda container keeps it across invocations). Building it
binds the features' PynamoDB models to the stage's tables, once; each feature's services
(its `Feature.services` class) are made the first time something asks for them, and each
service inside them on first use, so a function builds only what its handler touches and
imports only what it builds. Routes and schedules reach their services through
`chalicelib.core.feature.provided`, which this module answers; features never import it.
Tests that change the environment call `rebuild()`: a fresh container, nothing to forget by hand.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar, cast

from chalicelib.core import feature as core_feature
from chalicelib.core.messaging.base import Publisher, RecordingPublisher

if TYPE_CHECKING:
    from chalicelib.core.config import Settings
    from chalicelib.core.feature import Core, Feature
    from chalicelib.core.storage.idempotency import IdempotencyStore

T = TypeVar("T")


class Container:
    """The core's parts of one stage and every feature's services, each built once, on first use."""

    def __init__(self, settings: Settings, features: tuple[Feature[Any], ...] | None = None) -> None:
        from chalicelib.core.storage import tables
        from chalicelib.features import all_features
        from chalicelib.wiring import wiring

        self.settings = settings
        self._features = features if features is not None else all_features()
        tables.bind(settings, tuple(m for f in self._features for m in f.models()))
        self._factories: dict[type[Any], Callable[[Core], object]] = {
            f.services: f.services for f in self._features if f.services is not None}
        self._factories.update(wiring(self._features))
        self._built: dict[type[Any], object] = {}

    @cached_property
    def publisher(self) -> Publisher:
        """The configured publisher adapter."""
        s = self.settings
        if s.mqtt_backend == "paho":
            from chalicelib.core.messaging.paho import PahoPublisher

            return PahoPublisher(s.mqtt_host, s.mqtt_port, s.mqtt_username, s.mqtt_password,
                                 s.mqtt_client_id, s.mqtt_publish_timeout_s)
        if s.mqtt_backend == "iot-data":
            from chalicelib.core.messaging.iot_data import IotDataPublisher

            return IotDataPublisher(s.iot_data_endpoint, s.aws_region)
        return RecordingPublisher(reachable=False)

    @cached_property
    def idempotency_store(self) -> IdempotencyStore:
        from chalicelib.core.storage.idempotency import IdempotencyStore
        return IdempotencyStore()

    def of(self, kind: type[T]) -> T:
        """This process's `kind`: a feature's services or a hook the composition root wires, built once."""
        built = self._built.get(kind)
        if built is None:
            factory = self._factories.get(kind)
            if factory is None:
                raise LookupError(f"no feature provides {kind.__name__}")
            built = self._built[kind] = factory(self)
        return cast(T, built)

    def __getattr__(self, name: str) -> Any:
        """A feature's service by its name, for scripts and tests: `container().command_service` is
        `container().of(CommandServices).command_service` (the names are unique across features)."""
        if not name.startswith("_"):
            for f in self.__dict__.get("_features", ()):
                if f.services is not None and hasattr(f.services, name):
                    return getattr(self.of(f.services), name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")


_current: Container | None = None


def container() -> Container:
    """This process's container, built on first use."""
    global _current
    if _current is None:
        # Settings (pydantic) load here, on the first request, not when the routes register.
        from chalicelib.core.config import get_settings

        _current = Container(get_settings())
    return _current


def rebuild() -> None:
    """Drop this process's container: the next `container()` is built from the environment as it is then."""
    from chalicelib.core.config import get_settings

    global _current
    get_settings.cache_clear()
    _current = None


# Routes and schedules find their services here (they never import this module).
core_feature.install(lambda kind: container().of(kind))
