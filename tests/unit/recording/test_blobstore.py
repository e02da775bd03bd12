"""Blob stores: local round trip, key validation, unwritable stores, URL parsing, and S3 against moto."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from rampart.errors import RecordingNotFound, RecordingStoreError
from rampart.recording.blobstore import LocalBlobStore, S3BlobStore, check_key, open_blob_store


def test_local_round_trip(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put("sessions/a/seg-000001.jsonl", b"one")
    store.put("sessions/a/end.json", b"end")
    store.put("sessions/b/seg-000001.jsonl", b"other")
    store.put("sessions/a/seg-000001.jsonl", b"replaced")
    assert store.get("sessions/a/seg-000001.jsonl") == b"replaced"
    assert store.list("sessions/a/") == ["sessions/a/end.json", "sessions/a/seg-000001.jsonl"]
    assert store.list("sessions/") == [
        "sessions/a/end.json",
        "sessions/a/seg-000001.jsonl",
        "sessions/b/seg-000001.jsonl",
    ]
    assert store.list("nothing/") == []
    assert store.list("") == store.list("sessions/")


def test_local_put_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    for i in range(5):
        store.put("k/v", str(i).encode())
    assert sorted(p.name for p in (tmp_path / "k").iterdir()) == ["v"]


def test_local_missing_blob_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(RecordingNotFound):
        LocalBlobStore(tmp_path).get("absent")


def test_local_list_ignores_foreign_and_probe_files(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("s/ok", b"1")
    (tmp_path / "s" / "bad name").write_bytes(b"x")
    (tmp_path / "s" / ".ok.abc~tmp").write_bytes(b"x")
    store.probe()
    assert store.list("") == ["s/ok"]


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../etc/passwd",
        "a/../b",
        "/abs",
        "a//b",
        "a/./b",
        "a/",
        "sp ace",
        "tab\t",
        "é",
        "a\\b",
        "..",
        "x" * 513,
    ],
)
def test_bad_keys_are_refused(tmp_path: Path, key: str) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(RecordingStoreError):
        store.put(key, b"x")
    with pytest.raises(RecordingStoreError):
        store.get(key)
    assert list(tmp_path.iterdir()) == []


def test_longest_key_is_accepted() -> None:
    assert check_key("a" * 512) == "a" * 512


def test_bad_list_prefix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RecordingStoreError):
        LocalBlobStore(tmp_path).list("../")


def test_probe_fails_when_root_is_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    store = LocalBlobStore(tmp_path / "file" / "blobs")
    with pytest.raises(RecordingStoreError) as err:
        store.probe()
    assert "\n" not in err.value.message
    with pytest.raises(RecordingStoreError):
        store.put("a", b"x")


def test_probe_on_writable_store_leaves_nothing(tmp_path: Path) -> None:
    LocalBlobStore(tmp_path).probe()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_open_local_urls(tmp_path: Path) -> None:
    assert isinstance(open_blob_store(str(tmp_path)), LocalBlobStore)
    local = open_blob_store(f"file://{tmp_path}")
    assert isinstance(local, LocalBlobStore)
    assert local.root == tmp_path
    assert isinstance(open_blob_store("relative/dir"), LocalBlobStore)


@pytest.mark.parametrize(
    "url",
    [
        "",
        " /tmp/x",
        "file://host/tmp/x",
        "file:relative",
        "file:///tmp/x?q=1",
        "ftp://example.com/x",
        "s3://",
        "s3://UPPER",
        "s3://b",
        "s3://bucket?foo=1",
        "s3://bucket?endpoint=ftp://x",
        "s3://bucket?region=a&region=b",
        "s3://bucket/../x",
        "s3://bucket/a b",
    ],
)
def test_bad_urls_raise_one_line(url: str) -> None:
    with pytest.raises(RecordingStoreError) as err:
        open_blob_store(url)
    assert "\n" not in err.value.message


def _make_bucket(endpoint: str, name: str) -> None:
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", config=Config(s3={"addressing_style": "path"})
    )
    client.create_bucket(Bucket=name)


def test_s3_round_trip(s3_endpoint: str) -> None:
    _make_bucket(s3_endpoint, "recordings")
    store = open_blob_store(f"s3://recordings/prod/rampart?endpoint={s3_endpoint}&region=us-east-1")
    assert isinstance(store, S3BlobStore)
    store.probe()
    store.put("sessions/a/seg-000002.jsonl", b"two")
    store.put("sessions/a/seg-000001.jsonl", b"one")
    store.put("sessions/b/end.json", b"{}")
    assert store.get("sessions/a/seg-000001.jsonl") == b"one"
    assert store.list("sessions/a/") == ["sessions/a/seg-000001.jsonl", "sessions/a/seg-000002.jsonl"]
    assert store.list("") == [
        "sessions/a/seg-000001.jsonl",
        "sessions/a/seg-000002.jsonl",
        "sessions/b/end.json",
    ]
    with pytest.raises(RecordingNotFound):
        store.get("sessions/a/end.json")


def test_s3_prefixes_keep_stores_apart(s3_endpoint: str) -> None:
    _make_bucket(s3_endpoint, "shared")
    one = open_blob_store(f"s3://shared/one?endpoint={s3_endpoint}&region=us-east-1")
    two = open_blob_store(f"s3://shared/one-two?endpoint={s3_endpoint}&region=us-east-1")
    one.put("k", b"1")
    two.put("k", b"2")
    assert one.list("") == ["k"]
    assert (one.get("k"), two.get("k")) == (b"1", b"2")


def test_s3_missing_bucket_fails_probe(s3_endpoint: str) -> None:
    store = open_blob_store(f"s3://no-such-bucket?endpoint={s3_endpoint}&region=us-east-1")
    with pytest.raises(RecordingStoreError) as err:
        store.probe()
    assert "\n" not in err.value.message
    with pytest.raises(RecordingStoreError):
        store.list("")


def test_s3_unreachable_endpoint_fails_probe() -> None:
    store = S3BlobStore("bucket", "", "http://127.0.0.1:9", "us-east-1")
    with pytest.raises(RecordingStoreError):
        store.probe()
