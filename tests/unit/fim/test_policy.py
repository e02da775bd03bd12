"""fim policies: loading (and refusing) policy files, rule lookup, excludes, roots, digests."""

from __future__ import annotations

from pathlib import Path

import pytest

from rampart.errors import PolicyFileError
from rampart.fim.model import Attr, HashName
from rampart.fim.order import path_key
from rampart.fim.policy import (
    BUILTIN_GROUPS,
    DEFAULT_POLICY,
    MAX_POLICY_BYTES,
    Policy,
    Rule,
    load_policy,
    parse_policy,
    with_paths,
)


def policy(text: str) -> Policy:
    return parse_policy(text, "test.yaml")


SIMPLE = """
version: 1
hash: sha256
groups:
  strict: [type, mode, hash]
rules:
  - {path: /usr, group: full}
  - {path: /usr/lib/secret, group: strict}
  - {path: /var/log, group: log}
  - path: /opt
exclude:
  - glob: /usr/share/doc
  - glob: /usr/**/__pycache__
  - glob: /opt/*.tmp
  - regex: '\\.swp$'
"""


def test_path_key_order_is_the_component_order() -> None:
    import random

    from rampart.fim.order import at_or_below

    chooser = random.Random(7)
    alphabet = [b"a", b"b", b"-", b".", b"\xff", b"/", b" ", b"0"]
    paths = [
        b"/" + b"".join(chooser.choice(alphabet) for _ in range(chooser.randint(1, 8))) for _ in range(3000)
    ]
    paths = [p.rstrip(b"/") or b"/" for p in paths if b"//" not in p]
    assert sorted(paths, key=path_key) == sorted(paths, key=lambda p: tuple(p.split(b"/")))
    assert at_or_below(path_key(b"/a/b"), path_key(b"/a")) and at_or_below(path_key(b"/a"), path_key(b"/a"))
    assert not at_or_below(path_key(b"/ab"), path_key(b"/a")) and at_or_below(path_key(b"/x"), path_key(b"/"))


def test_path_key_orders_a_directory_right_before_its_children() -> None:
    paths = [b"/a.b", b"/a/z", b"/a", b"/a/b/c", b"/", b"/a-b", b"/a/b"]
    assert sorted(paths, key=path_key) == [b"/", b"/a", b"/a/b", b"/a/b/c", b"/a/z", b"/a-b", b"/a.b"]


def test_the_default_policy_loads_and_watches_the_system() -> None:
    default = load_policy(None)
    assert default.hash is HashName.BLAKE3
    assert default.rule_for(b"/usr/bin/ls") == Rule(b"/usr/bin", BUILTIN_GROUPS["full"], "full")
    log = default.rule_for(b"/var/log/syslog")
    assert log is not None and log.group == "log" and Attr.GROWING in log.attrs and Attr.HASH not in log.attrs
    assert default.rule_for(b"/home/user/file") is None
    assert (
        default.excluded(b"/proc") and default.excluded(b"/etc/mtab") and not default.excluded(b"/etc/passwd")
    )
    assert b"/etc" in default.roots() and b"/var/log" in default.roots()
    assert load_policy(None).digest() == policy(DEFAULT_POLICY).digest()


def test_builtin_groups() -> None:
    assert BUILTIN_GROUPS["full"] == frozenset(Attr) - {Attr.GROWING}
    assert BUILTIN_GROUPS["config"] == BUILTIN_GROUPS["full"]
    assert BUILTIN_GROUPS["log"] == {Attr.TYPE, Attr.MODE, Attr.OWNER, Attr.GROUP, Attr.GROWING, Attr.INODE}
    assert BUILTIN_GROUPS["dir"] == {
        Attr.TYPE,
        Attr.MODE,
        Attr.OWNER,
        Attr.GROUP,
        Attr.XATTRS,
        Attr.ACL,
        Attr.SELINUX,
    }


def test_rule_for_picks_the_most_specific_rule_component_wise() -> None:
    p = policy(SIMPLE)
    assert p.hash is HashName.SHA256
    rule = p.rule_for(b"/usr/lib/secret/key")
    assert rule is not None and rule.group == "strict" and rule.attrs == {Attr.TYPE, Attr.MODE, Attr.HASH}
    assert p.rule_for(b"/usr/lib/secret") == rule
    other = p.rule_for(b"/usr/lib/secretary")  # not below /usr/lib/secret: a different component
    assert other is not None and other.path == b"/usr"
    assert p.rule_for(b"/usrx") is None
    assert p.rule_for(b"/") is None
    opt = p.rule_for(b"/opt/x")
    assert opt is not None and opt.group == "full"  # the group defaults to full


def test_a_rule_at_the_root_governs_everything() -> None:
    p = policy("version: 1\nrules: [{path: /, group: dir}, {path: /etc, group: full}]")
    root = p.rule_for(b"/home/x")
    assert root is not None and root.path == b"/"
    assert p.roots() == [b"/"]
    assert p.rules_below(b"/") == [b"/etc"]


def test_excludes_globs_and_regexes() -> None:
    p = policy(SIMPLE)
    assert p.excluded(b"/usr/share/doc")
    assert not p.excluded(b"/usr/share/doc/x")  # below is never reached by a walk: not matched itself
    assert p.excluded(b"/usr/__pycache__") and p.excluded(b"/usr/lib/python3/x/__pycache__")
    assert p.excluded(b"/opt/a.tmp")
    assert not p.excluded(b"/opt/sub/a.tmp")  # '*' stays within one component
    assert p.excluded(b"/var/log/.x.swp") and not p.excluded(b"/var/log/x.swpx")
    assert not p.excluded(b"/usr/bin/ls")


def test_glob_classes_and_question_marks() -> None:
    p = policy("version: 1\nrules: [{path: /}]\nexclude: [{glob: '/d/file?.[0-9]'}, {glob: '/e/[!a]*'}]")
    assert p.excluded(b"/d/file1.7") and not p.excluded(b"/d/file1.x") and not p.excluded(b"/d/file/.1")
    assert p.excluded(b"/e/bcd") and not p.excluded(b"/e/abc")


def test_excludes_match_undecodable_names_through_surrogates() -> None:
    p = policy("version: 1\nrules: [{path: /}]\nexclude: [{regex: '\\udcff'}, {glob: '/x/*'}]")
    assert p.excluded(b"/data/\xff.bin")
    assert p.excluded(b"/x/\xfe") and not p.excluded(b"/data/\xfe")


def test_roots_drop_nested_rules_and_follow_canonical_order() -> None:
    p = policy(
        "version: 1\nrules: [{path: /b}, {path: /a.b}, {path: /a}, {path: /a/x/y}, {path: /a-c}, {path: /b/c}]"
    )
    assert p.roots() == [b"/a", b"/a-c", b"/a.b", b"/b"]
    assert p.rules_below(b"/a") == [b"/a/x/y"]
    assert p.rules_below(b"/a/x") == [b"/a/x/y"]
    assert p.rules_below(b"/a.b") == []


def test_paths_are_normalised() -> None:
    p = policy("version: 1\nrules: [{path: '//usr///lib/'}]")
    assert [r.path for r in p.rules] == [b"/usr/lib"]


def test_digest_ignores_formatting_but_not_meaning() -> None:
    a = policy("version: 1\nrules: [{path: /a}, {path: /b, group: log}]")
    b = policy("# comment\nversion: 1\nhash: blake3\nrules:\n  - path: /b\n    group: log\n  - path: /a\n")
    assert a.digest() == b.digest()
    assert a.digest() != policy("version: 1\nrules: [{path: /a}, {path: /b, group: dir}]").digest()
    assert (
        a.digest() != policy("version: 1\nhash: sha256\nrules: [{path: /a}, {path: /b, group: log}]").digest()
    )
    assert (
        a.digest()
        != policy("version: 1\nrules: [{path: /a}, {path: /b, group: log}]\nexclude: [{glob: /x}]").digest()
    )


def test_to_yaml_reads_back_as_the_same_policy() -> None:
    p = policy(SIMPLE)
    again = policy(p.to_yaml())
    assert again == p
    assert again.digest() == p.digest()
    custom = Policy((Rule(b"/x", frozenset({Attr.SIZE}), "full"),), (), ())  # a built-in name, other attrs
    assert policy(custom.to_yaml()).rules[0].attrs == {Attr.SIZE}


def test_with_paths_watches_only_those_paths_with_full() -> None:
    base = policy(SIMPLE)
    p = with_paths(base, [b"/srv/app/", b"/srv/app", b"/etc//ssh"])
    assert [(r.path, r.group) for r in p.rules] == [(b"/srv/app", "full"), (b"/etc/ssh", "full")]
    assert all(r.attrs == BUILTIN_GROUPS["full"] for r in p.rules)
    assert (p.exclude_globs, p.exclude_regexes, p.hash) == (
        base.exclude_globs,
        base.exclude_regexes,
        base.hash,
    )


def test_with_paths_makes_relative_paths_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    p = with_paths(load_policy(None), [b"sub/dir"])
    assert p.rules[0].path == bytes(tmp_path) + b"/sub/dir"


def test_load_policy_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "fim.yaml"
    path.write_text(SIMPLE, encoding="utf-8")
    assert load_policy(path) == policy(SIMPLE)


def refused(text: str, *where: str) -> None:
    with pytest.raises(PolicyFileError) as caught:
        policy(text)
    message = caught.value.message
    assert "\n" not in message
    assert message.startswith("test.yaml: ")
    for piece in where:
        assert piece in message, message


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("version: 1\nrules:\n  - {path: /usr, gro", ("line 4, column 1",)),  # truncated
        ("version: 1\nrules: [", ("line",)),
        ("{{{", ("line 2",)),
        ("", ("top level", "mapping", "nothing")),
        ("- a\n- b\n", ("top level", "mapping", "list")),
        ("version: 1\nrules: [{path: /a}]\ncolour: red\n", ("top level", "'colour'")),
        ("rules: [{path: /a}]", ("version",)),
        ("version: '1'\nrules: [{path: /a}]", ("version", "'1'")),
        ("version: true\nrules: [{path: /a}]", ("version", "True")),
        ("version: 2\nrules: [{path: /a}]", ("version", "2")),
        ("version: 1\nhash: md5\nrules: [{path: /a}]", ("hash", "'md5'")),
        ("version: 1\nhash: [blake3]\nrules: [{path: /a}]", ("hash",)),
        ("version: 1", ("rules", "missing")),
        ("version: 1\nrules: []", ("rules", "empty")),
        ("version: 1\nrules: {path: /a}", ("rules", "list", "dict")),
        ("version: 1\nrules: [/usr]", ("rules[0]", "mapping", "str")),
        ("version: 1\nrules: [{group: full}]", ("rules[0]", "'path'")),
        ("version: 1\nrules: [{path: /a}, {path: 42}]", ("rules[1].path", "42")),
        ("version: 1\nrules: [{path: usr/bin}]", ("rules[0].path", "not an absolute path")),
        ("version: 1\nrules: [{path: /usr/../etc}]", ("rules[0].path", "'..'")),
        ("version: 1\nrules: [{path: /usr/./bin}]", ("rules[0].path",)),
        ('version: 1\nrules: [{path: "/a\\0b"}]', ("rules[0].path", "NUL")),
        ("version: 1\nrules: [{path: ''}]", ("rules[0].path", "non-empty")),
        ("version: 1\nrules: [{path: /a}, {path: /a/}]", ("rules[1].path", "already has a rule")),
        ("version: 1\nrules: [{path: /a, group: nosuch}]", ("rules[0].group", "'nosuch'")),
        ("version: 1\nrules: [{path: /a, group: [full]}]", ("rules[0].group",)),
        ("version: 1\nrules: [{path: /a, attrs: [mode]}]", ("rules[0]", "'attrs'")),
        ("version: 1\ngroups: [a]\nrules: [{path: /a}]", ("groups", "mapping")),
        ("version: 1\ngroups: {g: [mode, colour]}\nrules: [{path: /a}]", ("groups.g[1]", "'colour'")),
        ("version: 1\ngroups: {g: mode}\nrules: [{path: /a}]", ("groups.g", "list")),
        ("version: 1\ngroups: {g: [[mode]]}\nrules: [{path: /a}]", ("groups.g[0]",)),
        ("version: 1\ngroups: {full: [mode]}\nrules: [{path: /a}]", ("groups.full", "built-in")),
        ("version: 1\ngroups: {'a b': [mode]}\nrules: [{path: /a}]", ("groups.a b", "group name")),
        ("version: 1\ngroups: {3: [mode]}\nrules: [{path: /a}]", ("groups.3",)),
        ("version: 1\nrules: [{path: /a}]\nexclude: /tmp", ("exclude", "list")),
        ("version: 1\nrules: [{path: /a}]\nexclude: [/tmp]", ("exclude[0]", "mapping")),
        ("version: 1\nrules: [{path: /a}]\nexclude: [{glob: /a, regex: b}]", ("exclude[0]", "exactly one")),
        ("version: 1\nrules: [{path: /a}]\nexclude: [{}]", ("exclude[0]", "exactly one")),
        ("version: 1\nrules: [{path: /a}]\nexclude: [{path: /a}]", ("exclude[0]", "'path'")),
        ("version: 1\nrules: [{path: /a}]\nexclude: [{glob: '*.log'}]", ("exclude[0].glob", "must start")),
        ("version: 1\nrules: [{path: /a}]\nexclude: [{glob: 7}]", ("exclude[0].glob",)),
        ("version: 1\nrules: [{path: /a}]\nexclude: [{regex: '('}]", ("exclude[0].regex", "bad regex")),
        (
            "version: 1\nrules: [{path: /a}]\nexclude: [{regex: 'a{1,2}{3'}, {regex: '[z-a]'}]",
            ("exclude[1].regex",),
        ),
        ("version: 2001-13-45\nrules: [{path: /a}]", ("test.yaml",)),  # a timestamp the YAML loader rejects
        ("version: 1\nrules: [{path: /a}]\n? [x]\n: y\n", ("line",)),  # an unhashable key
        ("&a [*a]", ("top level", "list")),  # an alias to itself
        ("version: 1\nrules: &a [*a]", ("rules[0]", "mapping", "list")),
        ("\t- tabs: are not indentation", ("line 1",)),
    ],
)
def test_hostile_policy_text_is_refused_in_one_line_naming_the_place(
    text: str, where: tuple[str, ...]
) -> None:
    refused(text, *where)


def test_aliases_cannot_multiply_the_work() -> None:
    laughs = ["a: &a [mode, mode, mode, mode, mode, mode, mode, mode, mode]"]
    laughs += [f"{c}: &{c} [{', '.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
    text = (
        "version: 1\ngroups:\n"
        + "".join(f"  {line}\n" for line in laughs)
        + "rules: [{path: /a, group: i}]\n"
    )
    refused(text, "groups.b[0]", "unknown attribute")


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    refused("version: 1\nrules: " + "[" * 50_000 + "]" * 50_000)


def test_too_many_rules_are_refused() -> None:
    rules = "".join(f"  - {{path: /r{i}}}\n" for i in range(10_001))
    refused("version: 1\nrules:\n" + rules, "rules", "more than")


def test_huge_files_are_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"version: 1\n# " + b"x" * MAX_POLICY_BYTES + b"\nrules: [{path: /a}]\n")
    with pytest.raises(PolicyFileError, match=r"huge\.yaml: larger than"):
        load_policy(path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"version: 1\nrules: [{path: /caf\xe9}]\n")
    with pytest.raises(PolicyFileError, match=r"latin1\.yaml: byte 30: not UTF-8"):
        load_policy(path)


def test_a_missing_or_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match=r"nope\.yaml: cannot read the policy file: No such file"):
        load_policy(tmp_path / "nope.yaml")
    with pytest.raises(PolicyFileError, match="cannot read the policy file"):
        load_policy(tmp_path)  # a directory
