"""Whether the run that holds terraform's state lock is gone, and what a run says.

A remote lock outlives a killed run: every later run waits for it, in vain. terraform
records no process id, so a lock is judged gone when it was taken on this host by this
user and no terraform process here uses the same state any more, or when it is older
than ``terraform.stale_lock_after`` and its holder cannot be checked (another host). A
local state's lock is the OS's, released when its process ends: never stale.

:class:`LockWatch` is what a terraform run uses while it waits for the lock and when it
did not get it; the record itself is found by :mod:`.lock_backends` and read by
:mod:`.lock_info`.
"""

from __future__ import annotations

import os
import pwd
import re
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..children import format_seconds
from ..errors import StaleLock, StateLocked
from .lock_backends import LockPlace, LockUnreadable, lock_place, read_lock
from .lock_info import LockInfo, lock_info_from_error

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
