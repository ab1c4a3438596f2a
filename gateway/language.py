"""The language of messages, negotiated from ``Accept-Language`` (RFC 9110 §12.5.4).

kehu speaks two languages: ``zh`` (zh-CN messages) and ``en``. The client's ranges are taken in
the order of their q-values (the header's order breaks ties); the first range that names one of
them wins: ``en;q=0.9, zh-CN;q=0.8`` is English, ``zh;q=0.1, en`` English, ``fr, zh`` Chinese.
``*`` stands for any language not named elsewhere in the header; ``q=0`` means "not this one".
Without a header, or when no range matches, the default is English, as it always was.
"""

from __future__ import annotations

from functools import lru_cache

DEFAULT = "en"
SUPPORTED = ("zh", "en")


def _q(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0  # a q we cannot read is not a preference we can honour
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0


def _supported(tag: str) -> str | None:
    primary = tag.split("-", 1)[0]
    return primary if primary in SUPPORTED else None


@lru_cache(maxsize=256)  # a handful of distinct headers in practice; bounded against odd ones
def negotiate(accept_language: str | None) -> str:
    """``zh`` or ``en`` for an ``Accept-Language`` header value."""
    if not accept_language:
        return DEFAULT
    ranges: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language[:1000].split(",")):
        tag, *parameters = item.split(";")
        tag = tag.strip().lower()
        if tag:
            ranges.append((_q(parameters), position, tag))
    named = {_supported(tag) for _, _, tag in ranges if tag != "*"}
    refused = {_supported(tag) for q, _, tag in ranges if q == 0.0}
    for q, _, tag in sorted(ranges, key=lambda r: (-r[0], r[1])):
        if q == 0.0:
            break
        if tag == "*":
            # Any language the header did not name: the default if it is free, else the other one.
            for language in (DEFAULT, *SUPPORTED):
                if language not in named and language not in refused:
                    return language
            continue
        language = _supported(tag)
        if language is not None:
            return language
    return DEFAULT


def of_headers(headers: object) -> str:
    """The language of a request's headers (anything with ``get``)."""
    return negotiate(getattr(headers, "get")("accept-language", ""))
