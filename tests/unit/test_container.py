"""One container per process, built from the settings; rebuilding is the only reset."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.container import container, rebuild


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
