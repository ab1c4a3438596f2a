"""Coded errors. Every error a user can cause carries a stable code and a message in zh-CN and en."""

from __future__ import annotations


class Message(str):
    """A coded error's message: it reads as the English text (``str(error.message)``, which is what
    graphql-core and log lines take), and called with a language it gives that language's text
    (``error.message("zh-CN")``)."""

    zh: str

    def __new__(cls, message_en: str, message_zh: str) -> Message:
        text = super().__new__(cls, message_en)
        text.zh = message_zh
        return text

    def __call__(self, language: str = "en") -> str:
        return self.zh if language.lower().startswith("zh") else str.__str__(self)


class KehuError(Exception):
    """An expected failure: shown to the caller with its code, never masked."""

    code: str = "KEHU_ERROR"

    def __init__(
        self,
        code: str,
        message_en: str,
        message_zh: str | None = None,
        *,
        field: str | None = None,
    ) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_en = message_en
        self.message_zh = message_zh or message_en
        self.field = field

    @property
    def message(self) -> Message:
        """``error.message`` is the English text; ``error.message(language)`` the text in ``language``."""
        return Message(self.message_en, self.message_zh)


class ConfigurationError(KehuError):
    """A setting is missing or wrong; the process must not start."""

    def __init__(self, message: str) -> None:
        super().__init__("CONFIGURATION_INVALID", message, f"配置错误：{message}")


class NotFound(KehuError):
    def __init__(self, what: str, key: object) -> None:
        super().__init__("NOT_FOUND", f"{what} {key} not found", f"未找到{what} {key}")


class TenantRequired(KehuError):
    def __init__(self) -> None:
        super().__init__(
            "TENANT_REQUIRED",
            "this operation needs a tenant context",
            "此操作需要租户上下文",
        )
