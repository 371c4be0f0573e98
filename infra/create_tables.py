"""Create this stage's DynamoDB tables from the models (AWS, LocalStack or any endpoint), and on an
S3 endpoint of its own (LocalStack) the firmware bucket; on AWS the packaged template owns the bucket.

    FLEET_TABLE_PREFIX=fleet-prod python -m infra.create_tables
    FLEET_DDB_ENDPOINT=http://localhost:4566 FLEET_TABLE_PREFIX=fleet-ls python -m infra.create_tables
"""
from __future__ import annotations

from chalicelib.core.config import get_settings
from chalicelib.core.storage import tables
from chalicelib.features import all_models


def main() -> None:
    settings = get_settings()
    created = tables.create_tables(settings, all_models())
    where = settings.ddb_endpoint or f"AWS {settings.aws_region}"
    names = ", ".join(created) if created else "none (all exist)"
    print(f"tables created on {where}: {names}")
    firmware = settings.firmware
    if firmware.bucket and firmware.s3_endpoint:
        from chalicelib.core.storage.objects import S3ObjectStore

        S3ObjectStore(firmware.bucket, settings.aws_region, firmware.s3_endpoint).ensure_bucket()
        print(f"firmware bucket {firmware.bucket} ready on {firmware.s3_endpoint}")


if __name__ == "__main__":
    main()
