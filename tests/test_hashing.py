"""file_sha256: content digests, remembered across processes for large files until the file changes."""

from __future__ import annotations

import hashlib
import os

import pytest

from coder import hashing


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("ALLIANCE_CODER_CACHE", str(folder))
    hashing._sha256.cache_clear()
    yield folder
    hashing._sha256.cache_clear()


def _new_process():
    hashing._sha256.cache_clear()  # what a fresh process starts with


def _no_hashing(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("hashed again")

    monkeypatch.setattr(hashing.hashlib, "file_digest", refuse)


@pytest.mark.parametrize("size", [0, 10, hashing.REMEMBER_MIN_BYTES + 1])
def test_hashing_file_sha256_is_the_content_digest(cache, tmp_path, size):
    path = tmp_path / "f.bin"
    data = os.urandom(size)
    path.write_bytes(data)
    assert hashing.file_sha256(path) == hashlib.sha256(data).hexdigest()
    remembered = list((cache / "sha256").iterdir()) if (cache / "sha256").exists() else []
    assert len(remembered) == (1 if size >= hashing.REMEMBER_MIN_BYTES else 0)


def test_hashing_large_file_digest_is_remembered_until_it_changes(cache, tmp_path, monkeypatch):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"a" * hashing.REMEMBER_MIN_BYTES)
    first = hashing.file_sha256(path)
    _new_process()
    with monkeypatch.context() as m:
        _no_hashing(m)
        assert hashing.file_sha256(path) == first  # read back, not hashed
    stat = path.stat()
    path.write_bytes(b"b" * hashing.REMEMBER_MIN_BYTES)  # same size ...
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # ... and modification time put back
    _new_process()
    assert hashing.file_sha256(path) == hashlib.sha256(b"b" * hashing.REMEMBER_MIN_BYTES).hexdigest()


def test_hashing_damaged_record_or_unwritable_cache_only_costs_time(cache, tmp_path, monkeypatch):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"c" * hashing.REMEMBER_MIN_BYTES)
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert hashing.file_sha256(path) == expected
    (record,) = (cache / "sha256").iterdir()
    record.write_text("not a digest\n")
    _new_process()
    assert hashing.file_sha256(path) == expected
    assert record.read_text().strip() == expected  # written again
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv("ALLIANCE_CODER_CACHE", str(blocked))
    _new_process()
    assert hashing.file_sha256(path) == expected
