"""Texts in several languages: one lookup with one fallback order for every catalogue."""

from __future__ import annotations

from typing import Any, Mapping, Protocol, runtime_checkable

LOCALES = ("zh-CN", "en")


@runtime_checkable
class Localized(Protocol):
    """A text in several languages (a definition's label): ``get(locale)`` reads it in one."""

    def get(self, locale: str = ...) -> str: ...

    def all(self) -> tuple[str, ...]: ...


def pick(texts: Mapping[str, str], locale: str, fallback: str = "en") -> str:
    """The text for ``locale``: exact, then the same language (``zh`` for ``zh-TW``), then ``fallback``."""
    if locale in texts:
        return texts[locale]
    short = locale.split("-")[0]
    for key, text in texts.items():
        if key.split("-")[0] == short:
            return text
    return texts.get(fallback) or next(iter(texts.values()))


def render(
    catalogue: Mapping[str, Mapping[str, str]], key: str, locale: str, fallback: str = "en", /, **params: Any
) -> str:
    """Message ``key`` of ``catalogue`` in ``locale``, with ``{name}`` placeholders filled."""
    text = pick(catalogue[key], locale, fallback)
    return text.format(**params)
