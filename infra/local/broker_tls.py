"""The broker's TLS side: the stack CA's files, the two TLS listeners, and who may log in with a certificate.

Mosquitto skips every password check on a `use_identity_as_username` listener: any
certificate the CA signed would log in. Three things close that gap, all built from the
certificate registry by `TlsAccess.write` on every registry change:

- a CRL (`crlfile`, reloaded on SIGHUP) listing every certificate that is not ACTIVE, was
  deleted, or belongs to a disabled or deleted device: the handshake itself fails;
- the listener's own ACL file, with entries only for names that hold an ACTIVE certificate
  of an enabled device: any other CN (a service user's, a name never issued) may touch nothing;
- the claim listener's ACL file (`claim_acl`), with the fleet-provisioning topics of each ACTIVE,
  unexpired claim certificate of an enabled template;
- a cut: every session of a name that just lost a certificate is closed, once the broker has
  reloaded (the plugin closes them by username; the sync also takes the name over as a client id).

With the claim plugin built (it is on `make run`), the certificate listener runs it instead of
`use_identity_as_username`: the plugin makes the CN the username, allows a certificate only its own
client ids (its name, its thing's, or one the broker assigned), and takes claim certificates too.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from chalicelib.certificates import local_ca
from chalicelib.certificates.local_ca import LocalCertificateAuthority
from chalicelib.certificates.schemas import CertificateKind
from chalicelib.certificates.store import DELETED, CertificateModel, CertificateRepository
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.identity import device_topic_filters, mqtt_username
from infra.local import claim_plugin

SERVER_HOSTS = ["localhost", "127.0.0.1"]
# The claim listener's ACL file, in the broker's work directory beside the certificate listener's.
CLAIM_ACL = "claim_acl"
# CNs the registry chose without a device: a claim's, and one a board made through a claim.
CLAIM_NAMES = ("claim-", "cert-")


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
    # The prefix of client ids the broker assigns to a client that sent none (Mosquitto's default): a
    # certificate may log in with such an id, random and unknown to anyone else (see the plugin's device role).
    assigned_prefix: str = "auto-"


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
"""
    if tls.claim_plugin is not None:
        # The plugin's device role: the CN is the username; claim certificates enrol here too, as on AWS.
        identity = claim_plugin.device_listener_conf(tls, workdir)
    else:
        identity = "use_identity_as_username true\nuse_username_as_clientid true\n"
    return f"""
# Devices with a client certificate of the stack CA: the CN is the username (and the client id).
listener {tls.mtls_port} {host}
{common}require_certificate true
{identity}crlfile {tls.crl_file}
acl_file {workdir / "tls_acl"}

# Devices without a certificate: server-side TLS, the provision token as the password.
listener {tls.token_port} {host}
{common}use_username_as_clientid true
require_certificate false
password_file {workdir / "passwd"}
acl_file {workdir / "acl"}
""" + (claim_plugin.listener_conf(tls, host, workdir) if tls.claim_port is not None else "")


class TlsAccess:
    """Writes the CRL and the certificate and claim listeners' ACLs from the registry; says whose sessions to cut."""

    def __init__(self, authority: LocalCertificateAuthority, tls: TlsFiles, acl_path: Path,
                 repo: CertificateRepository | None = None, claim_acl_path: Path | None = None,
                 template_enabled: Callable[[str, str], bool] | None = None, clock: Clock = utcnow) -> None:
        self._ca = authority
        self._tls = tls
        self._acl = acl_path
        self._claim_acl = claim_acl_path or acl_path.with_name(CLAIM_ACL)
        self._repo = repo or CertificateRepository()
        self._template_enabled = template_enabled or _template_enabled
        self._clock = clock
        self._refused: set[str] | None = None

    def write(self, enabled: set[str]) -> list[str]:
        """Rewrite CRL and ACLs for the devices in `enabled` (broker usernames); names whose sessions must be cut.

        A certificate's name is its CN: `{tenant}.{device}` for one the operator issued, `cert-...` for one a
        board made through a claim (its device's topics are granted to that name), `claim-<id>` for a claim.
        """
        now = self._clock()
        allowed: dict[str, tuple[str, str]] = {}
        claims: dict[str, str] = {}
        revoked: list[tuple[int, datetime]] = []
        refused: dict[str, str] = {}
        templates: dict[tuple[str, str], bool] = {}
        for cert in self._repo.for_broker():
            name = _name(cert)
            if cert.kind == CertificateKind.CLAIM.value:
                tenant_id, _, template = (cert.template_key or "#").partition("#")
                if (tenant_id, template) not in templates:
                    templates[(tenant_id, template)] = self._template_enabled(tenant_id, template)
                if cert.status == "ACTIVE" and cert.not_after > now and templates[(tenant_id, template)]:
                    claims[name] = template
                    continue
            elif (cert.status == "ACTIVE" and cert.device_id and not cert.device_key.startswith(DELETED)
                  and mqtt_username(cert.tenant_id, cert.device_id) in enabled):
                allowed[name] = (cert.tenant_id, cert.device_id)
                continue
            revoked.append((int(cert.serial_number, 16), cert.status_changed_at))
            refused[cert.certificate_id] = name
        self._ca.write_crl(self._tls.crl_file, sorted(revoked))
        lines: list[str] = []
        for name, (tenant_id, device_id) in sorted(allowed.items()):
            lines += [f"user {name}", *(f"topic readwrite {f}" for f in device_topic_filters(tenant_id, device_id)), ""]
        claim_lines = [line for name, template in sorted(claims.items()) for line in claim_acl_lines(name, template)]
        # The certificate listener takes claims too when the plugin runs there (it does on `make run`).
        _write_private(self._acl, lines + (claim_lines if self._tls.claim_plugin is not None else []))
        _write_private(self._claim_acl, claim_lines)
        # Which thing each certificate a board made logs in as (the plugin allows that client id).
        _write_private(self._acl.with_name(claim_plugin.NAMES_FILE), [
            f"{name} {mqtt_username(*owner)}" for name, owner in sorted(allowed.items()) if name.startswith("cert-")])
        # Only certificates that newly stopped working: a name keeps its session while nothing changed.
        # (At the first write, every refused name that holds no working certificate.)
        working = set(allowed) | set(claims)
        if self._refused is None:
            cut = {name for name in refused.values() if name not in working}
        else:
            cut = {name for cid, name in refused.items() if cid not in self._refused}
        self._refused = set(refused)
        return sorted(cut)


def claim_acl_lines(name: str, template_name: str) -> list[str]:
    """A claim's rules on the claim listener: AWS's fleet-provisioning topics of its own template, nothing else.

    The broker's claim plugin rewrites these `$aws/...` topics to `$fleet/claims/...` and back;
    no line ever names `$fleet/`, so a claim can neither forge a request nor read another's answer.
    """
    provision = f"$aws/provisioning-templates/{template_name}/provision/json"
    requests = ("$aws/certificates/create/json", "$aws/certificates/create-from-csr/json", provision)
    return [f"user {name}", *(f"topic write {t}" for t in requests), *(f"topic read {t}/+" for t in requests), ""]


def _write_private(path: Path, lines: list[str]) -> None:
    """Replace an ACL file atomically, owner-only from its first byte."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    tmp.touch(mode=0o600)
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)


def _template_enabled(tenant_id: str, template_name: str) -> bool:
    from chalicelib.core.errors import NotFound
    from chalicelib.provisioning.store import TemplateRepository

    try:
        return TemplateRepository().get(tenant_id, template_name).enabled
    except NotFound:
        return False


def _name(cert: CertificateModel) -> str:
    """The broker username a certificate logs in as: its CN when a claim made it (or it is a claim), else its
    device's username (what the operator's certificates name)."""
    cn = cert.subject.removeprefix("CN=")
    if not cert.device_id or cn.startswith(CLAIM_NAMES):
        return cn
    return mqtt_username(cert.tenant_id, cert.device_id)
