"""The sign-in challenge (seed-004 CSM-18, SEC-06 "captcha"): after a tenant-set number of failed
sign-ins for a username, the next sign-in must carry the answer to a question asked by
``signInChallenge``. Pure: the question, its answer's hash, and the check. The answer is stored
only as a hash bound to the challenge id; a challenge works once and for ``LIFETIME``."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from uuid import UUID

LIFETIME = timedelta(minutes=5)
_WORDS = {"en": ("What is {a} plus {b}?", "What is {a} times {b}?"),
          "zh": ("{a} 加 {b} 等于多少？", "{a} 乘 {b} 等于多少？")}


def new_question(language: str = "en") -> tuple[str, str]:
    """A short arithmetic question and its answer (digits)."""
    a, b = secrets.randbelow(40) + 2, secrets.randbelow(9) + 2
    times = secrets.randbelow(2) == 1
    words = _WORDS["zh" if language.startswith("zh") else "en"]
    question = (words[1] if times else words[0]).format(a=a, b=b)
    return question, str(a * b if times else a + b)


def answer_hash(challenge_id: UUID, answer: str) -> str:
    """The stored form of an answer: bound to its challenge, so one answer's hash opens no other."""
    return hashlib.sha256(f"{challenge_id}:{answer.strip()}".encode()).hexdigest()


def answer_matches(challenge_id: UUID, answer: str, stored: str) -> bool:
    return hmac.compare_digest(answer_hash(challenge_id, answer), stored)


def challenge_due(failures: int, after: int) -> bool:
    """Whether a sign-in needs a challenge: ``after`` failures counted (0 switches it off)."""
    return after > 0 and failures >= after
