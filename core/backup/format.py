"""The backup file format (pure: no database, no settings). See docs/backups.md.

A file is, in order:

1. the line ``KEHU-BACKUP\\n``;
2. the header, one JSON line: format version, kehu version, created_at, tenants, tables, schema,
   the cipher, the file's nonce prefix and a key check value (an HMAC of a fixed text, so a wrong
   key is told apart from a damaged file without decrypting anything). Never the key;
3. the body: frames ``<u32 length><AES-256-GCM ciphertext>``, each sealing up to ``CHUNK_BYTES`` of
   the plaintext stream (JSON lines), ended by a frame of length 0. A frame's nonce is the file's
   random prefix and the frame's number; its associated data binds the header, the frame number and
   whether it is the last one, so frames cannot be reordered, dropped, moved between files, or the
   body cut short;
4. the trailer, one JSON line: row counts per table and ``sha256``, the SHA-256 of every byte before
   the trailer (so damage anywhere is found before anything is decrypted or written);
5. the trailer's length as a u64.

Values of a row are JSON scalars, or ``[tag, text]`` for the types JSON lacks (UUID, timestamps,
decimals, bytes): a row read from one database kind goes back into the same kind unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import KehuError

MAGIC = b"KEHU-BACKUP\n"
FORMAT_VERSION = 1
CIPHER = "AES-256-GCM"
CHUNK_BYTES = 1 << 20  # plaintext per frame: memory stays bounded whatever the tenant's size
_KEY_CHECK_TEXT = b"kehu-backup-key-check-v1"
_LENGTH = struct.Struct(">I")
_TRAILER_LENGTH = struct.Struct(">Q")
MAX_HEADER_BYTES = 16 << 20


def corrupt(detail: str) -> KehuError:
    return KehuError("BACKUP_CORRUPT", f"the backup file is damaged or not a kehu backup ({detail}); nothing was "
                     "restored", f"备份文件已损坏或不是 kehu 备份（{detail}）；未恢复任何数据")


def parse_key(text: str | None) -> bytes:
    """The backup key from its setting (base64 or base64url of 32 bytes)."""
    if not text:
        raise KehuError("BACKUP_KEY_MISSING", "KEHU_BACKUP_KEY is not set: backups are encrypted with it (see "
                        "docs/backups.md)", "未设置 KEHU_BACKUP_KEY：备份须用它加密（见 docs/backups.md）")
    value = text.strip().replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise KehuError("BACKUP_KEY_INVALID", "KEHU_BACKUP_KEY is not 32 bytes in base64",
                        "KEHU_BACKUP_KEY 不是 base64 编码的 32 字节")
    return raw


def key_check(key: bytes) -> str:
    """Tells whether a key is the one a file was written with; reveals nothing of the key."""
    return hmac.new(key, _KEY_CHECK_TEXT, hashlib.sha256).hexdigest()[:32]


# --- values ----------------------------------------------------------------------------------------

def encode_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, UUID):
        return ["u", str(value)]
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    if isinstance(value, time):
        return ["h", value.isoformat()]
    if isinstance(value, timedelta):
        return ["s", value.total_seconds()]
    if isinstance(value, Decimal):
        return ["n", str(value)]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return ["b", base64.b64encode(bytes(value)).decode()]
    if isinstance(value, (list, tuple)):
        return ["l", [encode_value(v) for v in value]]
    if isinstance(value, dict):
        return ["j", json.dumps(value, ensure_ascii=False, sort_keys=True)]
    raise TypeError(f"a backup cannot hold a value of type {type(value).__name__}")


_DECODERS = {"u": UUID, "t": datetime.fromisoformat, "d": date.fromisoformat, "h": time.fromisoformat,
             "s": lambda v: timedelta(seconds=v), "n": Decimal, "b": base64.b64decode,
             "l": lambda v: [decode_value(x) for x in v], "j": json.loads}


def decode_value(value: Any) -> Any:
    if isinstance(value, list):
        try:
            tag, text = value
            return _DECODERS[tag](text)
        except (KeyError, TypeError, ValueError):
            raise corrupt("a value of unknown shape") from None
    return value


# --- writing -----------------------------------------------------------------------------------------

class Writer:
    """Streams records into a backup file: at most one frame of plaintext is held at a time."""

    def __init__(self, handle: IO[bytes], key: bytes, header: dict[str, Any]) -> None:
        self._handle, self._aead = handle, AESGCM(key)
        self._prefix = os.urandom(8)
        header = {**header, "format": FORMAT_VERSION, "cipher": CIPHER, "chunk_bytes": CHUNK_BYTES,
                  "nonce_prefix": base64.b64encode(self._prefix).decode(), "key_check": key_check(key)}
        line = json.dumps(header, ensure_ascii=False, sort_keys=True).encode() + b"\n"
        self._header_digest = hashlib.sha256(line).digest()
        self._hash = hashlib.sha256()
        self._buffer = bytearray()
        self._frames = 0
        self._emit(MAGIC + line)

    def _emit(self, data: bytes) -> None:
        self._hash.update(data)
        self._handle.write(data)

    def _seal(self, plaintext: bytes, last: bool) -> None:
        nonce = self._prefix + struct.pack(">I", self._frames)
        sealed = self._aead.encrypt(nonce, plaintext, _aad(self._header_digest, self._frames, last))
        self._emit(_LENGTH.pack(len(sealed)) + sealed)
        self._frames += 1

    def write(self, record: dict[str, Any]) -> None:
        self._buffer += json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        while len(self._buffer) >= CHUNK_BYTES:
            chunk = bytes(self._buffer[:CHUNK_BYTES])
            del self._buffer[:CHUNK_BYTES]
            self._seal(chunk, last=False)

    def close(self, trailer: dict[str, Any]) -> str:
        """Seal the rest, write the trailer; the file's checksum (hex)."""
        self._seal(bytes(self._buffer), last=True)
        self._buffer = bytearray()
        self._emit(_LENGTH.pack(0))
        digest = self._hash.hexdigest()
        line = json.dumps({**trailer, "sha256": digest, "frames": self._frames}, sort_keys=True).encode() + b"\n"
        self._handle.write(line + _TRAILER_LENGTH.pack(len(line)))
        return digest


def _aad(header_digest: bytes, number: int, last: bool) -> bytes:
    return header_digest + struct.pack(">I?", number, last)


# --- reading -----------------------------------------------------------------------------------------

class Backup:
    """An opened backup file: header and trailer read and the checksum checked; ``records``
    decrypts the body as it goes."""

    def __init__(self, path: os.PathLike[str] | str) -> None:
        self.path = path
        with open(path, "rb") as handle:
            if handle.read(len(MAGIC)) != MAGIC:
                raise corrupt("no kehu backup header")
            line = handle.readline(MAX_HEADER_BYTES)
            if not line.endswith(b"\n"):
                raise corrupt("header cut short")
            self._header_line = line
            self.body_offset = len(MAGIC) + len(line)
            try:
                self.header: dict[str, Any] = json.loads(line)
            except ValueError:
                raise corrupt("unreadable header") from None
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            if size < self.body_offset + _LENGTH.size + _TRAILER_LENGTH.size:
                raise corrupt("file cut short")
            handle.seek(size - _TRAILER_LENGTH.size)
            (length,) = _TRAILER_LENGTH.unpack(handle.read(_TRAILER_LENGTH.size))
            self.trailer_offset = size - _TRAILER_LENGTH.size - length
            if not self.body_offset <= self.trailer_offset < size:
                raise corrupt("trailer out of place")
            handle.seek(self.trailer_offset)
            try:
                self.trailer: dict[str, Any] = json.loads(handle.read(length))
            except ValueError:
                raise corrupt("unreadable trailer") from None
        if self.header.get("format") != FORMAT_VERSION or self.header.get("cipher") != CIPHER:
            raise KehuError("BACKUP_FORMAT_UNSUPPORTED", f"backup format {self.header.get('format')!r} is not one "
                            "this kehu reads", f"本版本 kehu 无法读取备份格式 {self.header.get('format')!r}")

    def verify_checksum(self) -> str:
        """SHA-256 of everything before the trailer, against the trailer's; reads in chunks."""
        digest = hashlib.sha256()
        with open(self.path, "rb") as handle:
            left = self.trailer_offset
            while left:
                data = handle.read(min(left, 1 << 20))
                if not data:
                    raise corrupt("file cut short")
                digest.update(data)
                left -= len(data)
        if not hmac.compare_digest(digest.hexdigest(), str(self.trailer.get("sha256", ""))):
            raise corrupt("checksum mismatch")
        return digest.hexdigest()

    def check_key(self, key: bytes) -> None:
        if not hmac.compare_digest(key_check(key), str(self.header.get("key_check", ""))):
            raise KehuError("BACKUP_KEY_WRONG", "KEHU_BACKUP_KEY is not the key this backup was written with; "
                            "nothing was restored", "KEHU_BACKUP_KEY 不是写入该备份时的密钥；未恢复任何数据")

    def records(self, key: bytes) -> Iterator[dict[str, Any]]:
        """The body's records in order; refuses a frame that does not open (damage, wrong key)."""
        aead = AESGCM(key)
        header_digest = hashlib.sha256(self._header_line).digest()
        prefix = base64.b64decode(self.header["nonce_prefix"])
        frames = int(self.trailer.get("frames", -1))
        pending = b""
        with open(self.path, "rb") as handle:
            handle.seek(self.body_offset)
            for number in range(frames):
                raw = handle.read(_LENGTH.size)
                if len(raw) != _LENGTH.size:
                    raise corrupt("body cut short")
                (length,) = _LENGTH.unpack(raw)
                sealed = handle.read(length)
                if length == 0 or len(sealed) != length:
                    raise corrupt("body cut short")
                try:
                    plain = aead.decrypt(prefix + struct.pack(">I", number), sealed,
                                         _aad(header_digest, number, number == frames - 1))
                except InvalidTag:
                    raise corrupt(f"frame {number} does not open") from None
                lines = (pending + plain).split(b"\n")
                pending = lines.pop()
                for line in lines:
                    yield json.loads(line)
            if handle.read(_LENGTH.size) != _LENGTH.pack(0) or handle.tell() != self.trailer_offset:
                raise corrupt("body does not end where the trailer starts")
        if pending:
            raise corrupt("last record cut short")
