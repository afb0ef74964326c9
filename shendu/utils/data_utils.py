"""get_file: download a file once into the shendu cache, checked by its hash and written atomically (Keras's API)."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import secrets
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from typing import Any

from shendu.utils.progbar import Progbar

CACHE_ENV = "SHENDU_CACHE_DIR"
_CHUNK = 1 << 20


class DownloadError(OSError):
    """A file could not be fetched from its URL (network, HTTP status, truncated transfer)."""


class FileHashMismatchError(ValueError):
    """A downloaded file's hash differs from the expected one: it is incomplete, corrupted or not the right file."""


def cache_root() -> str:
    """The root of shendu's cache: $SHENDU_CACHE_DIR if set, else ~/.shendu (downloads go to <root>/datasets)."""
    return os.path.expanduser(os.environ.get(CACHE_ENV) or os.path.join("~", ".shendu"))


def cache_directory(cache_dir: str | os.PathLike | None = None, cache_subdir: str = "datasets") -> str:
    """<cache_dir or cache_root()>/<cache_subdir>, created if needed; a temp-dir fallback if it is not writable."""
    path = os.path.join(os.path.expanduser(os.fspath(cache_dir)) if cache_dir else cache_root(), cache_subdir)
    try:
        os.makedirs(path, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except OSError:
        pass
    path = os.path.join(tempfile.gettempdir(), ".shendu", cache_subdir)
    os.makedirs(path, exist_ok=True)
    return path


def _hasher(algorithm: str, file_hash: str | None = None) -> Any:
    """sha256 for "sha256", or for "auto" with a 64-hex-digit hash; md5 otherwise (legacy Keras hashes)."""
    if algorithm not in ("auto", "sha256", "md5"):
        raise ValueError(f"get_file: hash_algorithm must be 'auto', 'sha256' or 'md5', got {algorithm!r}")
    if algorithm == "sha256" or (algorithm == "auto" and (file_hash is None or len(file_hash) == 64)):
        return hashlib.sha256()
    return hashlib.md5()


def hash_file(fpath: str | os.PathLike, algorithm: str = "sha256", chunk_size: int = _CHUNK) -> str:
    """The hex digest (sha256 or md5) of a file, read in chunks."""
    hasher = _hasher(algorithm)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath: str | os.PathLike, file_hash: str, algorithm: str = "auto", chunk_size: int = _CHUNK) -> bool:
    """Whether the file's hash equals file_hash (algorithm "auto": sha256 for 64 hex digits, else md5)."""
    name = _hasher(algorithm, file_hash).name
    return hash_file(fpath, name, chunk_size) == file_hash.lower()


def download(origin: str, target: str, file_hash: str | None = None, hash_algorithm: str = "auto") -> str:
    """Fetch origin (http(s):// or file://) into target atomically, with a progress bar.

    The bytes go to a temporary file beside target, hashed on the way; only a complete file whose hash matches
    is renamed to target, so the cache never holds a partial or corrupted file.
    """
    hasher = _hasher(hash_algorithm, file_hash) if file_hash else None
    print(f"Downloading data from {origin}")
    fd, partial = _fresh_file(target)
    try:
        with os.fdopen(fd, "wb") as out:
            received, expected = _stream(origin, out, hasher)
        if expected is not None and received != expected:
            raise DownloadError(f"get_file: the transfer from {origin} stopped after {received} of {expected} bytes")
        if hasher is not None and hasher.hexdigest() != file_hash.lower():
            raise FileHashMismatchError(
                f"get_file: the file downloaded from {origin} is incomplete or corrupted: its {hasher.name} is "
                f"{hasher.hexdigest()}, expected {file_hash.lower()}. It was not kept."
            )
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return target


def _stream(origin: str, out: Any, hasher: Any) -> tuple[int, int | None]:
    """Copy the URL's bytes to `out` (updating hasher and a Progbar); returns (bytes received, Content-Length)."""
    try:
        response = urllib.request.urlopen(origin, timeout=60)
    except urllib.error.HTTPError as e:
        raise DownloadError(f"URL fetch failure on {origin}: HTTP {e.code} -- {e.reason}") from e
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise DownloadError(f"URL fetch failure on {origin}: {getattr(e, 'reason', None) or e}") from e
    with response:
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        progbar = Progbar(expected)
        received = 0
        while True:
            try:
                chunk = response.read(_CHUNK)
            except OSError as e:
                raise DownloadError(f"URL fetch failure on {origin} after {received} bytes: {e}") from e
            if not chunk:
                break
            out.write(chunk)
            if hasher is not None:
                hasher.update(chunk)
            received += len(chunk)
            progbar.update(received, finalize=expected is not None and received >= expected)
        if expected is None or received < expected:
            progbar.update(received, finalize=True)
    return received, expected


def _check_members(names_and_links: list[tuple[str, str | None]], base: str) -> None:
    """Refuse an archive member that would land outside `base` (absolute paths, '..', links pointing out)."""
    base = os.path.realpath(base)
    for name, link in names_and_links:
        dest = os.path.realpath(os.path.join(base, name))
        targets = [dest] if link is None else [dest, os.path.realpath(os.path.join(os.path.dirname(dest), link))]
        for t in targets:
            if os.path.commonpath([t, base]) != base:
                raise ValueError(f"extract_archive: refusing member {name!r}, which points outside {base}")


def extract_archive(file_path: str, path: str = ".", archive_format: str | list[str] | None = "auto") -> bool:
    """Extract a tar(.gz/.bz2/.xz) or zip archive into path, refusing members that escape it; False if no match."""
    formats = ["tar", "zip"] if archive_format == "auto" else [archive_format] if archive_format else []
    for fmt in formats:
        if fmt == "tar" and tarfile.is_tarfile(file_path):
            with tarfile.open(file_path) as archive:
                members = archive.getmembers()
                _check_members([(m.name, m.linkname if (m.issym() or m.islnk()) else None) for m in members], path)
                safe = {"filter": "data"} if "filter" in inspect.signature(archive.extractall).parameters else {}
                archive.extractall(path, members=members, **safe)
            return True
        if fmt == "zip" and zipfile.is_zipfile(file_path):
            with zipfile.ZipFile(file_path) as archive:
                _check_members([(n, None) for n in archive.namelist()], path)
                archive.extractall(path)
            return True
        if fmt not in ("tar", "zip"):
            raise ValueError(f"extract_archive: archive_format must be 'tar', 'zip' or 'auto', got {fmt!r}")
    return False


def get_file(fname: str | None = None, origin: str | None = None, untar: bool = False, md5_hash: str | None = None,
             file_hash: str | None = None, cache_subdir: str = "datasets", hash_algorithm: str = "auto",
             extract: bool = False, archive_format: str = "auto", cache_dir: str | os.PathLike | None = None,
             force_download: bool = False) -> str:
    """Download `origin` to <cache_dir>/<cache_subdir>/<fname> unless a copy whose hash matches is already there.

    cache_dir defaults to $SHENDU_CACHE_DIR or ~/.shendu. With file_hash (sha256, or md5 for 32 hex digits) the
    download is verified before it enters the cache, and a cached copy that no longer matches is fetched again.
    extract/untar unpack a tar or zip archive and return the extraction directory. Returns the local path.
    """
    if origin is None:
        raise ValueError('get_file: please give "origin", the URL of the file to download')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    datadir = cache_directory(cache_dir, cache_subdir)
    given_name = fname
    fname = os.fspath(fname) if fname else os.path.basename(urllib.parse.urlsplit(origin).path)
    if not fname:
        raise ValueError(f"get_file: cannot take a file name from origin {origin!r}; pass `fname`")
    if os.sep in fname or (os.altsep and os.altsep in fname):
        raise ValueError(f"get_file: fname must be a file name, not a path (use cache_dir for the folder); got {fname}")

    extraction_dir = None
    target = os.path.join(datadir, fname)
    if extract or untar:
        if given_name and "." in fname:
            extraction_dir = os.path.join(datadir, fname[: fname.find(".")] + "_extracted")
        else:
            extraction_dir = os.path.join(datadir, fname)
            target = os.path.join(datadir, fname + "_archive")

    fetch = force_download or not os.path.exists(target)
    if not fetch and file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
        print(f"A local file was found at {target}, but its hash does not match the expected {file_hash}: "
              "it is incomplete or outdated, so it will be downloaded again.")
        fetch = True
    if fetch:
        download(origin, target, file_hash, hash_algorithm)

    if extraction_dir is None:
        return target
    if fetch or not os.path.isdir(extraction_dir):
        _extract_atomically(target, extraction_dir, "tar" if untar else archive_format)
    return extraction_dir


EXTRACTED_MARKER = ".shendu-extracted"


def _extract_atomically(archive: str, extraction_dir: str, archive_format: str) -> None:
    """Extract into a fresh temporary sibling folder, then rename it into place: a crash never leaves half an
    extraction, and only a folder shendu made (its marker lists the files) is ever replaced; anything else is refused.
    """
    replacing = _replaceable(extraction_dir)
    parent = os.path.dirname(extraction_dir)
    staging = _fresh_folder(parent, f".tmp-extract-{os.path.basename(extraction_dir)}.")
    retired = None
    try:
        if not extract_archive(archive, staging, archive_format):
            raise ValueError(f"get_file: {archive} is not a {archive_format} archive; cannot extract it")
        _write_marker(staging, archive)
        if replacing:
            retired = tempfile.mkdtemp(prefix=f".tmp-retired-{os.path.basename(extraction_dir)}.", dir=parent)
            old = os.path.join(retired, "old")
            os.rename(extraction_dir, old)
            try:
                _replaceable(old)  # again, now that nobody can add to it: a file added meanwhile is kept
            except FileExistsError:
                os.rename(old, extraction_dir)
                retired = None
                raise
        try:
            os.rename(staging, extraction_dir)
        except OSError as error:
            raise FileExistsError(f"get_file: {extraction_dir} appeared while extracting and was not made by "
                                  f"shendu; it is left untouched ({error})") from error
    finally:
        for folder in (staging, retired):
            if folder is not None and os.path.isdir(folder):
                shutil.rmtree(folder, ignore_errors=True)


def _fresh_file(target: str) -> tuple[int, str]:
    """(fd, path) of a new file <target>.<random>.part, with the mode open() gives under the user's umask."""
    while True:
        path = f"{target}.{secrets.token_hex(6)}.part"
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), path
        except FileExistsError:
            continue


def _fresh_folder(parent: str, prefix: str) -> str:
    """A new empty folder parent/<prefix><random>, with the permissions os.mkdir gives under the user's umask."""
    while True:
        path = os.path.join(parent, prefix + secrets.token_hex(6))
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue


def _replaceable(folder: str) -> bool:
    """True if folder is an earlier extraction shendu made, False if nothing is there; refuses anything else.

    Raises FileExistsError, leaving the folder untouched, when it is not a folder, has no shendu marker, or holds
    anything the marker does not list (a user's own files).
    """
    if not os.path.lexists(folder):
        return False
    keep = "Move it away, or pass another fname or cache_dir."
    if os.path.islink(folder) or not os.path.isdir(folder):
        raise FileExistsError(f"get_file: cannot extract into {folder}: it exists and is not a folder. {keep}")
    try:
        with open(os.path.join(folder, EXTRACTED_MARKER), encoding="utf-8") as f:
            listed = set(json.load(f)["files"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise FileExistsError(f"get_file: {folder} exists and was not made by shendu (no valid {EXTRACTED_MARKER} "
                              f"marker in it: {error}); it is left untouched. {keep}") from error
    extra = sorted(set(_entries(folder)) - listed - {EXTRACTED_MARKER})
    if extra:
        raise FileExistsError(f"get_file: {folder} holds files shendu did not extract ({', '.join(extra[:5])}"
                              f"{', ...' if len(extra) > 5 else ''}); it is left untouched. {keep}")
    return True


def _entries(folder: str) -> list[str]:
    """Every file, folder and link under folder, as '/'-separated paths relative to it."""
    out = []
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            out.append(os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/"))
    return out


def _write_marker(folder: str, archive: str) -> None:
    """Record in folder that shendu extracted it from archive, and everything it holds."""
    with open(os.path.join(folder, EXTRACTED_MARKER), "w", encoding="utf-8") as f:
        json.dump({"archive": os.path.basename(archive), "files": sorted(_entries(folder))}, f, indent=1)
