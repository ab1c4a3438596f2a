"""Audit anchors: signed records of each tenant's chain, kept where the database cannot reach.

A chain that verifies only against itself proves little: whoever can write the database can
edit an entry and recompute every hash after it, delete an entry and renumber the rest, rewind
the tail, or move the chain's base as if old entries had been pruned. An anchor is a line that
the anchoring process signs with an Ed25519 key the database never holds and appends to a store
outside the database (a directory here; anything behind ``AnchorStore``). It records:

- ``seq``/``hash``: the chain head at that moment, and ``count``, how many entries the chain held;
- ``prev_seq``/``prev_hash``: where the previous anchor ended (the chain's base for the first);
- ``entries``: the first 16 bytes of the hash of every entry since the previous anchor, so the
  verifier names the first entry that changed, not just the anchor that no longer matches.

A prune appends a signed ``prune`` record naming the new base before it deletes anything, so a
base moved without one is reported. Anchoring checks the new part of the chain against the last
anchor first and refuses to sign a chain that does not hold. What this does not stop is written
in docs/operators.md ("Audit log").
"""

from __future__ import annotations

import asyncio
import base64
import fcntl
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from core.errors import ConfigurationError
from core.settings import embedded_secret

VERSION = 1
PREFIX_BYTES = 16  # per entry: 128 bits of its hash, enough that no entry can be forged to match
MAX_ENTRIES_PER_ANCHOR = 10_000  # a long backlog (a big import) is anchored as several lines
KEY_FILE = "audit-anchor-key"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- keys ----------------------------------------------------------------------------------------

def public_key_text(key: Ed25519PublicKey) -> str:
    return _b64(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


@dataclass(frozen=True)
class AnchorKeys:
    """The key that signs new anchors (absent in a process that only verifies) and every public
    key whose anchors are trusted, by key id."""

    signing: Ed25519PrivateKey | None
    trusted: dict[str, Ed25519PublicKey]

    @classmethod
    def of(cls, signing: Ed25519PrivateKey | None, *public: Ed25519PublicKey) -> AnchorKeys:
        keys = [*(k for k in public), *([signing.public_key()] if signing else [])]
        return cls(signing=signing, trusted={key_id(k): k for k in keys})

    @property
    def signing_kid(self) -> str:
        if self.signing is None:
            raise ConfigurationError("KEHU_AUDIT_ANCHOR_KEY: this process has no anchor signing key")
        return key_id(self.signing.public_key())


def _seed_key(seed_text: str, name: str) -> Ed25519PrivateKey:
    try:
        seed = _unb64(seed_text.strip())
    except ValueError:
        seed = b""
    if len(seed) != 32:
        raise ConfigurationError(f"{name}: not a base64url Ed25519 seed of 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


def resolve_anchor_keys(settings) -> AnchorKeys:
    """The configured key, or on the embedded profile one generated once under ``var_dir``."""
    public = []
    for text in settings.audit_anchor_public_keys:
        try:
            public.append(Ed25519PublicKey.from_public_bytes(_unb64(text)))
        except ValueError:
            raise ConfigurationError("KEHU_AUDIT_ANCHOR_PUBLIC_KEYS: not a base64url Ed25519 public key") from None
    if settings.audit_anchor_key:
        return AnchorKeys.of(_seed_key(settings.audit_anchor_key, "KEHU_AUDIT_ANCHOR_KEY"), *public)
    if not settings.is_embedded:
        raise ConfigurationError("KEHU_AUDIT_ANCHOR_KEY: the production profile needs an audit anchor signing key")
    seed = embedded_secret(Path(settings.var_dir) / KEY_FILE, lambda: _b64(os.urandom(32)))
    return AnchorKeys.of(_seed_key(seed, KEY_FILE), *public)


# --- the store -------------------------------------------------------------------------------------

class AnchorStore(Protocol):
    """Append-only lines per tenant, outside the database. ``read`` returns the complete lines and
    a version; ``append`` adds a line only if the tenant's lines are still at that version (two
    anchoring processes must not both extend the same anchor) and returns the new version, or
    ``None`` when someone appended first."""

    def read(self, tenant_id: UUID) -> tuple[list[str], object]: ...

    def append(self, tenant_id: UUID, line: str, version: object) -> object | None: ...


class DirectoryAnchorStore:
    """One ``<tenant id>.jsonl`` file per tenant in a directory (mount a separate volume, or one
    with append-only/WORM protection, in production). Appends hold an exclusive file lock."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _path(self, tenant_id: UUID) -> Path:
        return self.directory / f"{UUID(str(tenant_id))}.jsonl"

    def read(self, tenant_id: UUID) -> tuple[list[str], object]:
        try:
            data = self._path(tenant_id).read_bytes()
        except FileNotFoundError:
            return [], 0
        # A line without its newline was torn by a crash mid-write: it was never a complete anchor.
        complete = data[: data.rfind(b"\n") + 1]
        return complete.decode("utf-8", errors="replace").splitlines(), len(data)

    def append(self, tenant_id: UUID, line: str, version: object) -> object | None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path(tenant_id), os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size != version:
                return None
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = "\n" + line  # close a torn line so this one stands alone
            data = (line + "\n").encode()
            os.write(fd, data)
            os.fsync(fd)
            return size + len(data)
        finally:
            os.close(fd)


# --- anchors -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Anchor:
    """One signed record. ``kind`` "anchor": the chain up to ``seq``; "prune": ``seq``/``hash`` is
    the base the chain may start from once older entries are deleted."""

    kind: str
    tenant_id: UUID
    seq: int
    hash: str
    prev_seq: int
    prev_hash: str
    count: int
    at: datetime
    entries: bytes = b""  # PREFIX_BYTES per entry from prev_seq + 1 to seq

    def prefix(self, seq: int) -> bytes:
        start = (seq - self.prev_seq - 1) * PREFIX_BYTES
        return self.entries[start:start + PREFIX_BYTES]

    def body(self) -> dict:
        return {"v": VERSION, "kind": self.kind, "tenant": str(self.tenant_id), "seq": self.seq, "hash": self.hash,
                "prev_seq": self.prev_seq, "prev_hash": self.prev_hash, "count": self.count,
                "at": self.at.astimezone(UTC).isoformat(), "entries": _b64(self.entries)}


def _canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign(keys: AnchorKeys, anchor: Anchor) -> str:
    body = anchor.body()
    body["kid"] = keys.signing_kid
    body["sig"] = _b64(keys.signing.sign(_canonical(body)))  # type: ignore[union-attr]
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


class AnchorInvalid(Exception):
    def __init__(self, line_number: int, reason: str, seq: int | None = None) -> None:
        super().__init__(f"anchor line {line_number}: {reason}")
        self.line_number, self.reason, self.seq = line_number, reason, seq


def _parse(keys: AnchorKeys, tenant_id: UUID, number: int, line: str) -> Anchor:
    try:
        body = json.loads(line)
        seq = int(body["seq"]) if isinstance(body, dict) and isinstance(body.get("seq"), int) else None
        signature = _unb64(body.pop("sig"))
        key = keys.trusted.get(body.get("kid"))
        if key is None:
            raise AnchorInvalid(number, "signed by an unknown key", seq)
        try:
            key.verify(signature, _canonical(body))
        except InvalidSignature:
            raise AnchorInvalid(number, "bad signature", seq) from None
        anchor = Anchor(kind=body["kind"], tenant_id=UUID(body["tenant"]), seq=int(body["seq"]), hash=body["hash"],
                        prev_seq=int(body["prev_seq"]), prev_hash=body["prev_hash"], count=int(body["count"]),
                        at=datetime.fromisoformat(body["at"]), entries=_unb64(body["entries"]))
    except AnchorInvalid:
        raise
    except (ValueError, KeyError, TypeError, AttributeError):
        raise AnchorInvalid(number, "unreadable") from None
    if body.get("v") != VERSION or anchor.kind not in ("anchor", "prune"):
        raise AnchorInvalid(number, "unknown record", anchor.seq)
    if anchor.tenant_id != tenant_id:
        raise AnchorInvalid(number, "another tenant's anchor", anchor.seq)
    return anchor


@dataclass
class AnchorLog:
    """A tenant's verified anchors in order (contiguous), its prune records, and the first problem."""

    anchors: list[Anchor] = field(default_factory=list)
    prunes: list[Anchor] = field(default_factory=list)
    invalid: AnchorInvalid | None = None
    version: object = 0

    @property
    def last(self) -> Anchor | None:
        return self.anchors[-1] if self.anchors else None

    @property
    def covered_from(self) -> int | None:
        """Anchored positions are ``covered_from < seq <= last.seq``."""
        return self.anchors[0].prev_seq if self.anchors else None

    def approved_bases(self, genesis: str) -> dict[int, str]:
        """Where the chain may start: its genesis, where anchoring started, and every signed prune."""
        bases = {0: genesis}
        if self.anchors:
            bases[self.anchors[0].prev_seq] = self.anchors[0].prev_hash
        bases.update({p.seq: p.hash for p in self.prunes})
        return bases

    def prefix(self, seq: int) -> bytes | None:
        """The anchored prefix of entry ``seq``'s hash, if an anchor covers it."""
        if not self.anchors or not self.anchors[0].prev_seq < seq <= self.anchors[-1].seq:
            return None
        low, high = 0, len(self.anchors) - 1
        while low < high:  # the first anchor whose seq >= seq
            middle = (low + high) // 2
            if self.anchors[middle].seq < seq:
                low = middle + 1
            else:
                high = middle
        return self.anchors[low].prefix(seq)


def parse_log(keys: AnchorKeys, tenant_id: UUID, lines: Iterable[str], version: object = 0) -> AnchorLog:
    log = AnchorLog(version=version)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            anchor = _parse(keys, tenant_id, number, line)
            if anchor.kind == "prune":
                log.prunes.append(anchor)
                continue
            previous = log.last
            if len(anchor.entries) != (anchor.seq - anchor.prev_seq) * PREFIX_BYTES or anchor.seq <= anchor.prev_seq:
                raise AnchorInvalid(number, "entry list does not match its range", anchor.seq)
            if anchor.prefix(anchor.seq) != bytes.fromhex(anchor.hash)[:PREFIX_BYTES]:
                raise AnchorInvalid(number, "head does not match its entries", anchor.seq)
            if previous is not None and (anchor.prev_seq, anchor.prev_hash) != (previous.seq, previous.hash):
                # A line removed from the middle, or anchors reordered.
                raise AnchorInvalid(number, "does not continue the previous anchor", anchor.seq)
            log.anchors.append(anchor)
        except AnchorInvalid as exc:
            log.invalid = exc
            break
    return log


# --- configuration ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Anchoring:
    store: AnchorStore
    keys: AnchorKeys
    interval: timedelta = timedelta(minutes=5)
    grace: timedelta = timedelta(days=1)

    def _read(self, tenant_id: UUID) -> AnchorLog:
        lines, version = self.store.read(tenant_id)
        return parse_log(self.keys, tenant_id, lines, version)

    async def read(self, tenant_id: UUID) -> AnchorLog:
        """The tenant's anchors, signatures checked; reading and checking run off the event loop."""
        return await asyncio.to_thread(self._read, tenant_id)

    async def append(self, anchor: Anchor, version: object) -> object | None:
        """Sign and append ``anchor`` if the store is still at ``version``; the new version or None."""
        return await asyncio.to_thread(self.store.append, anchor.tenant_id, sign(self.keys, anchor), version)


_anchoring: Anchoring | None = None


def configure_audit_anchors(settings_or_anchoring) -> Anchoring:
    """Set the process's anchor store and keys (at start; tests may pass an ``Anchoring``)."""
    global _anchoring
    if isinstance(settings_or_anchoring, Anchoring):
        _anchoring = settings_or_anchoring
    else:
        settings = settings_or_anchoring
        directory = settings.audit_anchor_dir
        if directory is None:
            if not settings.is_embedded:
                raise ConfigurationError("KEHU_AUDIT_ANCHOR_DIR: the production profile needs an anchor directory "
                                         "outside the database (a separate volume)")
            directory = Path(settings.var_dir) / "audit-anchors"
        _anchoring = Anchoring(store=DirectoryAnchorStore(Path(directory)), keys=resolve_anchor_keys(settings),
                               interval=timedelta(seconds=settings.audit_anchor_interval_seconds),
                               grace=timedelta(seconds=settings.audit_anchor_grace_seconds))
    return _anchoring


def anchoring() -> Anchoring:
    """The process's anchoring; configured from the environment on first use if start did not."""
    if _anchoring is None:
        from core.settings import load_settings

        return configure_audit_anchors(load_settings())
    return _anchoring


def entry_prefix(entry_hash: str) -> bytes:
    return bytes.fromhex(entry_hash)[:PREFIX_BYTES]

