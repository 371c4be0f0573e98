"""One container per process, built from the settings; rebuilding is the only reset."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.commands.services import CommandServices
from chalicelib.container import container, rebuild
from chalicelib.core.feature import provided
from chalicelib.features import all_features


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    rebuild()
    yield monkeypatch
    monkeypatch.undo()
    rebuild()


def test_the_container_and_its_services_are_built_once(fresh: pytest.MonkeyPatch) -> None:
    assert container() is container()
    assert container().command_service is container().command_service
    assert container().command_policy is container().settings.commands


def test_rebuild_reads_the_environment_again_and_forgets_every_service(fresh: pytest.MonkeyPatch) -> None:
    # Given a built container and a service made by it
    before = container()
    service = before.job_service
    # When the environment changes and the container is rebuilt
    fresh.setenv("FLEET_JOB_TTL_MAX_H", "48")
    rebuild()
    # Then the new container has the new settings and builds its own services
    assert container() is not before and container().settings.jobs.ttl_max_h == 48
    assert container().job_service is not service


def test_every_service_of_every_feature_builds_from_the_composition_root(fresh: pytest.MonkeyPatch) -> None:
    # Every hook a feature asks for is wired, and every service finds the parts it is built from.
    for feature in all_features():
        if feature.services is None:
            continue
        services = container().of(feature.services)
        assert container().of(feature.services) is services
        for name in (n for n in vars(feature.services) if not n.startswith("_")):
            assert getattr(services, name) is not None, f"{feature.name}.{name}"


def test_a_route_finds_the_services_the_container_built(fresh: pytest.MonkeyPatch) -> None:
    # The core's lookup answers with this process's container, and a rebuilt one after rebuild().
    assert provided(CommandServices)() is container().of(CommandServices)
    rebuild()
    assert provided(CommandServices)() is container().of(CommandServices)


def test_a_kind_no_feature_provides_is_a_lookup_error(fresh: pytest.MonkeyPatch) -> None:
    with pytest.raises(LookupError):
        container().of(str)
