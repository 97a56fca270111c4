"""Regular square grids over projected coordinates (SWEREF 99 TM metres).

The grid is the one place where cells are defined: KDE, Gi*, forecasts and the
public aggregation all bin onto a :class:`Grid`, so a cell means the same thing
everywhere.

References
----------
Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping for
predicting spatial patterns of crime. *Security Journal* 21, 4-28.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from samverkan.analysis._validate import finite_coords, positive


@dataclass(frozen=True, slots=True)
class CellIndex:
    """Row/column of each point and whether it fell inside the grid.

    Attributes
    ----------
    row, col : ndarray of int
        Cell indices; meaningful only where ``inside`` is True (else -1).
    inside : ndarray of bool
        True where the point lies in the grid's extent (lower and left edges
        inclusive, upper and right edges exclusive).
    """

    row: NDArray[np.intp]
    col: NDArray[np.intp]
    inside: NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Grid:
    """A regular grid of square cells.

    ``(x0, y0)`` is the lower-left corner in metres. Arrays over the grid have
    shape ``(ny, nx)``; cell ``[i, j]`` has its centre at
    ``(x0 + (j + 0.5) * cell_size, y0 + (i + 0.5) * cell_size)``, so row ``i``
    grows northwards.

    Parameters
    ----------
    x0, y0 : float
        Lower-left corner (easting, northing) in metres.
    cell_size : float
        Side of a cell in metres, > 0.
    nx, ny : int
        Number of columns and rows, each >= 1.

    Examples
    --------
    >>> g = Grid(425000.0, 6142000.0, 100.0, 30, 20)
    >>> g.shape
    (20, 30)
    >>> float(g.bin([425050.0], [6142050.0])[0, 0])
    1.0
    """

    x0: float
    y0: float
    cell_size: float
    nx: int
    ny: int

    def __post_init__(self) -> None:
        for name in ("x0", "y0"):
            if not math.isfinite(float(getattr(self, name))):
                raise ValueError(f"{name} must be finite")
        positive(self.cell_size, "cell_size")
        for name in ("nx", "ny"):
            n = getattr(self, name)
            if int(n) != n or n < 1:
                raise ValueError(f"{name} must be a whole number >= 1 (got {n!r})")

    @classmethod
    def covering(cls, xmin: float, ymin: float, xmax: float, ymax: float, cell_size: float) -> Grid:
        """The smallest grid with corner ``(xmin, ymin)`` whose cells cover the box.

        Parameters
        ----------
        xmin, ymin, xmax, ymax : float
            Bounding box in metres; ``xmax >= xmin`` and ``ymax >= ymin``.
        cell_size : float
            Cell side in metres.
        """
        positive(cell_size, "cell_size")
        if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
            raise ValueError("bounds must be finite")
        if xmax < xmin or ymax < ymin:
            raise ValueError("bounds must satisfy xmin <= xmax and ymin <= ymax")
        # A point exactly on the far edge would fall outside a half-open grid, so add one cell where needed.
        nx = max(1, math.floor((xmax - xmin) / cell_size) + 1)
        ny = max(1, math.floor((ymax - ymin) / cell_size) + 1)
        return cls(float(xmin), float(ymin), float(cell_size), int(nx), int(ny))

    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)``."""
        return (self.ny, self.nx)

    @property
    def cell_area(self) -> float:
        """Area of one cell in m²."""
        return self.cell_size * self.cell_size

    @property
    def x1(self) -> float:
        """Right edge in metres."""
        return self.x0 + self.nx * self.cell_size

    @property
    def y1(self) -> float:
        """Top edge in metres."""
        return self.y0 + self.ny * self.cell_size

    def x_centres(self) -> NDArray[np.float64]:
        """Easting of each column's centre, shape ``(nx,)``."""
        return np.asarray(self.x0 + (np.arange(self.nx) + 0.5) * self.cell_size, dtype=np.float64)

    def y_centres(self) -> NDArray[np.float64]:
        """Northing of each row's centre, shape ``(ny,)``."""
        return np.asarray(self.y0 + (np.arange(self.ny) + 0.5) * self.cell_size, dtype=np.float64)

    def centres(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Cell-centre coordinates as two ``(ny, nx)`` arrays ``(X, Y)``."""
        return np.meshgrid(self.x_centres(), self.y_centres())

    def locate(self, x: ArrayLike, y: ArrayLike) -> CellIndex:
        """Find the cell of each point.

        Raises
        ------
        ValueError
            If ``x`` and ``y`` differ in length or hold NaN/inf.
        """
        xa, ya = finite_coords(x, y)
        col = np.floor((xa - self.x0) / self.cell_size).astype(np.intp)
        row = np.floor((ya - self.y0) / self.cell_size).astype(np.intp)
        inside = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        return CellIndex(
            row=np.where(inside, row, -1),
            col=np.where(inside, col, -1),
            inside=inside,
        )

    def bin(self, x: ArrayLike, y: ArrayLike, weights: ArrayLike | None = None) -> NDArray[np.float64]:
        """Count (or sum ``weights`` of) points per cell; points outside the grid are dropped.

        Returns
        -------
        ndarray, shape ``(ny, nx)``
        """
        idx = self.locate(x, y)
        flat = idx.row[idx.inside] * self.nx + idx.col[idx.inside]
        w = None
        if weights is not None:
            wa = np.asarray(weights, dtype=np.float64).ravel()
            if wa.size != idx.inside.size:
                raise ValueError(f"weights must have one value per point (got {wa.size} for {idx.inside.size} points)")
            if not np.all(np.isfinite(wa)):
                raise ValueError("weights contains NaN or infinite values")
            w = wa[idx.inside]
        counts = np.bincount(flat, weights=w, minlength=self.nx * self.ny).astype(np.float64)
        return counts.reshape(self.shape)

    def check_mask(self, mask: ArrayLike | None) -> NDArray[np.bool_]:
        """Return a boolean ``(ny, nx)`` mask (True = cell is studied); ``None`` means every cell."""
        if mask is None:
            return np.ones(self.shape, dtype=bool)
        m = np.asarray(mask)
        if m.shape != self.shape:
            raise ValueError(f"mask must have the grid's shape {self.shape} (got {m.shape})")
        return m.astype(bool)
