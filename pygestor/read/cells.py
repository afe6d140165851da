"""Cells of a preview made JSON-safe, and the kind of each column (what a page shows it as).

Kinds: "image" and "audio" (shown as media), "json" (a JSON string, parsed), "text" (strings) and
"value" (the rest). They come from the manifest's `load.decode` first, then from the Hugging Face
feature metadata a parquet file carries (schema metadata `huggingface`:
`{"info": {"features": {column: {"_type": "Image"}}}}`, or "Audio"), then from the type.

Cells (`json_safe`): an image or audio cell (a struct `{bytes, path}` or plain bytes) becomes
`{"media": "image"|"audio", "mime": sniffed from its first bytes (None if unknown),
"base64": ..., "size": bytes, "path": ...}`; other bytes a string `"base64:..."`; dates and times
ISO 8601 text; decimals, durations and non-finite floats text. Pure: values in, values out.
"""

from __future__ import annotations

import base64
import datetime
import json
import math
from collections.abc import Mapping
from typing import Any

BYTES_MARK = "base64:"  # what starts a bytes cell that is not media

#: magic bytes -> MIME type, in the order they are tried
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (8, b"WEBP", "image/webp"),
    (8, b"WAVE", "audio/wav"),
    (0, b"fLaC", "audio/flac"),
    (0, b"OggS", "audio/ogg"),
    (0, b"ID3", "audio/mpeg"),
)
_FEATURE_KINDS = {"Image": "image", "Audio": "audio"}


def sniff(data: bytes) -> str | None:
    """The MIME type of media bytes from their magic number (png, jpeg, gif, webp, wav, flac,
    ogg, mp3); None when none matches."""
    for at, magic, mime in _MAGIC:
        if data[at : at + len(magic)] == magic and (at == 0 or data[:4] == b"RIFF"):
            return mime
    if len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0:  # an MPEG audio frame
        return "audio/mpeg"
    return None


def feature_kinds(metadata: Mapping[bytes, bytes] | None) -> dict[str, str]:
    """column -> "image" / "audio" from a parquet file's Hugging Face feature metadata (nothing
    when it is absent or unreadable)."""
    try:
        features = json.loads((metadata or {})[b"huggingface"])["info"]["features"]
    except (KeyError, TypeError, ValueError):
        return {}
    if not isinstance(features, dict):
        return {}
    return {
        str(name): _FEATURE_KINDS[feature["_type"]]
        for name, feature in features.items()
        if isinstance(feature, dict) and feature.get("_type") in _FEATURE_KINDS
    }


def kind_of(
    name: str, type_name: str, decode: Mapping[str, str], features: Mapping[str, str]
) -> str:
    """The kind of column `name` whose type is `type_name` (Arrow's spelling)."""
    if name in decode:
        return decode[name]
    if name in features:
        return features[name]
    return "text" if type_name in ("string", "large_string", "string_view") else "value"


def python_type(values: list[Any]) -> str:
    """A type name for a column of a text format, from its first value that is not None."""
    first = next((v for v in values if v is not None), None)
    names = {bool: "bool", int: "int64", float: "double", str: "string", dict: "struct"}
    return "list" if isinstance(first, list) else names.get(type(first), "null")


def cell(value: Any, kind: str) -> Any:
    """One cell of a column of `kind`, JSON-safe."""
    if kind in ("image", "audio"):
        return media(value, kind)
    if kind == "json" and isinstance(value, str):
        try:
            return json_safe(json.loads(value))
        except ValueError:
            return value
    return json_safe(value)


def media(value: Any, kind: str) -> Any:
    """An image or audio cell (`{bytes, path}` or bytes) as a media record; None stays None and
    a value of another shape is kept as it is (JSON-safe)."""
    data, path = value, None
    if isinstance(value, dict) and "bytes" in value:
        data, path = value["bytes"], value.get("path")
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        encoded: str | None = base64.b64encode(raw).decode("ascii")
    elif data is None and path is not None:
        raw, encoded = b"", None  # an image referenced by path only
    else:
        return json_safe(value)
    return {"media": kind, "mime": sniff(raw), "base64": encoded, "size": len(raw), "path": path}


def json_safe(value: Any) -> Any:
    """`value` as what `json.dumps` takes and a browser parses back."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return BYTES_MARK + base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return str(value)  # decimals, durations, anything else
