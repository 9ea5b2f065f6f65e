"""Deployment packages for tests that publish functions directly with boto3."""

from __future__ import annotations

import io
import textwrap
import zipfile


def zip_of(files: dict[str, str]) -> bytes:
    """A deployment package holding ``files`` (path -> source, dedented)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in files.items():
            archive.writestr(name, textwrap.dedent(source))
    return buffer.getvalue()
