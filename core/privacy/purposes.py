"""The purposes consent is recorded for: the one list core checks against and plugins share
(``core.plugins.privacy.PURPOSES``). New purposes join it here."""

from __future__ import annotations

PURPOSES: tuple[str, ...] = ("marketing_sms", "marketing_phone", "marketing_email", "third_party_sharing",
                             "cross_border", "sensitive_processing")

__all__ = ["PURPOSES"]
