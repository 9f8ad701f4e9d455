"""A checksummed, cached, atomic download for optional, bigger data.

    path = download("https://example.org/corpus.txt", sha256="9f2c...")

The book's tested chapters never call this: they run offline, on data that is generated,
shipped in the package or installed with a dependency. It is here for readers who want
more data, done right: the file is checked against its SHA-256, written to a temporary
file and renamed into place (an interrupted download never leaves a half-written file that
looks complete), reused from the cache when its checksum matches, and never written
anywhere but inside the cache directory.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

__all__ = ["cache_dir", "download"]

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def cache_dir() -> Path:
    """Where `download` keeps files: $RNNBOOK_CACHE if set and not empty, else
    ~/.cache/rnnbook. Always an absolute path."""
    folder = os.environ.get("RNNBOOK_CACHE", "").strip()
    return Path(folder).expanduser().resolve() if folder else \
        Path.home() / ".cache" / "rnnbook"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, sha256: str, filename: str | None = None,
             directory: str | Path | None = None) -> Path:
    """Fetch `url` once into the cache (or `directory`) and return the file's path.

    filename: the name to save under, a plain file name (no folders, no '..'); by default
    the last part of the URL's path. Nothing is written outside the cache folder (or
    `directory`): names with path separators, absolute paths and '..' are refused, and a
    URL that ends in '/' needs a filename.
    """
    if not isinstance(url, str):
        raise TypeError(f"url must be a str such as 'https://...', got {type(url).__name__}")
    parts = urllib.parse.urlparse(url)
    if not parts.scheme or not (parts.netloc or parts.path):
        raise ValueError(f"url must be an absolute URL such as 'https://...', got {url!r}")
    if not isinstance(sha256, str):
        raise TypeError(f"sha256 must be a str of 64 hexadecimal digits, "
                        f"got {type(sha256).__name__}")
    if not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise ValueError(f"sha256 must be 64 hexadecimal digits, got {sha256!r}")
    sha256 = sha256.lower()
    if filename is not None and not isinstance(filename, str):
        raise TypeError(f"filename must be a str or None, got {type(filename).__name__}")
    if filename is None and parts.path.endswith("/"):
        raise ValueError(f"url {url!r} ends in '/', which names a folder, not a file: pass "
                         f"filename=")
    name = filename if filename is not None else Path(parts.path).name
    if not SAFE_NAME.fullmatch(name) or ".." in name:
        source = "filename" if filename is not None else f"the URL {url!r}"
        raise ValueError(f"{source} must give a plain file name of letters, digits, '.', '_' "
                         f"and '-' (no folders), got {name!r}: pass filename=")
    if directory is not None and not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"directory must be a str or a path, got {type(directory).__name__}")
    if isinstance(directory, str) and not directory.strip():
        raise ValueError("directory must name a folder, got an empty string (which would "
                         "mean the current folder): pass None for the cache")
    folder = Path(directory).expanduser().resolve() if directory is not None else cache_dir()
    target = folder / name
    if target.exists() and _sha256(target) == sha256:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, out)
        actual = _sha256(Path(tmp))
        if actual != sha256:
            raise ValueError(f"checksum mismatch for {url}: expected {sha256}, got {actual}; "
                             f"the file was not saved")
        os.replace(tmp, target)                      # atomic on the same file system
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target
