"""The broker's TLS side: the stack CA's files, the two TLS listeners, and who may log in with a certificate.

Mosquitto skips every password check on a `use_identity_as_username` listener: any
certificate the CA signed would log in. Three things close that gap, all built from the
certificate registry by `TlsAccess.write` on every registry change:

- a CRL (`crlfile`, reloaded on SIGHUP) listing every certificate that is not ACTIVE, was
  deleted, or belongs to a disabled or deleted device: the handshake itself fails;
- the listener's own ACL file, with entries only for names that hold an ACTIVE certificate
  of an enabled device: any other CN (a service user's, a name never issued) may touch nothing;
- a cut: a session of a name that just lost a certificate is taken over (its client id
  is its username) by the sync's service user and closed, once the broker has reloaded.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from chalicelib.certificates import local_ca
from chalicelib.certificates.local_ca import LocalCertificateAuthority
from chalicelib.certificates.store import CertificateModel, CertificateRepository
from chalicelib.core.identity import device_topic_filters, mqtt_username, parse_mqtt_username
from infra.local import claim_plugin

SERVER_HOSTS = ["localhost", "127.0.0.1"]


@dataclass(frozen=True)
class TlsFiles:
    """What the TLS listeners read: the CA, the broker's certificate and key, the CRL; and their ports."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    crl_file: Path
    mtls_port: int
    token_port: int
    claim_port: int | None = None  # boards enrolling with a claim certificate (fleet provisioning)
    claim_plugin: Path | None = None  # the broker plugin the claim listener needs (`make deps` builds it)


def prepare(ca_dir: Path, broker_dir: Path, mtls_port: int, token_port: int,
            claim_port: int | None = None) -> tuple[TlsFiles, LocalCertificateAuthority]:
    """Make the CA once, a fresh server certificate and an empty CRL (the broker will not start without one).

    With a `claim_port`, the broker also opens the claim listener, which needs the claim plugin built.
    """
    ca_file = local_ca.ensure(ca_dir)
    authority = LocalCertificateAuthority(ca_dir)
    tls_dir = broker_dir / "tls"
    tls_dir.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = authority.server_certificate(tls_dir, SERVER_HOSTS)
    crl_file = tls_dir / "crl.pem"
    authority.write_crl(crl_file, [])
    plugin = claim_plugin.built() if claim_port is not None else None
    return TlsFiles(ca_file, cert_file, key_file, crl_file, mtls_port, token_port, claim_port, plugin), authority


def listener_conf(tls: TlsFiles, host: str, workdir: Path) -> str:
    """The mosquitto.conf sections of the two TLS listeners."""
    common = f"""cafile {tls.ca_file}
certfile {tls.cert_file}
keyfile {tls.key_file}
allow_anonymous false
use_username_as_clientid true
"""
    return f"""
# Devices with a client certificate of the stack CA: the CN is the username (and the client id).
listener {tls.mtls_port} {host}
{common}require_certificate true
use_identity_as_username true
crlfile {tls.crl_file}
acl_file {workdir / "tls_acl"}

# Devices without a certificate: server-side TLS, the provision token as the password.
listener {tls.token_port} {host}
{common}require_certificate false
password_file {workdir / "passwd"}
acl_file {workdir / "acl"}
""" + (claim_plugin.listener_conf(tls, host, workdir) if tls.claim_port is not None else "")


class TlsAccess:
    """Writes the CRL and the certificate listener's ACL from the registry; says whose sessions to cut."""

    def __init__(self, authority: LocalCertificateAuthority, tls: TlsFiles, acl_path: Path,
                 repo: CertificateRepository | None = None) -> None:
        self._ca = authority
        self._tls = tls
        self._acl = acl_path
        self._repo = repo or CertificateRepository()
        self._refused: set[str] | None = None

    def write(self, enabled: set[str]) -> list[str]:
        """Rewrite CRL and ACL for the devices in `enabled` (broker usernames); names whose sessions must be cut."""
        allowed: set[str] = set()
        revoked: list[tuple[int, datetime]] = []
        refused: dict[str, str] = {}
        for cert in self._repo.for_broker():
            name = _name(cert)
            if cert.status == "ACTIVE" and not cert.device_key.startswith("deleted#") and name in enabled:
                allowed.add(name)
                continue
            revoked.append((int(cert.serial_number, 16), cert.status_changed_at))
            refused[cert.certificate_id] = name
        self._ca.write_crl(self._tls.crl_file, sorted(revoked))
        lines: list[str] = []
        for name in sorted(allowed):
            ids = parse_mqtt_username(name)
            if ids is None:  # never: the registry only holds ids; a stray name gets no line
                continue
            lines += [f"user {name}", *(f"topic readwrite {f}" for f in device_topic_filters(*ids)), ""]
        tmp = self._acl.with_name(f".{self._acl.name}.tmp")
        tmp.touch(mode=0o600)
        tmp.write_text("\n".join(lines) + "\n")
        tmp.replace(self._acl)
        # Only certificates that newly stopped working: a name keeps its session while nothing changed.
        # (At the first write, every refused name that holds no working certificate.)
        if self._refused is None:
            cut = {name for name in refused.values() if name not in allowed}
        else:
            cut = {name for cid, name in refused.items() if cid not in self._refused}
        self._refused = set(refused)
        return sorted(cut)


def _name(cert: CertificateModel) -> str:
    return mqtt_username(cert.tenant_id, cert.device_id)
