"""Uploaded documents on disk: what is accepted, and where it goes.

A file is accepted when its name is a plain file name (no folder in it), its extension is one of
PDF, JPEG or PNG, its first bytes say the same type as its extension (a PNG called ``stub.pdf`` is
refused), and it is not larger than ``UPLOAD_MAX_BYTES``. It is stored under ``UPLOAD_FOLDER``
(outside the web root: no URL reaches it except the checked download view) with a random name, so
nothing the uploader chose reaches the file system.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass
from typing import IO, Any

from flask_babel import lazy_gettext as _l

from loanapp.applications.errors import DocumentRefused

# Magic numbers: PDF files start with "%PDF-", JPEG with FF D8 FF, PNG with its 8-byte signature.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
EXTENSIONS = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
STORED_EXTENSION = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class CheckedFile:
    original_name: str
    content_type: str
    content: bytes
    sha256: str


def sniff(head: bytes) -> str | None:
    """The content type the file's first bytes announce, or None for anything else."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def check_name(name: str | None) -> str:
    """The name as given, if it is a plain file name with an accepted extension."""
    if not name or not name.strip():
        raise DocumentRefused(_l("Choose a file to upload."))
    if "/" in name or "\\" in name or "\x00" in name or name.strip() in (".", ".."):
        raise DocumentRefused(_l("The file name must not contain a folder. Rename the file and try again."))
    if len(name) > MAX_NAME_LENGTH:
        raise DocumentRefused(_l("The file name is too long. Rename the file and try again."))
    if os.path.splitext(name)[1].lower() not in EXTENSIONS:
        raise DocumentRefused(_l("Upload a PDF, JPEG or PNG file."))
    return name.strip()


def check_file(name: str | None, stream: IO[bytes], max_bytes: int) -> CheckedFile:
    """Read and check an upload; raises ``DocumentRefused`` with a message the worker can act on."""
    name = check_name(name)
    content = stream.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise DocumentRefused(
            _l("The file is larger than %(size)d MB. Upload a smaller file.", size=max(1, max_bytes // 2**20))
        )
    if not content:
        raise DocumentRefused(_l("The file is empty."))
    claimed = EXTENSIONS[os.path.splitext(name)[1].lower()]
    actual = sniff(content[:16])
    if actual is None:
        raise DocumentRefused(_l("This file is not a PDF, JPEG or PNG. Upload one of those."))
    if actual != claimed:
        raise DocumentRefused(
            _l("The file's contents do not match its name (.%(ext)s).", ext=name.rsplit(".", 1)[-1].lower())
        )
    return CheckedFile(name, actual, content, hashlib.sha256(content).hexdigest())


def upload_folder(config: Any, instance_path: str) -> str:
    return str(config.get("UPLOAD_FOLDER") or os.path.join(instance_path, "uploads"))


def store(folder: str, checked: CheckedFile) -> str:
    """Write the file under a new random name (never overwriting) and return that name."""
    os.makedirs(folder, mode=0o700, exist_ok=True)
    stored_name = secrets.token_hex(20) + STORED_EXTENSION[checked.content_type]
    descriptor = os.open(os.path.join(folder, stored_name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(checked.content)
    return stored_name


def path_of(folder: str, stored_name: str) -> str:
    """The stored file's path; a stored name is ours, but check it stays inside the folder anyway."""
    root = os.path.realpath(folder)
    path = os.path.realpath(os.path.join(root, stored_name))
    if os.path.dirname(path) != root or not os.path.isfile(path):
        raise FileNotFoundError(stored_name)
    return path


def remove(folder: str, stored_name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path_of(folder, stored_name))
