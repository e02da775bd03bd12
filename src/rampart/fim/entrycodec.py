"""One `Entry` as one compact JSON line of a baseline, and back (strictly: anything unexpected is refused).

Keys are short; empty optional fields are left out. Byte strings that are printable ASCII are stored as text
(``"p": "/usr/bin/ls"``), any other as base64 under a ``64`` key (``"p64": "..."``); the same for the link
target (``l``/``l64``) and for extended attribute names (``x``/``x64``, all names of an entry one way).
Digests are hex. `decode_entry` raises `ValueError` for anything that `encode_entry` would not have written.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import orjson

from rampart.fim.model import Entry, Kind

_PRINTABLE = re.compile(rb"[\x20-\x7e]*\Z")
_KINDS = {kind.value: kind for kind in Kind}
_INTS = (
    ("m", "mode"),
    ("u", "uid"),
    ("g", "gid"),
    ("s", "size"),
    ("t", "mtime_ns"),
    ("c", "ctime_ns"),
    ("i", "inode"),
    ("d", "dev"),
    ("n", "nlink"),
)
_TEXTS = (("a", "acl"), ("cp", "caps"), ("z", "selinux"), ("e", "error"))
_COMMON = frozenset({"p", "k", "h"} | {k for k, _ in _INTS})
_KEYS = _COMMON | {"p64", "l", "l64", "x", "x64"} | {k for k, _ in _TEXTS}


def encode_entry(entry: Entry) -> bytes:
    """The JSON line (without newline) for `entry`."""
    out: dict[str, Any] = {}
    _put_bytes(out, "p", entry.path)
    out["k"] = entry.kind
    out["m"], out["u"], out["g"], out["s"] = entry.mode, entry.uid, entry.gid, entry.size
    out["t"], out["c"], out["i"] = entry.mtime_ns, entry.ctime_ns, entry.inode
    out["d"], out["n"] = entry.dev, entry.nlink
    if entry.digest is not None:
        out["h"] = entry.digest.hex()
    if entry.link is not None or entry.xattrs or entry.acl or entry.caps or entry.selinux or entry.error:
        _put_rare(out, entry)
    return orjson.dumps(out)


def _put_rare(out: dict[str, Any], entry: Entry) -> None:
    if entry.link is not None:
        _put_bytes(out, "l", entry.link)
    if entry.xattrs:
        _put_xattrs(out, entry.xattrs)
    for key, name in _TEXTS:
        text = getattr(entry, name)
        if text is not None:
            out[key] = text


def _put_bytes(out: dict[str, Any], key: str, value: bytes) -> None:
    if _PRINTABLE.match(value):
        out[key] = value.decode("ascii")
    else:
        out[key + "64"] = base64.b64encode(value).decode("ascii")


def _put_xattrs(out: dict[str, Any], xattrs: tuple[tuple[bytes, bytes], ...]) -> None:
    if all(_PRINTABLE.match(name) for name, _ in xattrs):
        out["x"] = [[name.decode("ascii"), value.hex()] for name, value in xattrs]
    else:
        out["x64"] = [[base64.b64encode(name).decode("ascii"), value.hex()] for name, value in xattrs]


def decode_entry(line: bytes) -> Entry:
    """The entry a JSON line holds; `ValueError` when the line is not exactly what `encode_entry` writes."""
    try:
        return _decode(orjson.loads(line))
    except (TypeError, KeyError, AttributeError, IndexError):
        raise ValueError("malformed entry") from None


def _decode(obj: Any) -> Entry:
    keys = obj.keys()
    get = obj.get
    link: bytes | None = None
    xattrs: tuple[tuple[bytes, bytes], ...] = ()
    acl = caps = selinux = error = None
    if keys <= _COMMON:  # the usual entry: plain path, numbers, maybe a digest
        path = get("p")
        if path[0] != "/" or "\0" in path:
            raise ValueError("bad path")
        path = path.encode("ascii")
    elif keys <= _KEYS:
        path = _path(obj)
        link, xattrs = _get_bytes(obj, "l"), _get_xattrs(obj)
        acl, caps, selinux, error = _texts(obj)
    else:
        raise ValueError("unknown field")
    ints = (get("m", 0), get("u", 0), get("g", 0), get("s", 0), get("t", 0),
            get("c", 0), get("i", 0), get("d", 0), get("n", 0))  # fmt: skip
    if type(sum(ints)) is not int:  # a str, None or list raises TypeError, a float sums to a float
        raise ValueError("a number field is not an integer")
    digest = get("h")
    if digest is not None:
        digest = _unhex(digest)
    return Entry(path, _KINDS[get("k")], *ints, link, digest, xattrs, acl, caps, selinux, error)


def _path(obj: dict[str, Any]) -> bytes:
    path = _get_bytes(obj, "p")
    if path is None or not path.startswith(b"/") or b"\0" in path:
        raise ValueError("bad path")
    return path


def _texts(obj: dict[str, Any]) -> tuple[str | None, ...]:
    values = tuple(obj.get(key) for key, _ in _TEXTS)
    if not all(value is None or type(value) is str for value in values):
        raise ValueError("a text field is not text")
    return values


def _kind(value: object) -> Kind:
    if type(value) is not str or value not in _KINDS:
        raise ValueError("bad kind")
    return _KINDS[value]


def _get_bytes(obj: dict[str, Any], key: str) -> bytes | None:
    plain, encoded = obj.get(key), obj.get(key + "64")
    if plain is not None and encoded is None and type(plain) is str:
        return plain.encode("ascii")
    if encoded is not None and plain is None and type(encoded) is str:
        return _unbase64(encoded)
    if plain is None and encoded is None:
        return None
    raise ValueError(f"bad {key}")


def _get_xattrs(obj: dict[str, Any]) -> tuple[tuple[bytes, bytes], ...]:
    plain, encoded = obj.get("x"), obj.get("x64")
    if plain is not None and encoded is not None:
        raise ValueError("both x and x64")
    pairs = plain if plain is not None else encoded
    if pairs is None:
        return ()
    if type(pairs) is not list or not pairs:
        raise ValueError("bad xattrs")
    name_of = _ascii if plain is not None else _unbase64
    return tuple(_xattr(pair, name_of) for pair in pairs)


def _xattr(pair: Any, name_of: Any) -> tuple[bytes, bytes]:
    if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
        raise ValueError("bad xattr")
    name: bytes = name_of(pair[0])
    return name, _unhex(pair[1])


def _ascii(text: str) -> bytes:
    return text.encode("ascii")


def _unbase64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("bad base64") from None


def _unhex(text: object) -> bytes:
    if type(text) is not str:
        raise ValueError("bad hex")
    try:
        return binascii.unhexlify(text)
    except binascii.Error:
        raise ValueError("bad hex") from None
