"""Objects in S3 through boto3: presigned upload and download URLs, a streamed digest, deletion of every version.

The one S3 adapter of the code base (features see the `ObjectStore` port). The same code
runs against AWS, LocalStack's S3 and the local stack's SeaweedFS: only the endpoint differs.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

# Reads of an object to hash it go in pieces of this size: a Lambda never holds a whole image.
DIGEST_CHUNK = 1024 * 1024
# The header a download URL is signed with: the device must send its own identity in it.
DEVICE_HEADER = "x-fleet-device"


@dataclass(frozen=True)
class PresignedRequest:
    """A URL and the headers its signature covers (the client sends them as given)."""

    url: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Digest:
    """What an object holds: its size, its SHA-256 (hex) and the version that was read."""

    size: int
    sha256: str
    version_id: str | None
    # True when the object is bigger than the reader was allowed to read: the digest covers a prefix.
    truncated: bool = False


class ObjectStore(Protocol):
    """The object storage port (S3 in production, SeaweedFS or LocalStack locally)."""

    def upload_url(self, key: str, ttl_s: int, size: int | None = None,
                   sha256: str | None = None) -> PresignedRequest: ...

    def download_url(self, key: str, ttl_s: int, identity: str, filename: str,
                     version_id: str | None = None) -> PresignedRequest: ...

    def digest(self, key: str, limit_bytes: int) -> Digest | None: ...

    def delete(self, key: str) -> int: ...


class S3ObjectStore:
    """An `ObjectStore` on one bucket.

    `endpoint` is where this process reaches S3 (empty: AWS's own); `public_endpoint` is
    the host the URLs are signed for, when devices reach S3 by another name.
    """

    def __init__(self, bucket: str, region: str, endpoint: str = "", public_endpoint: str = "") -> None:
        self.bucket = bucket
        self._region = region
        self._endpoint = endpoint
        self._public = public_endpoint or endpoint
        self._clients: dict[str, Any] = {}
        self._object_urls: dict[str, str] = {}

    def _client(self, endpoint: str) -> Any:
        if not self.bucket:
            from chalicelib.core.errors import Unavailable

            raise Unavailable("object storage is not configured on this stage (FLEET_FIRMWARE_BUCKET)",
                              field="firmware")
        client = self._clients.get(endpoint)
        if client is None:
            import boto3  # only the functions that touch firmware load it
            from botocore.config import Config

            # Path-style URLs: a local endpoint has no per-bucket host names.
            config = Config(signature_version="s3v4", s3={"addressing_style": "path" if endpoint else "auto"},
                            retries={"max_attempts": 3, "mode": "standard"})
            client = boto3.client("s3", region_name=self._region, endpoint_url=endpoint or None, config=config)
            self._clients[endpoint] = client
        return client

    def upload_url(self, key: str, ttl_s: int, size: int | None = None,
                   sha256: str | None = None) -> PresignedRequest:
        """A presigned PUT; a declared size and checksum are signed in, so S3 refuses any other body."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        headers: dict[str, str] = {}
        if size is not None:
            params["ContentLength"] = size
        if sha256 is not None:
            params["ChecksumSHA256"] = headers["x-amz-checksum-sha256"] = sha256_base64(sha256)
        url = self._client(self._public).generate_presigned_url("put_object", Params=params, ExpiresIn=ttl_s)
        return PresignedRequest(url, headers)

    def download_url(self, key: str, ttl_s: int, identity: str, filename: str,
                     version_id: str | None = None) -> PresignedRequest:
        """A presigned GET made for one device: its identity header and file name are in the signature.

        With `version_id` the URL names that version of the key, so bytes uploaded to the key
        later (a presigned PUT stays valid until it expires) are never what it serves.
        """
        from botocore.auth import S3SigV4QueryAuth
        from botocore.awsrequest import AWSRequest

        client = self._client(self._public)
        base = self._object_urls.get(key)
        if base is None:  # the object's address, as botocore builds it for this endpoint (one signing, once)
            signed = client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                                   ExpiresIn=1)
            base = self._object_urls[key] = signed.split("?", 1)[0]
            if len(self._object_urls) > 1024:
                self._object_urls.pop(next(iter(self._object_urls)))
        disposition = quote(f'attachment; filename="{filename}"', safe="")
        query = f"response-content-disposition={disposition}"
        if version_id and version_id != "null":
            query += f"&versionId={quote(version_id, safe='')}"
        request = AWSRequest(method="GET", url=f"{base}?{query}",
                             headers={DEVICE_HEADER: identity})
        credentials = client._request_signer._credentials.get_frozen_credentials()
        S3SigV4QueryAuth(credentials, "s3", self._region, expires=ttl_s).add_auth(request)
        return PresignedRequest(request.url, {DEVICE_HEADER: identity})

    def digest(self, key: str, limit_bytes: int) -> Digest | None:
        """Size and SHA-256 of the latest version (read as a stream, at most limit_bytes + 1); None when absent."""
        from botocore.exceptions import ClientError

        client = self._client(self._endpoint)
        try:
            head = client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        size, version = int(head["ContentLength"]), head.get("VersionId")
        if size > limit_bytes:
            return Digest(size, "", version, truncated=True)
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version and version != "null":
            params["VersionId"] = version
        body = client.get_object(**params)["Body"]
        sha, read = hashlib.sha256(), 0
        while chunk := body.read(DIGEST_CHUNK):
            read += len(chunk)
            if read > limit_bytes:
                return Digest(read, "", version, truncated=True)
            sha.update(chunk)
        return Digest(read, sha.hexdigest(), version)

    def delete(self, key: str) -> int:
        """Delete every version of the key (a versioned bucket keeps them otherwise); how many went."""
        client = self._client(self._endpoint)
        listed = client.list_object_versions(Bucket=self.bucket, Prefix=key)
        gone = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])] if v["Key"] == key]
        if gone:
            client.delete_objects(Bucket=self.bucket, Delete={"Objects": gone, "Quiet": True})
        else:  # an unversioned store lists nothing: delete the key itself
            client.delete_object(Bucket=self.bucket, Key=key)
        return len(gone)

    def ensure_bucket(self) -> None:
        """Create the bucket with versioning when missing (the local stack; on AWS the template owns it)."""
        from botocore.exceptions import ClientError

        client = self._client(self._endpoint)
        try:
            client.head_bucket(Bucket=self.bucket)
        except ClientError:
            client.create_bucket(Bucket=self.bucket)
        client.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})


def sha256_base64(hex_digest: str) -> str:
    """The base64 form S3's checksum header wants, of a hex SHA-256."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()
