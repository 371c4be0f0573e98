"""What a feature brings to the core, and how its routes reach the services it was built with.

Each feature fills one `Feature` in its own `feature.py`; the composition root
(chalicelib/features.py and chalicelib/container.py) assembles the app, the table list, the
IAM policies and the services from those declarations. The core itself names no feature:
imports run one way, features -> core.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from chalice import Blueprint
    from pynamodb.models import Model

    from chalicelib.core.config import Settings
    from chalicelib.core.messaging.base import Publisher
    from chalicelib.core.storage.idempotency import IdempotencyStore

S = TypeVar("S")
T = TypeVar("T")

# The module that installs the lookup below when it is imported (app.py imports it through the
# features list). A function entered without app.py (a schedule or handler imported on its own,
# as the bridge and the tests do) finds the composition root through this name.
COMPOSITION_ROOT = "chalicelib.container"


class Core(Protocol):
    """What every feature's services are built from: the stage's settings, the core's parts, other
    features' services (and whatever the composition root wires between features) by their type."""

    @property
    def settings(self) -> Settings: ...
    @property
    def publisher(self) -> Publisher: ...
    @property
    def idempotency_store(self) -> IdempotencyStore: ...

    def of(self, kind: type[T]) -> T:
        """This process's `kind`: a feature's services or a wiring the composition root provides."""
        ...


class DeviceMessages(Protocol):
    """Where a feature registers its device-to-cloud handlers (the ingress router)."""

    def register(self, suffix_pattern: str, handler: Callable[..., Any],
                 reject: Callable[..., None] | None = None) -> None:
        """Route messages whose topic suffix matches the pattern (fnmatch) to the handler."""
        ...

    def on_return(self, hook: Callable[[str, str], object], unless_suffix: str | None = None) -> None:
        """Call the hook after the first message of a device that was away."""
        ...

    def register_topic_root(self, root: str, handler: Callable[[str, bytes], dict[str, Any]]) -> None:
        """Route messages under `root/` (topics of no device) to the handler, with their raw payload."""
        ...


@dataclass(frozen=True)
class TableAccess:
    """DynamoDB actions on one table, and the indexes a function queries (its IAM statement)."""

    model: type[Model]
    actions: tuple[str, ...]
    indexes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FunctionAccess:
    """Everything one Lambda function reaches besides its own log group."""

    tables: tuple[TableAccess, ...] = ()
    # Publishes through the AWS IoT data plane (FLEET_MQTT_BACKEND=iot-data).
    publishes: bool = False
    # Topics outside the project prefix it publishes to (the health probe's).
    extra_topics: tuple[str, ...] = ()
    # Functions of the stage it starts now with an asynchronous invoke (a handed-over group command).
    invokes: tuple[str, ...] = ()
    # Reads the topic rule's queue in batches (AWS IoT Core with DeviceMessagesVia=sqs).
    reads_queue: bool = False
    # AWS IoT control-plane actions (`iot:UpdateCertificate`, ...) on certificates, things and policies.
    iot_actions: tuple[str, ...] = ()
    # S3 actions on the objects of the stage's bucket (presigning a URL needs the action it grants),
    # and on the bucket itself (listing an object's versions).
    bucket_objects: tuple[str, ...] = ()
    bucket: tuple[str, ...] = ()

    def __or__(self, other: FunctionAccess) -> FunctionAccess:
        """Both features' needs of one shared function (device_message serves several features)."""
        def union(mine: tuple[str, ...], theirs: tuple[str, ...]) -> tuple[str, ...]:
            return mine + tuple(t for t in theirs if t not in mine)

        return FunctionAccess(_merged_tables(self.tables + other.tables), self.publishes or other.publishes,
                              self.extra_topics + tuple(t for t in other.extra_topics if t not in self.extra_topics),
                              self.invokes + tuple(f for f in other.invokes if f not in self.invokes),
                              self.reads_queue or other.reads_queue,
                              self.iot_actions + tuple(a for a in other.iot_actions if a not in self.iot_actions),
                              union(self.bucket_objects, other.bucket_objects), union(self.bucket, other.bucket))


def _merged_tables(tables: tuple[TableAccess, ...]) -> tuple[TableAccess, ...]:
    """One entry per table (one IAM statement, one Sid): the union of what each feature asked of it."""
    merged: dict[type[Model], TableAccess] = {}
    for t in tables:
        had = merged.get(t.model)
        merged[t.model] = t if had is None else TableAccess(
            t.model, had.actions + tuple(a for a in t.actions if a not in had.actions),
            had.indexes + tuple(i for i in t.indexes if i not in had.indexes))
    return tuple(merged.values())


def _nothing() -> tuple[Any, ...]:
    return ()


def _no_access() -> Mapping[str, FunctionAccess]:
    return {}


@dataclass(frozen=True)
class Feature(Generic[S]):
    """What one feature brings: everything is read by the composition root, nothing by the feature itself.

    `models` and `access` are functions so that declaring a feature imports no PynamoDB model
    (every Lambda imports every `feature.py` through app.py: its cold start pays for what they import).
    """

    name: str
    # Chalice blueprints of its routes and functions (each reaches its services with `provided`).
    blueprints: tuple[Blueprint, ...] = ()
    # Blueprints of its scheduled functions (registered like the others; named apart for the reader).
    schedules: tuple[Blueprint, ...] = ()
    # The feature's tables: table creation, the CloudFormation template and the IAM policies read them.
    models: Callable[[], tuple[type[Model], ...]] = _nothing
    # The feature's services: a class built once per process, on first use, from the core (its
    # properties build each service on first use too); routes and other features look it up by this class.
    services: type[S] | None = None
    # Its device-to-cloud handlers, registered on the ingress router with its services.
    device_messages: Callable[[DeviceMessages, S], None] | None = None
    # What each of its Lambda functions touches (function name -> access); a function several
    # features serve (device_message) gets the union. api_handler reaches every table already.
    access: Callable[[], Mapping[str, FunctionAccess]] = _no_access


_resolve: Callable[[type[Any]], Any] | None = None


def install(resolve: Callable[[type[Any]], Any]) -> None:
    """Called by the composition root: how `provided` finds this process's services."""
    global _resolve
    _resolve = resolve


def lookup(kind: type[T]) -> T:
    """This process's `kind`, built by the composition root on first use."""
    if _resolve is None:
        importlib.import_module(COMPOSITION_ROOT)  # it installs the lookup
    if _resolve is None:
        raise RuntimeError(f"{COMPOSITION_ROOT} did not install the service lookup")
    return _resolve(kind)


def provided(kind: type[T]) -> Callable[[], T]:
    """A getter of this process's `kind`: routes and schedules call it when they run, never at import."""
    return lambda: lookup(kind)
