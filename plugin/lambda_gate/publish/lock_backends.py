"""Where terraform records a state's lock, per backend, and reading that record now.

- S3 with ``use_lockfile``: the object ``<key>.tflock`` beside the state;
- S3 with ``dynamodb_table``: the ``Info`` attribute of the item whose ``LockID`` is
  ``<bucket>/<key>``;
- a local state file: ``.<name>.lock.info`` beside it, while terraform holds an OS lock
  on the state file itself. The OS releases that lock when its process ends, however it
  ends, so the kernel's table of locks says whether anyone holds it (the info file may
  outlive it and means nothing).

The backend's settings are read from terraform's own record of them in the data
directory (``TF_DATA_DIR/terraform.tfstate``, written by ``init`` from the configuration
and the ``backend_config`` file together), and the lock is read with boto3 with the
credentials and endpoint the backend uses, so what is read is what terraform locks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .lock_info import LockInfo, parse_lock_info


@dataclass(frozen=True)
class LockPlace:
    """Where one state's lock is recorded, and how to read it.

    ``kind`` is ``s3`` (``bucket``/``key`` of the ``.tflock`` object), ``dynamodb``
    (``table``, ``key`` the item's LockID) or ``local`` (``state`` the state file).
    Credentials are the backend's own, never shown.
    """

    kind: str
    key: str = ""
    bucket: str = ""
    table: str = ""
    state: Path | None = None
    region: str | None = None
    endpoint: str | None = None
    path_style: bool = False
    profile: str | None = field(default=None, repr=False)
    credentials: tuple[str, str, str | None] | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        if self.kind == "s3":
            return f"s3://{self.bucket}/{self.key}"
        if self.kind == "dynamodb":
            return f"DynamoDB table {self.table}, LockID {self.key}"
        return str(self.info_file)

    @property
    def info_file(self) -> Path | None:
        """A local state's lock info file (terraform's ``.<name>.lock.info``)."""
        return None if self.state is None else _info_file(self.state)

    def same_state(self, other: LockPlace) -> bool:
        """Whether ``other`` locks the same state (credentials aside)."""
        return ((self.kind, self.bucket, self.key, self.table, self.state,
                 (self.endpoint or "").rstrip("/"))
                == (other.kind, other.bucket, other.key, other.table, other.state,
                    (other.endpoint or "").rstrip("/")))


def backend_record(data_dir: Path) -> Mapping[str, Any] | None:
    """The backend terraform was initialised with in ``data_dir``: type and settings."""
    try:
        backend = json.loads((data_dir / "terraform.tfstate").read_text()).get("backend")
    except (OSError, ValueError, AttributeError):
        return None
    return backend if isinstance(backend, dict) else None


def _text(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    return value if isinstance(value, str) and value else None


def lock_place(data_dir: Path, state_path: Path | None,
               env: Mapping[str, str]) -> LockPlace | None:
    """Where terraform, run with ``data_dir`` and ``env``, records its state lock.

    ``state_path``: a local state file given with ``-state``. ``None`` when the backend
    keeps no lock lambda-gate can read (another backend type, S3 without locking).
    """
    if state_path is not None:
        return LockPlace("local", state=state_path)
    backend = backend_record(data_dir)
    if backend is None:
        return None
    config = backend.get("config") or {}
    if backend.get("type") == "local":
        path = _text(config, "path") or "terraform.tfstate"
        return LockPlace("local", state=Path(path))
    if backend.get("type") != "s3":
        return None
    bucket, key = _text(config, "bucket"), _text(config, "key")
    if not bucket or not key:
        return None
    endpoints = config.get("endpoints") if isinstance(config.get("endpoints"), dict) else {}
    region = (_text(config, "region") or env.get("AWS_REGION")
              or env.get("AWS_DEFAULT_REGION"))
    access, secret = _text(config, "access_key"), _text(config, "secret_key")
    credentials = (access, secret, _text(config, "token")) if access and secret else None
    common: dict[str, Any] = {"region": region, "profile": _text(config, "profile"),
                              "credentials": credentials}
    if config.get("use_lockfile") is True:
        endpoint = (_text(endpoints, "s3") or _text(config, "endpoint")
                    or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL"))
        return LockPlace("s3", bucket=bucket, key=f"{key}.tflock", endpoint=endpoint,
                         path_style=bool(config.get("use_path_style")
                                         or config.get("force_path_style")), **common)
    table = _text(config, "dynamodb_table")
    if table:
        endpoint = (_text(endpoints, "dynamodb") or _text(config, "dynamodb_endpoint")
                    or env.get("AWS_ENDPOINT_URL_DYNAMODB") or env.get("AWS_ENDPOINT_URL"))
        return LockPlace("dynamodb", table=table, key=f"{bucket}/{key}", endpoint=endpoint,
                         **common)
    return None


# -- reading it -------------------------------------------------------------------------

class LockUnreadable(Exception):
    """The lock's record could not be read (no access, no network); the reason."""


def _session(place: LockPlace, env: Mapping[str, str]):
    """A boto3 session with the credentials the backend uses: its own settings first,
    then those of terraform's environment (not lambda-gate's own)."""
    import boto3

    if place.credentials is not None:
        access, secret, token = place.credentials
        return boto3.Session(aws_access_key_id=access, aws_secret_access_key=secret,
                             aws_session_token=token, region_name=place.region)
    profile = place.profile or env.get("AWS_PROFILE")
    if profile:
        return boto3.Session(profile_name=profile, region_name=place.region)
    access, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if access and secret:
        return boto3.Session(aws_access_key_id=access, aws_secret_access_key=secret,
                             aws_session_token=env.get("AWS_SESSION_TOKEN"),
                             region_name=place.region)
    return boto3.Session(region_name=place.region)


def read_lock(place: LockPlace, env: Mapping[str, str]) -> LockInfo | None:
    """The lock's record now, or ``None`` when nothing holds the lock.

    Raises :class:`LockUnreadable` when it cannot be told.
    """
    if place.kind == "local":
        return _read_local(place)
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2},
                    s3={"addressing_style": "path" if place.path_style else "auto"})
    try:
        session = _session(place, env)
        if place.kind == "s3":
            s3 = session.client("s3", endpoint_url=place.endpoint, config=config)
            try:
                body = s3.get_object(Bucket=place.bucket, Key=place.key)["Body"].read()
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return None
                raise
        else:
            table = session.client("dynamodb", endpoint_url=place.endpoint, config=config)
            item = table.get_item(TableName=place.table,
                                  Key={"LockID": {"S": place.key}}).get("Item") or {}
            body = (item.get("Info") or {}).get("S")
            if not body:
                return None
    except (BotoCoreError, ClientError) as exc:
        raise LockUnreadable(str(exc)) from None
    info = parse_lock_info(body)
    if info is None:
        raise LockUnreadable(f"{place.where} does not hold terraform's lock info")
    return info


def _read_local(place: LockPlace) -> LockInfo | None:
    assert place.state is not None and place.info_file is not None
    holder = local_lock_holder(place.state)
    if holder is None:
        return None  # whatever the info file says, nobody holds the state file's lock
    try:
        text = place.info_file.read_text()
    except OSError:
        text = ""
    pid = holder if holder > 0 else None
    return parse_lock_info(text, pid=pid) or LockInfo(id="", pid=pid)


def local_lock_holder(state: Path, locks: Path = Path("/proc/locks")) -> int | None:
    """The process holding terraform's OS lock on a local state file, from the kernel's
    table of locks: its pid, ``None`` when none holds it, ``0`` when it cannot be told
    (no such table on this system: then the lock info file is all there is)."""
    try:
        stat = state.stat()
    except OSError:
        return None
    try:
        table = locks.read_text()
    except OSError:
        return 0 if _info_file(state).is_file() else None
    device = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}"
    for line in table.splitlines():
        fields_ = line.split()
        if len(fields_) < 6 or fields_[1] == "->":  # a waiter, not a holder
            continue
        pid, where = fields_[4], fields_[5]
        dev, _, inode = where.rpartition(":")
        if (inode == str(stat.st_ino) and dev.lower() == device and pid.isdigit()):
            return int(pid)
    return None


def _info_file(state: Path) -> Path:
    return state.parent / f".{state.name}.lock.info"
