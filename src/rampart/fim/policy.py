"""What fim watches: rules (a path and the attributes watched below it), excludes, and the hash; the policy file.

A policy file is YAML (at most 1 MiB)::

    version: 1
    hash: blake3              # or sha256
    groups:                   # optional: named attribute sets besides the built-in ones
      strict: [type, mode, owner, group, hash]
    rules:                    # the most specific rule (component-wise) decides a path's attributes
      - {path: /usr/bin, group: full}
      - {path: /var/log, group: log}
    exclude:                  # an excluded path is not read, nor anything below it
      - glob: /var/cache      # ``*`` and ``?`` stay within one component, ``**`` crosses ``/``
      - regex: '\\.swp$'      # re.search on the path (undecodable bytes as surrogates)

Built-in groups: ``full`` and ``config`` (every attribute but ``growing``), ``log`` (type, mode, owner, group,
growing, inode) and ``dir`` (type, mode, owner, group, xattrs, acl, selinux). Anything else in the file (an
unknown key, attribute or group, a relative path, a bad regex, a wrong type) is a `PolicyFileError` whose one
line names the file and the place.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml

from rampart.errors import PolicyFileError
from rampart.fim.model import Attr, HashName
from rampart.fim.order import path_key

MAX_POLICY_BYTES = 1 << 20
MAX_ITEMS = 10_000
MAX_PATTERN_CHARS = 4096

FULL = frozenset(Attr) - {Attr.GROWING}
BUILTIN_GROUPS: Mapping[str, frozenset[Attr]] = {
    "full": FULL,
    "config": FULL,
    "log": frozenset({Attr.TYPE, Attr.MODE, Attr.OWNER, Attr.GROUP, Attr.GROWING, Attr.INODE}),
    "dir": frozenset({Attr.TYPE, Attr.MODE, Attr.OWNER, Attr.GROUP, Attr.XATTRS, Attr.ACL, Attr.SELINUX}),
}

DEFAULT_POLICY = """\
# rampart fim default policy: a Debian, Ubuntu or Amazon Linux host.
# Programs, libraries, boot files, configuration and root's SSH keys: every attribute, content by hash.
# Logs: ownership and mode, and they may only grow (a shrink is a change: truncated or rotated by hand).
# Byte-code caches, ld.so.cache and the like stay watched: rampart explains their changes as generated.
version: 1
hash: blake3
rules:
  - {path: /bin, group: full}
  - {path: /sbin, group: full}
  - {path: /usr/bin, group: full}
  - {path: /usr/sbin, group: full}
  - {path: /usr/lib, group: full}
  - {path: /usr/lib64, group: full}
  - {path: /usr/libexec, group: full}
  - {path: /usr/local/bin, group: full}
  - {path: /usr/local/sbin, group: full}
  - {path: /lib, group: full}
  - {path: /lib64, group: full}
  - {path: /boot, group: full}
  - {path: /etc, group: config}
  - {path: /opt, group: full}
  - {path: /root/.ssh, group: full}
  - {path: /var/log, group: log}
exclude:
  # virtual and scratch filesystems, caches
  - glob: /proc
  - glob: /sys
  - glob: /dev
  - glob: /run
  - glob: /tmp
  - glob: /var/tmp
  - glob: /var/cache
  - glob: /var/lib/apt/lists
  # rewritten by the system on its own
  - glob: /etc/mtab
  - glob: /etc/adjtime
"""


@dataclass(frozen=True)
class Rule:
    """Below ``path`` (and at it), watch ``attrs``; ``group`` is the name the attributes came from."""

    path: bytes
    attrs: frozenset[Attr]
    group: str


@dataclass(frozen=True)
class Policy:
    """Rules, excludes and the content hash; answers which rule governs a path and whether it is excluded."""

    rules: tuple[Rule, ...]
    exclude_globs: tuple[str, ...]
    exclude_regexes: tuple[str, ...]
    hash: HashName = HashName.BLAKE3

    @cached_property
    def by_path(self) -> dict[bytes, Rule]:
        """Each rule by its path."""
        return {rule.path: rule for rule in self.rules}

    @cached_property
    def _literal_globs(self) -> frozenset[bytes]:
        return frozenset(os.fsencode(g) for g in self.exclude_globs if not _is_pattern(g))

    @cached_property
    def _pattern_globs(self) -> re.Pattern[str] | None:
        parts = [glob_regex(g) for g in self.exclude_globs if _is_pattern(g)]
        return re.compile("|".join(f"(?:{p})" for p in parts), re.DOTALL) if parts else None

    @cached_property
    def _regexes(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(r) for r in self.exclude_regexes)

    def rule_for(self, path: bytes) -> Rule | None:
        """The most specific rule whose path is ``path`` or one of its parents, component-wise."""
        rules = self.by_path
        while True:
            rule = rules.get(path)
            if rule is not None or path in (b"/", b""):
                return rule
            path = path.rpartition(b"/")[0] or b"/"

    @cached_property
    def excluded_test(self) -> Callable[[bytes], bool]:
        """`excluded`, or the same answer as a plain set lookup when every exclude is a literal path (a walk
        asks it of every path)."""
        if self._pattern_globs is None and not self._regexes:
            return self._literal_globs.__contains__
        return self.excluded

    def excluded(self, path: bytes) -> bool:
        """Whether ``path`` itself matches an exclude (walks never go below an excluded directory)."""
        if path in self._literal_globs:
            return True
        if self._pattern_globs is None and not self._regexes:
            return False
        text = os.fsdecode(path)
        if self._pattern_globs is not None and self._pattern_globs.fullmatch(text):
            return True
        return any(r.search(text) for r in self._regexes)

    def roots(self) -> list[bytes]:
        """The rule paths that are not below another rule path, in canonical order: where walks start."""
        roots: list[bytes] = []
        for path in sorted(self.by_path, key=path_key):
            if not roots or not is_below(path, roots[-1]):
                roots.append(path)
        return roots

    def rules_below(self, path: bytes) -> list[bytes]:
        """The topmost rule paths strictly below ``path``, in canonical order (walks resume there)."""
        below: list[bytes] = []
        for rule_path in sorted((p for p in self.by_path if is_below(p, path)), key=path_key):
            if not below or not is_below(rule_path, below[-1]):
                below.append(rule_path)
        return below

    def digest(self) -> str:
        """SHA-256 (hex) of a canonical JSON form: equal policies, equal digests, whatever their file looked like."""
        doc = {
            "hash": str(self.hash),
            "rules": [
                {"path": os.fsdecode(r.path), "group": r.group, "attrs": sorted(str(a) for a in r.attrs)}
                for r in sorted(self.rules, key=lambda r: path_key(r.path))
            ],
            "exclude_globs": list(self.exclude_globs),
            "exclude_regexes": list(self.exclude_regexes),
        }
        canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(canonical.encode("ascii")).hexdigest()

    def to_yaml(self) -> str:
        """A policy file that `parse_policy` reads back into an equal policy (stored in baselines)."""
        groups: dict[str, list[str]] = {}
        rules: list[dict[str, str]] = []
        for rule in self.rules:
            name = rule.group
            if BUILTIN_GROUPS.get(name) != rule.attrs:
                name = f"{name}-custom" if name in BUILTIN_GROUPS else name
                groups[name] = sorted(str(a) for a in rule.attrs)
            rules.append({"path": os.fsdecode(rule.path), "group": name})
        doc: dict[str, object] = {"version": 1, "hash": str(self.hash)}
        if groups:
            doc["groups"] = groups
        doc["rules"] = rules
        excludes = [{"glob": g} for g in self.exclude_globs] + [{"regex": r} for r in self.exclude_regexes]
        if excludes:
            doc["exclude"] = excludes
        return yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=1 << 16)


def is_below(path: bytes, parent: bytes) -> bool:
    """Whether ``path`` is strictly below ``parent``, component-wise."""
    if parent == b"/":
        return path != b"/" and path.startswith(b"/")
    return path.startswith(parent + b"/")


def _is_pattern(glob: str) -> bool:
    return any(c in glob for c in "*?[")


def glob_regex(glob: str) -> str:
    """A regex (for fullmatch) equivalent to ``glob``: ``**`` crosses ``/``, ``*``, ``?`` and ``[...]`` do not."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            piece, i = _glob_piece(glob, i)
            out.append(piece)
    return "".join(out)


def _glob_piece(glob: str, i: int) -> tuple[str, int]:
    c = glob[i]
    if c == "*":
        return "[^/]*", i + 1
    if c == "?":
        return "[^/]", i + 1
    end = glob.find("]", i + 2) if c == "[" else -1
    if end < 0:
        return re.escape(c), i + 1
    body = glob[i + 1 : end]
    negate = body.startswith("!")
    body = body[1:] if negate else body
    escaped = body.replace("\\", "\\\\").replace("^", "\\^").replace("[", "\\[")
    return f"(?!/)[{'^' if negate else ''}{escaped}]", end + 1


def load_policy(path: Path | None) -> Policy:
    """The policy in the YAML file at ``path`` (`DEFAULT_POLICY` when None); `PolicyFileError` when malformed."""
    if path is None:
        return parse_policy(DEFAULT_POLICY, "built-in policy")
    return parse_policy(_read_capped(path), str(path))


def _read_capped(path: Path) -> str:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise PolicyFileError(f"{path}: cannot read the policy file: {exc.strerror or exc}") from None
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyFileError(f"{path}: larger than {MAX_POLICY_BYTES} bytes: not a policy file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyFileError(f"{path}: byte {exc.start}: not UTF-8 text") from None


def parse_policy(text: str, source: str) -> Policy:
    """The policy in YAML ``text``; ``source`` names it in errors."""
    doc = _parse_yaml(text, source)
    return _Builder(source).policy(doc)


def _parse_yaml(text: str, source: str) -> object:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "somewhere"
        raise PolicyFileError(f"{source}: {where}: {_one_line(exc.problem or exc.context)}") from None
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError) as exc:
        raise PolicyFileError(f"{source}: not valid YAML: {_one_line(exc)}") from None


def _one_line(value: object, limit: int = 120) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show(value: object) -> str:
    return _one_line(repr(value), 80)


class _Builder:
    """Checks a parsed document piece by piece; every failure names ``source`` and the place."""

    TOP_KEYS = ("version", "hash", "groups", "rules", "exclude")

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, place: str, problem: str) -> PolicyFileError:
        return PolicyFileError(f"{self.source}: {place}: {problem}")

    def policy(self, doc: object) -> Policy:
        top = self.mapping(doc, "top level", self.TOP_KEYS)
        version = top.get("version")
        if type(version) is not int or version != 1:
            raise self.fail("version", f"must be 1, not {_show(version)}")
        groups = self.groups(top.get("groups", {}))
        rules = self.rules(top.get("rules"), groups)
        globs, regexes = self.excludes(top.get("exclude", []))
        return Policy(rules, globs, regexes, self.hash(top.get("hash", "blake3")))

    def mapping(self, value: object, place: str, keys: Iterable[str]) -> dict[str, object]:
        if not isinstance(value, dict):
            raise self.fail(place, f"must be a mapping, not {_kind(value)}")
        allowed = set(keys)
        for key in value:
            if not isinstance(key, str) or key not in allowed:
                raise self.fail(place, f"unknown key {_show(key)} (known: {', '.join(sorted(allowed))})")
        return value

    def sequence(self, value: object, place: str) -> list[object]:
        if not isinstance(value, list):
            raise self.fail(place, f"must be a list, not {_kind(value)}")
        if len(value) > MAX_ITEMS:
            raise self.fail(place, f"more than {MAX_ITEMS} items")
        return value

    def string(self, value: object, place: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(place, f"must be a non-empty string, not {_show(value)}")
        if "\0" in value or len(value) > MAX_PATTERN_CHARS:
            raise self.fail(place, "contains a NUL character or is too long")
        return value

    def hash(self, value: object) -> HashName:
        if not isinstance(value, str) or value not in {h.value for h in HashName}:
            raise self.fail(
                "hash", f"must be one of {', '.join(h.value for h in HashName)}, not {_show(value)}"
            )
        return HashName(str(value))

    def groups(self, value: object) -> dict[str, frozenset[Attr]]:
        if not isinstance(value, dict):
            raise self.fail("groups", f"must be a mapping, not {_kind(value)}")
        groups = dict(BUILTIN_GROUPS)
        for name, attrs in value.items():
            place = f"groups.{_one_line(name, 40)}"
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
                raise self.fail(place, "a group name is 1 to 64 letters, digits, '_', '.' or '-'")
            if name in BUILTIN_GROUPS:
                raise self.fail(place, "a built-in group cannot be redefined")
            groups[name] = self.attrs(attrs, place)
        return groups

    def attrs(self, value: object, place: str) -> frozenset[Attr]:
        known = {a.value for a in Attr}
        attrs: set[Attr] = set()
        for i, item in enumerate(self.sequence(value, place)):
            if not isinstance(item, str) or item not in known:
                raise self.fail(
                    f"{place}[{i}]", f"unknown attribute {_show(item)} (known: {', '.join(sorted(known))})"
                )
            attrs.add(Attr(item))
        return frozenset(attrs)

    def rules(self, value: object, groups: Mapping[str, frozenset[Attr]]) -> tuple[Rule, ...]:
        if value is None:
            raise self.fail("rules", "missing: a policy needs at least one rule")
        rules: dict[bytes, Rule] = {}
        for i, item in enumerate(self.sequence(value, "rules")):
            rule = self.rule(item, f"rules[{i}]", groups)
            if rule.path in rules:
                raise self.fail(f"rules[{i}].path", f"{_show(os.fsdecode(rule.path))} already has a rule")
            rules[rule.path] = rule
        if not rules:
            raise self.fail("rules", "empty: a policy needs at least one rule")
        return tuple(rules.values())

    def rule(self, value: object, place: str, groups: Mapping[str, frozenset[Attr]]) -> Rule:
        item = self.mapping(value, place, ("path", "group"))
        if "path" not in item:
            raise self.fail(place, "missing key 'path'")
        path = self.path(item["path"], f"{place}.path")
        group = self.string(item.get("group", "full"), f"{place}.group")
        if group not in groups:
            raise self.fail(
                f"{place}.group", f"unknown group {_show(group)} (known: {', '.join(sorted(groups))})"
            )
        return Rule(path, groups[group], group)

    def path(self, value: object, place: str) -> bytes:
        text = self.string(value, place)
        if not text.startswith("/"):
            raise self.fail(place, f"{_show(text)} is not an absolute path")
        parts = [p for p in text.split("/") if p]
        if any(p in (".", "..") for p in parts):
            raise self.fail(place, f"{_show(text)} contains '.' or '..'")
        return os.fsencode("/" + "/".join(parts))

    def excludes(self, value: object) -> tuple[tuple[str, ...], tuple[str, ...]]:
        globs: list[str] = []
        regexes: list[str] = []
        for i, item in enumerate(self.sequence(value, "exclude")):
            place = f"exclude[{i}]"
            entry = self.mapping(item, place, ("glob", "regex"))
            if len(entry) != 1:
                raise self.fail(place, "must have exactly one of 'glob' or 'regex'")
            if "glob" in entry:
                globs.append(self.glob(entry["glob"], f"{place}.glob"))
            else:
                regexes.append(self.regex(entry["regex"], f"{place}.regex"))
        return tuple(globs), tuple(regexes)

    def glob(self, value: object, place: str) -> str:
        glob = self.string(value, place)
        if not glob.startswith(("/", "**")):
            raise self.fail(place, f"{_show(glob)} must start with '/' or '**' (paths are absolute)")
        return glob

    def regex(self, value: object, place: str) -> str:
        pattern = self.string(value, place)
        try:
            re.compile(pattern)
        except (re.error, RecursionError, OverflowError) as exc:
            raise self.fail(place, f"bad regex {_show(pattern)}: {_one_line(exc)}") from None
        return pattern


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


def _absolute(path: bytes) -> bytes:
    parts = [p for p in os.path.abspath(path).split(b"/") if p]  # noqa: PTH100 - bytes, no symlinks resolved
    return b"/" + b"/".join(parts)


def with_paths(policy: Policy, paths: list[bytes]) -> Policy:
    """``fim init PATH...``: watch only ``paths`` (made absolute), each with ``full``; excludes and hash kept."""
    normal = dict.fromkeys(_absolute(p) for p in paths)
    rules = tuple(Rule(p, BUILTIN_GROUPS["full"], "full") for p in normal)
    return Policy(rules, policy.exclude_globs, policy.exclude_regexes, policy.hash)
