"""Per-request DataLoaders: a page of records loads each kind of related record in one query."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar
from strawberry.dataloader import DataLoader
from strawberry.types import Info

K = TypeVar("K")
V = TypeVar("V")


def loader(info: Info, name: str, fetch: Callable[[Sequence[K]], Awaitable[Mapping[K, V]]],
           default: Any = None) -> DataLoader[K, V]:
    """The request's loader ``name``; ``fetch`` gets all keys asked for in one tick and returns a mapping."""
    loaders = info.context.loaders
    if name not in loaders:
        async def batch(keys: list[K]) -> list[V]:
            found = await fetch(keys)
            return [found.get(key, default) for key in keys]

        loaders[name] = DataLoader(load_fn=batch)
    return loaders[name]
