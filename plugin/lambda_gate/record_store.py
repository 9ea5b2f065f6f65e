"""Where an environment's deploy records live: this machine, and S3 when shared.

CI jobs start in fresh clones, so the evidence that a version passed its smoke tests
must outlive the job that produced it. With ``environments.<name>.records_url``
(``s3://bucket/prefix/``) every record is also written to
``<prefix>records/<name>.json``, the last apply's outputs to ``<prefix>last-apply.json``,
and the records are read back from there, by any machine, with the environment's own
credentials. Without it the local directory is the only store, as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import records
from .aws import AwsTarget
from .errors import Error
from .settings import LAST_APPLY, Settings

_SCHEME = "s3://"


class RecordStoreError(Error):
    """The shared records cannot be read or written."""


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix/`` -> ``("bucket", "prefix/")`` (the prefix may be empty)."""
    bucket, _, prefix = url[len(_SCHEME):].partition("/")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


@dataclass(frozen=True)
class RecordStore:
    """The environment's records: always the local directory, plus S3 when configured."""

    directory: Path
    url: str | None = None
    target: AwsTarget | None = None

    @property
    def shared(self) -> bool:
        return self.url is not None and self.target is not None

    def _s3(self):
        assert self.target is not None
        return self.target.client("s3")

    def _where(self) -> tuple[str, str]:
        assert self.url is not None
        return parse_url(self.url)

    def write(self, record: records.DeployRecord) -> Path:
        """Write locally, then to S3; a failed upload is an error naming the bucket."""
        path = records.write(record, self.directory)
        if self.shared:
            bucket, prefix = self._where()
            self._put(bucket, f"{prefix}records/{path.name}", record.to_json())
        return path

    def write_last_apply(self, data: dict[str, Any]) -> None:
        if self.shared:
            bucket, prefix = self._where()
            self._put(bucket, f"{prefix}{LAST_APPLY}", json.dumps(data))

    def last_apply(self) -> dict[str, Any] | None:
        """The last apply's summary from S3 (``None`` when absent or not shared)."""
        if not self.shared:
            return None
        bucket, prefix = self._where()
        body = self._get(bucket, f"{prefix}{LAST_APPLY}")
        try:
            return json.loads(body) if body is not None else None
        except ValueError:
            return None

    def passing(self, function: str, version: str) -> records.DeployRecord | None:
        """The newest record showing ``function:version`` passed its smoke tests."""
        for record in self._newest_first(lambda name: f"-{version}-" in name):
            if (record.function == function and record.version == version
                    and record.smoke_passed):
                return record
        return None

    def records_of(self, function: str, version: str) -> Iterator[records.DeployRecord]:
        """Every record of ``function:version``, newest first."""
        for record in self._newest_first(lambda name: f"-{version}-" in name):
            if record.function == function and record.version == version:
                yield record

    def passing_versions(self, function: str, among: Collection[str]) -> frozenset[str]:
        """Which of ``among`` (versions of ``function``) a record shows passed.

        One listing for all of them, not one :meth:`passing` a version (a prune asks
        about hundreds); from S3 only the records whose names carry one of ``among``
        are read, so records of versions deleted long ago cost nothing.
        """
        wanted = set(among)
        found = set()
        for record in self._newest_first(lambda name: not wanted.isdisjoint(name.split("-"))):
            if (record.function == function and record.version in wanted
                    and record.smoke_passed):
                found.add(record.version)
        return frozenset(found)

    def passing_for_commit(self, function: str, commit: str) -> records.DeployRecord | None:
        """The newest record of a passing smoke run of ``function`` built from ``commit``."""
        for record in self._newest_first(lambda name: True):
            if (record.function == function and record.git_commit == commit
                    and record.smoke_passed and record.version):
                return record
        return None

    def moves(self, function: str, alias: str) -> dict[str, float]:
        """When ``alias`` last moved to each version (promoted or rolled back to)."""
        moved: dict[str, float] = {}
        for record in self._newest_first(lambda name: True):
            if (record.function == function and record.alias == alias
                    and record.outcome in records.MOVED and record.alias_after):
                moved.setdefault(record.alias_after, record.started_at)
        return moved

    def _newest_first(self, wanted: Callable[[str], bool]) -> Iterator[records.DeployRecord]:
        """Records, newest first; from S3 only those whose file name is ``wanted`` (a
        name is ``<time>-[<key>-]<version>-<outcome>.json``: a cheap filter before a
        GET, the record itself has the last word)."""
        if not self.shared:
            yield from reversed(records.load_all(self.directory))
            return
        bucket, prefix = self._where()
        keys = sorted((key for key in self._keys(bucket, f"{prefix}records/")
                       if wanted(key.rsplit("/", 1)[-1])), reverse=True)
        for key in keys:
            try:
                record = records.from_json(json.loads(self._get(bucket, key) or ""))
            except ValueError:
                continue
            if record is not None:  # a malformed record is no record
                yield record

    # -- S3 ---------------------------------------------------------------------------

    def _fail(self, action: str, exc: Exception) -> RecordStoreError:
        return RecordStoreError(
            f"cannot {action} the deploy records at {self.url} "
            f"(lambda_gate.environments.<name>.records_url): {exc}. Check that the bucket "
            "exists and this environment's credentials may read and write it.")

    def _put(self, bucket: str, key: str, body: str) -> None:
        try:
            self._s3().put_object(Bucket=bucket, Key=key, Body=body.encode(),
                                  ContentType="application/json")
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("write", exc) from None

    def _get(self, bucket: str, key: str) -> str | None:
        try:
            return self._s3().get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise self._fail("read", exc) from None
        except BotoCoreError as exc:
            raise self._fail("read", exc) from None

    def _keys(self, bucket: str, prefix: str) -> Iterator[str]:
        try:
            pages = self._s3().get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                         Prefix=prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"]
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("list", exc) from None


def for_settings(settings: Settings, target: AwsTarget | None) -> RecordStore:
    """The store of the settings' environment, reached through ``target``."""
    return RecordStore(settings.records_dir, settings.environment.records_url, target)
