"""terraform's state lock: where it is, who holds it, and whether that run is gone.

terraform takes a lock on the state for every command that may write it and records who
took it as JSON lock info (``ID``, ``Operation``, ``Who`` as ``user@host``, ``Version``,
``Created``, ``Path``). Where that record lives depends on the backend:

- S3 with ``use_lockfile``: the object ``<key>.tflock`` beside the state;
- S3 with ``dynamodb_table``: the ``Info`` attribute of the item whose ``LockID`` is
  ``<bucket>/<key>``;
- a local state file: ``.<name>.lock.info`` beside it, while terraform holds an OS lock
  on the state file itself. The OS releases that lock when its process ends, however it
  ends, so a local lock is never stale (the info file may outlive it and means nothing).

A remote lock outlives a killed run: every later run waits for it, in vain. terraform
records no process id, so a lock is judged gone when it was taken on this host by this
user and no terraform process here uses the same state any more, or when it is older
than ``terraform.stale_lock_after`` and its holder cannot be checked (another host).

The backend's settings are read from terraform's own record of them in the data
directory (``TF_DATA_DIR/terraform.tfstate``, written by ``init`` from the configuration
and the ``backend_config`` file together), and the lock is read with boto3 with the
credentials and endpoint the backend uses, so what is read is what terraform locks.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..children import format_seconds
from ..errors import StaleLock, StateLocked

#: What terraform prints when taking the lock takes longer than a moment: another run
#: holds it, and terraform waits (up to ``-lock-timeout``).
WAIT_LINE = "Acquiring state lock. This may take a few moments..."
#: The headline of terraform's error when it did not get the lock.
LOCK_ERROR = "Error acquiring the state lock"


@dataclass(frozen=True)
class LockInfo:
    """terraform's record of one lock; ``pid`` only where the OS tells (local state)."""

    id: str
    operation: str = ""
    who: str = ""
    created: datetime | None = None
    path: str = ""
    version: str = ""
    pid: int | None = None

    @property
    def user(self) -> str:
        return self.who.rpartition("@")[0]

    @property
    def host(self) -> str:
        return self.who.rpartition("@")[2]

    def age(self, now: datetime) -> float | None:
        return None if self.created is None else (now - self.created).total_seconds()

    def describe(self, now: datetime) -> str:
        """``held by root@ci-7 since 06:12:01 UTC (3m ago) for terraform apply (lock ID
        ...)``: who, since when, doing what."""
        text = f"held by {self.who or 'an unknown holder'}"
        if self.pid is not None:
            text += f" (pid {self.pid})"
        if self.created is not None:
            age = max(0.0, self.age(now) or 0.0)
            day = "" if self.created.date() == now.date() else f"{self.created:%Y-%m-%d} "
            text += f" since {day}{self.created:%H:%M:%S} UTC ({format_seconds(age)} ago)"
        if self.operation:
            text += f" for {operation_name(self.operation)}"
        return text + f" (lock ID {self.id})"


def operation_name(operation: str) -> str:
    """``OperationTypeApply`` as ``terraform apply``; other names as terraform wrote them."""
    if operation.startswith("OperationType") and len(operation) > len("OperationType"):
        return f"terraform {operation[len('OperationType'):].lower()}"
    return operation


_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?")


def parse_time(text: str) -> datetime | None:
    """terraform's timestamps, as UTC: RFC 3339 with nanoseconds in the JSON
    (``2025-01-01T06:12:01.245252374Z``), Go's default form in its error
    (``2025-01-01 06:12:01.245252374 +0000 UTC``). Both are written in UTC."""
    match = _TIME.match(text.strip())
    if match is None:
        return None
    day, clock, fraction = match.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    try:
        return datetime.strptime(f"{day} {clock}.{micro}", "%Y-%m-%d %H:%M:%S.%f").replace(
            tzinfo=timezone.utc)
    except ValueError:
        return None


def parse_lock_info(text: str | bytes, *, pid: int | None = None) -> LockInfo | None:
    """terraform's JSON lock info, or ``None`` when ``text`` is not one."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("ID"), str):
        return None

    def value(key: str) -> str:
        found = data.get(key)
        return found if isinstance(found, str) else ""

    return LockInfo(id=data["ID"], operation=value("Operation"), who=value("Who"),
                    created=parse_time(value("Created")), path=value("Path"),
                    version=value("Version"), pid=pid)


_ERROR_FIELD = re.compile(r"^\s*(ID|Path|Operation|Who|Version|Created):\s*(.*?)\s*$")


def lock_info_from_error(output: str) -> LockInfo | None:
    """The ``Lock Info:`` block of terraform's "Error acquiring the state lock"."""
    found: dict[str, str] = {}
    inside = False
    for raw in output.splitlines():
        line = raw.lstrip("│╷╵ ").rstrip()
        if line.strip() == "Lock Info:":
            inside = True
            continue
        if inside:
            match = _ERROR_FIELD.match(line)
            if match is None:
                if found:
                    break
                continue
            found.setdefault(match.group(1), match.group(2))
    if not found.get("ID"):
        return None
    return LockInfo(id=found["ID"], operation=found.get("Operation", ""),
                    who=found.get("Who", ""), created=parse_time(found.get("Created", "")),
                    path=found.get("Path", ""), version=found.get("Version", ""))


# -- where the lock is ----------------------------------------------------------------

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


# -- is its holder gone? -----------------------------------------------------------------

def this_host() -> str:
    return socket.gethostname()


def this_user() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return ""


def terraform_processes(place: LockPlace, *, exclude: Iterable[int] = (),
                        proc: Path = Path("/proc")) -> list[int] | None:
    """This host's terraform processes that lock the same state as ``place``.

    Found by each process's own data directory (``TF_DATA_DIR``, else ``.terraform``
    in its working directory) and environment: the backend it was initialised with.
    A terraform process whose environment cannot be read counts as one that uses it.
    ``None`` when processes cannot be listed here (no ``/proc``).
    """
    try:
        entries = os.listdir(proc)
    except OSError:
        return None
    skip = set(exclude)
    found = []
    for entry in entries:
        if not entry.isdigit() or int(entry) in skip:
            continue
        try:
            exe = os.readlink(proc / entry / "exe")
        except OSError:
            continue  # gone, a zombie, or a kernel thread
        name = os.path.basename(exe).removesuffix(" (deleted)")
        if name != "terraform" and not re.fullmatch(r"terraform[\d.]*", name):
            continue
        try:
            raw = (proc / entry / "environ").read_bytes().split(b"\0")
            env = dict(item.decode(errors="replace").partition("=")[::2]
                       for item in raw if b"=" in item)
            cwd = Path(os.readlink(proc / entry / "cwd"))
        except OSError:
            found.append(int(entry))
            continue
        data_dir = cwd / env.get("TF_DATA_DIR", ".terraform")
        other = lock_place(data_dir, None, env)
        if other is not None and other.same_state(place):
            found.append(int(entry))
    return sorted(found)


def stale_reason(info: LockInfo, place: LockPlace, *, now: datetime,
                 stale_after: float | None, running: Callable[[], list[int] | None],
                 host: str | None = None, user: str | None = None) -> str | None:
    """Why the run that holds the lock is gone (or most likely so), else ``None``.

    ``running()`` lists this host's terraform processes that use the state (``None``:
    cannot tell). A local state's lock is the OS's and is never stale.
    """
    if place.kind == "local":
        return None
    host = this_host() if host is None else host
    user = this_user() if user is None else user
    if info.host and info.host == host and info.user == user:
        processes = running()
        if processes == []:
            return (f"it was taken on this host ({host}), and no terraform process here "
                    "uses this state any more: the run that took it ended without "
                    "releasing it (killed)")
        if processes:
            return None  # its holder may be one of them
    age = info.age(now)
    if stale_after and age is not None and age > stale_after:
        where = f" on {info.host}" if info.host else ""
        return (f"it is {format_seconds(age)} old, older than "
                f"lambda_gate.terraform.stale_lock_after ({format_seconds(stale_after)}): "
                f"the run{where} that took it most likely ended without releasing it "
                "(check that it is not still running before freeing the lock)")
    return None


# -- what a run says about it ---------------------------------------------------------------

def unlock_command(environment: str) -> str:
    return f"invoke unlock --env {environment}"


def waiting_message(info: LockInfo | None, place: LockPlace | None, *, timeout: float,
                    now: datetime, unreadable: str | None = None) -> str:
    head = (f"waiting up to {format_seconds(timeout)} (lambda_gate.terraform.lock_timeout) "
            "for terraform's state lock")
    if info is not None:
        return f"{head}, {info.describe(now)}" + (f", at {place.where}" if place else "")
    if unreadable:
        return f"{head}; who holds it could not be read ({unreadable})"
    return head


def stale_message(info: LockInfo, place: LockPlace, reason: str, *, now: datetime,
                  environment: str) -> str:
    return (f"terraform's state lock at {place.where} is {info.describe(now)}, and that "
            f"run is gone: {reason}. Waiting for it would never end, so nothing was "
            "applied and nothing published. Free the lock, once sure no terraform run uses "
            f"this state, with:\n  {unlock_command(environment)}")


def lost_message(info: LockInfo | None, place: LockPlace | None, *, timeout: float,
                 now: datetime) -> str:
    held = f", {info.describe(now)}" if info is not None else ""
    where = f" ({place.where})" if place is not None else ""
    waited = (f"after waiting {format_seconds(timeout)} (lambda_gate.terraform.lock_timeout)"
              if timeout > 0 else "without waiting (lambda_gate.terraform.lock_timeout is 0s)")
    return (f"another run holds terraform's state lock{where}{held}; this run gave up "
            f"{waited}. Nothing was applied and nothing published: run again once the "
            "other run is done (a longer lambda_gate.terraform.lock_timeout waits for it).")


@dataclass(frozen=True)
class LockWatch:
    """What a terraform run does about the state lock of its environment.

    While terraform waits for the lock, :meth:`waiting` says who holds it and tells
    whether that run is gone (then waiting is pointless); when terraform did not get the
    lock, :meth:`lost` is the error: :class:`StaleLock` when the holder is gone, else
    :class:`StateLocked` (a lost race).
    """

    data_dir: Path
    state_path: Path | None
    env: Mapping[str, str] = field(repr=False)
    environment: str
    stale_after: float | None = 900.0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc),
                                          repr=False)

    def place(self) -> LockPlace | None:
        return lock_place(self.data_dir, self.state_path, self.env)

    def waiting(self, timeout: float, *, exclude: Iterable[int] = ()
                ) -> tuple[str, str | None]:
        """(what to print, the stale error's message or ``None`` to go on waiting)."""
        place = self.place()
        now = self.clock()
        if place is None:
            return waiting_message(None, None, timeout=timeout, now=now), None
        try:
            info = read_lock(place, self.env)
        except LockUnreadable as exc:
            return waiting_message(None, place, timeout=timeout, now=now,
                                   unreadable=str(exc)), None
        stale = self._stale(info, place, exclude) if info is not None else None
        shown = waiting_message(info, place, timeout=timeout, now=now)
        return shown, stale

    def lost(self, output: str, timeout: float, *,
             exclude: Iterable[int] = ()) -> StateLocked | StaleLock:
        """The error for a run that did not get the lock (terraform's ``output``)."""
        place = self.place()
        info = lock_info_from_error(output)
        if place is not None and place.kind != "local":
            try:
                info = read_lock(place, self.env) or info
            except LockUnreadable:
                pass
        if info is not None and place is not None:
            stale = self._stale(info, place, exclude)
            if stale is not None:
                return StaleLock(stale)
        return StateLocked(lost_message(info, place, timeout=timeout, now=self.clock()))

    def _stale(self, info: LockInfo, place: LockPlace, exclude: Iterable[int]) -> str | None:
        """The stale error's message, when the lock is the same before and after its
        holder was looked for (a lock released and taken again meanwhile is a live one)."""
        now = self.clock()
        reason = stale_reason(info, place, now=now, stale_after=self.stale_after,
                              running=lambda: terraform_processes(place, exclude=exclude))
        if reason is None:
            return None
        try:
            again = read_lock(place, self.env)
        except LockUnreadable:
            return None
        if again is None or again.id != info.id:
            return None
        return stale_message(info, place, reason, now=now, environment=self.environment)
