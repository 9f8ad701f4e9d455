"""rnnbook.download: checksummed, cached, atomic, and confined to its cache."""

import hashlib

import pytest

from rnnbook.download import cache_dir, download


def test_download_checks_caches_and_writes_atomically(tmp_path):
    source = tmp_path / "corpus.txt"
    source.write_bytes(b"to be or not to be\n")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    path = download(source.as_uri(), digest, directory=cache)
    assert path == cache / "corpus.txt" and path.read_bytes() == source.read_bytes()
    source.unlink()                                              # cached: no fetch needed
    assert download(source.as_uri(), digest, directory=cache) == path
    other = tmp_path / "other.txt"
    other.write_bytes(b"something else")
    with pytest.raises(ValueError, match="checksum mismatch"):
        download(other.as_uri(), digest, filename="x.txt", directory=cache)
    assert sorted(p.name for p in cache.iterdir()) == ["corpus.txt"]   # nothing half-written
    with pytest.raises(ValueError, match="64 hexadecimal"):
        download(other.as_uri(), "abc", directory=cache)


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path



def test_cache_dir_treats_an_empty_variable_as_unset(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for value in ("", "   "):
        monkeypatch.setenv("RNNBOOK_CACHE", value)
        folder = cache_dir()
        assert folder.is_absolute() and folder.parts[-2:] == (".cache", "rnnbook")
        assert folder != tmp_path                         # not the current folder
    monkeypatch.setenv("RNNBOOK_CACHE", "relative/cache")
    assert cache_dir() == tmp_path / "relative" / "cache"  # made absolute once, at the call


@pytest.mark.parametrize("filename", ["../x.txt", "../../etc/x", "/tmp/x.txt", "a/b.txt",
                                      "a\\b.txt", "..", ".", ".hidden", "x..txt", "", " x"])
def test_download_never_writes_outside_its_cache(tmp_path, filename):
    source = tmp_path / "src" / "corpus.txt"
    source.parent.mkdir()
    source.write_bytes(b"data")
    digest = hashlib.sha256(b"data").hexdigest()
    cache = tmp_path / "deep" / "cache"
    before = sorted(p for p in tmp_path.rglob("*"))
    with pytest.raises(ValueError, match=r"filename must give a plain file name .* \(no "
                                         r"folders\), got"):
        download(source.as_uri(), digest, filename=filename, directory=cache)
    assert sorted(p for p in tmp_path.rglob("*")) == before      # nothing written anywhere


@pytest.mark.parametrize("url, match", [
    ("https://example.org/data/", "ends in '/', which names a folder"),
    ("https://example.org/", "ends in '/', which names a folder"),
    ("https://example.org", "must give a plain file name"),
    ("corpus.txt", "url must be an absolute URL"),
    ("", "url must be an absolute URL"),
])
def test_a_url_that_names_no_file_is_refused_before_any_fetch(tmp_path, url, match):
    with pytest.raises(ValueError, match=match):
        download(url, "0" * 64, directory=tmp_path)
    assert not any(tmp_path.iterdir())


def test_download_argument_types(tmp_path):
    with pytest.raises(TypeError, match="url must be a str"):
        download(None, "0" * 64, directory=tmp_path)
    with pytest.raises(TypeError, match="sha256 must be a str"):
        download("https://example.org/x", 0, directory=tmp_path)
    with pytest.raises(TypeError, match="filename must be a str or None, got PosixPath"):
        download("https://example.org/x", "0" * 64, filename=tmp_path / "x")
    with pytest.raises(TypeError, match="directory must be a str or a path, got int"):
        download("https://example.org/x", "0" * 64, directory=3)
    with pytest.raises(ValueError, match="directory must name a folder, got an empty string"):
        download("https://example.org/x", "0" * 64, directory="")
    assert not any(tmp_path.iterdir())


def test_the_checksum_is_case_insensitive_and_a_corrupt_cached_file_is_replaced(tmp_path):
    source = tmp_path / "corpus.txt"
    source.write_bytes(b"fresh")
    digest = hashlib.sha256(b"fresh").hexdigest()
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "corpus.txt").write_bytes(b"corrupt")             # a cached file that fails
    path = download(source.as_uri(), digest.upper(), directory=cache)
    assert path.read_bytes() == b"fresh"
