"""The claim listener: boards enrolling by claim (AWS IoT fleet provisioning) on the local broker.

Its rules live in a Mosquitto plugin (`broker_plugin/fleet_claims.c`, built by `make deps`):
the claim certificate's CN is the username, a board's client id can never be a device's
(devices' ids hold a '.') or a service's (reserved prefixes), and each request is stamped
with the connection that sent it, so its answer reaches that connection alone, although AWS's
answer topics are the same for every board sharing a claim.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.local.broker_tls import TlsFiles

SOURCE = Path(__file__).parent / "broker_plugin" / "fleet_claims.c"
LIBRARY = Path(__file__).parent / "broker_plugin" / "build" / "fleet_claims.so"
# Client ids a claim board may not take: the platform's own clients (svc-*, the bridge's
# fleet-*), Mosquitto's assigned ids, and the names certificates log in as on the certificate
# listener, where the CN is the client id (cert-* of a board enrolled by claim, claim-*):
# client ids are one namespace across listeners, so a claim board would take that session over.
RESERVED_CLIENT_ID_PREFIXES = ("svc-", "fleet-", "auto-", "cert-", "claim-")
CLAIM_CN_PREFIX = "claim-"
# Topics of the stamped requests (bridge) and of the answers (cloud publisher); see the plugin.
REQUEST_TOPIC_PREFIX = "$fleet/claims/"
REPLY_TOPIC_PREFIX = "$fleet/claim-replies/"
# Beside the certificate listener's ACL: `<cert-... CN> <tenant>.<device>` per certificate a board made.
NAMES_FILE = "tls_names"


def built() -> Path:
    """The plugin's library; a clear error when it was not built."""
    if not LIBRARY.exists() or LIBRARY.stat().st_mtime < SOURCE.stat().st_mtime:
        raise RuntimeError(f"the broker's claim plugin is missing or older than its source: run `make deps` "
                           f"(it builds {LIBRARY.relative_to(LIBRARY.parents[3])})")
    return LIBRARY


def acl_path(broker_dir: Path) -> Path:
    """The claim listener's ACL file: one entry per active claim certificate."""
    return broker_dir / "claim_acl"


def listener_conf(tls: TlsFiles, host: str, workdir: Path) -> str:
    """The mosquitto.conf section of the claim listener."""
    return f"""
# Boards enrolling with a claim certificate: the plugin authenticates them and routes answers.
listener {tls.claim_port} {host}
cafile {tls.ca_file}
certfile {tls.cert_file}
keyfile {tls.key_file}
require_certificate true
crlfile {tls.crl_file}
allow_anonymous false
plugin {tls.claim_plugin}
plugin_opt_role claim
plugin_opt_reserved_client_id_prefixes {",".join(RESERVED_CLIENT_ID_PREFIXES)}
acl_file {acl_path(workdir)}
"""


def device_listener_conf(tls: TlsFiles, workdir: Path) -> str:
    """Lines for the certificate listener: the plugin names each certificate, and takes claims as AWS's 8883 does.

    No `use_identity_as_username` (Mosquitto would skip the plugin's check) and no `use_username_as_clientid`
    (boards sharing a claim need ids of their own): the plugin allows a certificate only its own client ids.
    """
    return f"""plugin {tls.claim_plugin}
plugin_opt_role device
plugin_opt_reserved_client_id_prefixes {",".join(RESERVED_CLIENT_ID_PREFIXES)}
plugin_opt_assigned_client_id_prefix {tls.assigned_prefix}
plugin_opt_names_file {workdir / NAMES_FILE}
"""


def service_listener_conf(tls: TlsFiles | None) -> str:
    """Lines for the service listener: the plugin delivers the cloud's answers to claim boards."""
    if tls is None or tls.claim_port is None:
        return ""
    return f"plugin {tls.claim_plugin}\nplugin_opt_role service\n"
