"""Submissions for batch grading: one folder or zip per student, named by its student id.

Nothing in a submission is trusted: ids must be clean names, zips may not reach outside their
folder or hold links, and only the exercise files at the catalog's paths are staged for grading,
as plain files of bounded size. A submission that cannot be graded gets a `problem` and becomes
an error row; it never stops the batch.
"""

from __future__ import annotations

import os
import stat
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

MAX_FILE_BYTES = 2 * 2**20
MAX_ZIP_BYTES = 200 * 2**20
MAX_ZIP_ENTRIES = 10_000


class BadSubmission(ValueError):
    """A submission that cannot be graded; the message says why, for the gradebook."""


@dataclass(frozen=True)
class Entry:
    """One student's submission, or the reason it cannot be graded."""

    student: str
    source: Path
    problem: str = ""


def readable(name: str) -> str:
    """A name as text, with bytes that are not UTF-8 shown as escapes (\\xe9)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


MAX_ID = 120  # characters; a student id is a folder name under OUT/students


def _escaped(name: str) -> str:
    """`name` with every control, format (bidi) or separator character shown as an escape."""
    return "".join(
        c.encode("unicode_escape").decode("ascii")
        if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")
        else c
        for c in name
    )


def _student(path: Path) -> tuple[str, str]:
    """The student id a submission's path gives, and why it cannot be graded ("" if it can).

    The id is always a plain file name (it names the student's results folder): a name that is
    not one becomes an error row under a shown form of it, such as "(..)" for "...zip".
    """
    name = path.name if path.name not in ("", ".", "..") else path.resolve().name
    if name.lower().endswith(".zip") and len(name) > 4:
        name = name[:-4]
    shown = readable(name)
    if shown != name:
        return _escaped(shown), "the submission's name is not valid UTF-8; rename it"
    if name in ("", ".", ".."):
        return f"({name or 'unnamed'})", (
            f"the submission's name {readable(path.name)!r} gives the student id {name!r}, which "
            "is not a plain file name; rename it"
        )
    if _escaped(name) != name or "/" in name or "\\" in name:
        return _escaped(name.replace("\\", "%5C").replace("/", "%2F")), (
            "the submission's name holds control, invisible or separator characters; rename it"
        )
    if len(name) > MAX_ID:
        return f"{name[:MAX_ID]}...", f"the submission's name is longer than {MAX_ID} characters"
    return name, ""


def collect(arguments: list[str]) -> list[Entry]:
    """One entry per student id, sorted by id; every submission sharing an id becomes an error."""
    by_id: dict[str, list[Entry]] = {}
    for argument in arguments:
        path = Path(argument)
        student, problem = _student(path)
        if not problem and not path.exists():
            problem = f"{readable(argument)}: no such file or folder"
        elif not problem and not (path.is_dir() or path.suffix.lower() == ".zip"):
            problem = f"{readable(argument)}: a submission is a folder or a .zip file"
        by_id.setdefault(student, []).append(Entry(student, path, problem))
    entries = []
    for student, same in sorted(by_id.items()):
        if len(same) > 1:
            sources = ", ".join(readable(str(entry.source)) for entry in same)
            problem = f"duplicate student id {student!r}: submitted as {sources}"
            entries.append(Entry(student, same[0].source, problem))
        else:
            entries.append(same[0])
    return entries


def _clean_member(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if "\\" in name:
        raise BadSubmission(f"the zip entry {name!r} uses backslashes; zip it with a standard tool")
    if name.startswith("/") or ".." in path.parts or ":" in path.parts[0]:
        raise BadSubmission(f"the zip entry {name!r} points outside the submission")
    return path


def _member_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & 0x800:
        return info.filename
    try:  # without the UTF-8 flag, zipfile decoded the raw name as cp437
        return info.filename.encode("cp437").decode("utf-8")
    except UnicodeError:
        raise BadSubmission(
            f"the zip entry {info.filename!r} has a name that is not UTF-8"
        ) from None


def _zip_listing(archive: zipfile.ZipFile, name: str) -> dict[PurePosixPath, zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES or sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
        raise BadSubmission(f"{name} is too large to be a submission")
    members = {}
    for info in infos:
        path = _clean_member(_member_name(info))
        if stat.S_ISLNK(info.external_attr >> 16):
            raise BadSubmission(f"the zip entry {str(path)!r} is a symbolic link")
        if not info.is_dir():
            members[path] = info
    return members


def _read_member(archive: zipfile.ZipFile, relative: str, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > MAX_FILE_BYTES:
        raise BadSubmission(f"{relative} is larger than {MAX_FILE_BYTES // 2**20} MiB")
    try:
        with archive.open(info) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        raise BadSubmission(f"cannot read {relative} from the zip ({exc})") from None
    if len(data) > MAX_FILE_BYTES:  # the size in the zip's directory was a lie
        raise BadSubmission(f"{relative} is larger than {MAX_FILE_BYTES // 2**20} MiB")
    return data


def _folder_files(source: Path) -> dict[PurePosixPath, Path]:
    found: dict[PurePosixPath, Path] = {}
    for folder, dirs, files in os.walk(source):  # never follows links to folders
        for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            full = Path(folder, name)
            found[PurePosixPath(full.relative_to(source).as_posix())] = full
        if len(found) > MAX_ZIP_ENTRIES:
            raise BadSubmission(f"{source.name} holds too many files to be a submission")
    return found


# What file managers add beside a student's files: macOS's Finder zips a `__MACOSX/` folder of
# resource forks and `.DS_Store` files along, Windows's Explorer leaves `Thumbs.db` and
# `desktop.ini`. None of it is the student's work.
LITTER_FOLDERS = {"__MACOSX"}
LITTER_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def _is_litter(path: PurePosixPath) -> bool:
    """Whether `path` is a file manager's litter rather than something the student put there."""
    return path.parts[0] in LITTER_FOLDERS or path.name in LITTER_FILES


def _strip_top_folder(
    files: dict[PurePosixPath, Any], wanted: list[str]
) -> dict[PurePosixPath, Any]:
    """Zips often wrap everything in one folder (alice/perceptron/...); look inside it.

    A file manager's litter beside that folder (`__MACOSX/`, `.DS_Store`) does not count as
    another folder or file at the top.
    """
    if any(PurePosixPath(w) in files for w in wanted):
        return files
    own = [path for path in files if not _is_litter(path)]
    tops = {path.parts[0] for path in own if len(path.parts) > 1}
    if len(tops) != 1 or any(len(path.parts) == 1 for path in own):
        return files
    return {PurePosixPath(*path.parts[1:]): files[path] for path in own}


def _read_file(relative: str, path: Path) -> bytes:
    try:
        info = os.lstat(path)
        if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_FILE_BYTES:
            with open(path, "rb") as handle:
                return handle.read(MAX_FILE_BYTES + 1)[:MAX_FILE_BYTES]
    except OSError as exc:
        raise BadSubmission(f"cannot read {relative}: {exc.strerror}") from None
    if stat.S_ISLNK(info.st_mode):
        raise BadSubmission(f"{relative} is a symbolic link; submit the file itself")
    if not stat.S_ISREG(info.st_mode):
        raise BadSubmission(f"{relative} is not a plain file")
    raise BadSubmission(f"{relative} is larger than {MAX_FILE_BYTES // 2**20} MiB")


def stage(entry: Entry, wanted: list[str], target: Path) -> tuple[list[str], list[str]]:
    """Copy the exercise files at `wanted` paths into `target`.

    Returns notes for the gradebook (missing exercise files) and the other files, ignored.

    Raises BadSubmission when the submission cannot be graded at all.
    """
    if entry.problem:
        raise BadSubmission(entry.problem)
    if entry.source.is_dir():
        return _stage_files(_folder_files(entry.source), wanted, target, _read_file)
    try:
        archive = zipfile.ZipFile(entry.source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadSubmission(f"{entry.source.name} is not a readable zip file ({exc})") from None
    with archive:
        listing = _zip_listing(archive, entry.source.name)
        return _stage_files(
            listing, wanted, target, lambda rel, info: _read_member(archive, rel, info)
        )


def _stage_files(
    files: dict[PurePosixPath, Any], wanted: list[str], target: Path,
    read: Callable[[str, Any], bytes],
) -> tuple[list[str], list[str]]:  # fmt: skip
    if not files:
        raise BadSubmission("the submission is empty")
    files = _strip_top_folder(files, wanted)
    staged = [relative for relative in wanted if PurePosixPath(relative) in files]
    if not staged:
        raise BadSubmission(f"the submission holds none of the exercise files ({wanted[0]}, ...)")
    for relative in staged:
        data = read(relative, files[PurePosixPath(relative)])
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        with open(destination, "xb") as handle:
            handle.write(data)
    missing = sorted(set(wanted) - set(staged))
    notes = [f"missing: {', '.join(missing)}"] if missing else []
    ignored = sorted(
        str(p)
        for p in files
        if str(p) not in wanted and "__pycache__" not in p.parts and not _is_litter(p)
    )
    return notes, ignored
