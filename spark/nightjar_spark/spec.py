"""Job spec loading and URI helpers."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlparse


def is_file_uri(uri: str) -> bool:
    return uri.startswith("file:")


def is_local(path_or_uri: str) -> bool:
    """True for a `file:` URI or a plain path (no scheme)."""
    if is_file_uri(path_or_uri):
        return True
    scheme = urlparse(path_or_uri).scheme
    # A single letter is a Windows drive, not a scheme.
    return scheme == "" or len(scheme) == 1


def local_path(path_or_uri: str) -> str:
    """The local file-system path of a `file:` URI, or the argument when it is a plain path."""
    if is_file_uri(path_or_uri):
        parsed = urlparse(path_or_uri)
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"file URI with a remote host is not supported: {path_or_uri}")
        return unquote(parsed.path)
    if not is_local(path_or_uri):
        raise ValueError(f"not a local path or file URI: {path_or_uri}")
    return path_or_uri


def spark_path(path_or_uri: str) -> str:
    """What to hand to Spark's readers and writers. Hadoop does not decode percent escapes,
    so a `file:` URI becomes `file://` + its decoded path; other URIs are passed unchanged."""
    if is_file_uri(path_or_uri):
        return "file://" + local_path(path_or_uri)
    return path_or_uri


def join_uri(base: str, *parts: str) -> str:
    """`base/part1/part2`, without doubling the separator."""
    out = base.rstrip("/")
    for part in parts:
        out += "/" + part.strip("/")
    return out


def load_spec(path_or_uri: str) -> dict[str, Any]:
    """Reads the spec JSON from a local path or a `file:` URI and checks the common fields."""
    with open(local_path(path_or_uri), "r", encoding="utf-8") as fh:
        spec = json.load(fh)
    if not isinstance(spec, dict):
        raise ValueError("spec must be a JSON object")
    missing = [
        k
        for k in ("job", "attemptId", "businessDate", "reportingCurrency", "outputUri", "resultUri", "catalog")
        if k not in spec
    ]
    if missing:
        raise ValueError(f"spec is missing {', '.join(missing)}")
    return spec
