"""Which 2-D points a polygon (a lasso in a plot) encloses."""

from __future__ import annotations

import numpy as np


def points_in_polygon(points: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Boolean mask ``(n,)`` of the ``(n, 2)`` points inside the polygon ``vertices`` ``(m, 2)``."""
    from matplotlib.path import Path as MplPath

    pts = np.asarray(points, dtype=np.float64)
    verts = np.asarray(vertices, dtype=np.float64)
    if pts.size == 0 or verts.shape[0] < 3:
        return np.zeros(pts.shape[0] if pts.ndim == 2 else 0, dtype=bool)
    return MplPath(verts).contains_points(pts)
