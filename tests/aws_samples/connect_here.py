"""Run an SDK sample unchanged, its connection pointed at a given port and CA file.

    python connect_here.py PORT CA_FILE SAMPLE.py [sample arguments...]

The samples call `mqtt5_client_builder.mtls_from_path(port=8883, ...)` without a CA file (the
system store); this wraps that one function, so the sample's own code runs as published.
"""
from __future__ import annotations

import runpy
import sys
from typing import Any

from awsiot import mqtt5_client_builder


def main() -> None:
    port, ca_file, sample, *args = sys.argv[1:]
    build = mqtt5_client_builder.mtls_from_path

    def pointed_here(**kwargs: Any) -> Any:
        return build(**{**kwargs, "port": int(port), "ca_filepath": ca_file})

    mqtt5_client_builder.mtls_from_path = pointed_here
    sys.argv = [sample, *args]
    runpy.run_path(sample, run_name="__main__")


if __name__ == "__main__":
    main()
