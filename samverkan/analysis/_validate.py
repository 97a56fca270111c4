"""Shared argument checks so every statistic refuses bad input the same way."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def finite_coords(
    x: ArrayLike, y: ArrayLike, *, names: tuple[str, str] = ("x", "y")
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return ``x`` and ``y`` as 1-D float arrays, refusing mismatched lengths and non-finite values."""
    xa = np.asarray(x, dtype=np.float64).ravel()
    ya = np.asarray(y, dtype=np.float64).ravel()
    if xa.shape != ya.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same length (got {xa.size} and {ya.size})")
    for name, arr in zip(names, (xa, ya), strict=True):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite values")
    return xa, ya


def positive(value: float, name: str) -> float:
    """Return ``value`` as float, refusing values that are not finite and > 0."""
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number > 0 (got {value!r})")
    return v


def as_rng(rng: int | np.random.Generator | None) -> np.random.Generator:
    """Turn an int seed or Generator into a Generator; ``None`` is refused so randomness stays explicit."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        raise ValueError("rng must be an int seed or a numpy Generator (randomness is always explicit)")
    return np.random.default_rng(rng)
