"""Assembly of a MILP for HiGHS: columns and sparse COO triplets, converted to a ``HighsLp`` at the end.

No modelling layer: the formulation adds blocks of columns and rows with numpy index arrays and the
matrix is built once as a CSC array (duplicates summed, zeros dropped).
"""

from __future__ import annotations

from typing import Final

import highspy
import numpy as np
import scipy.sparse as sp

INTEGRALITY_TOLERANCE: Final = 1e-6  #: a binary/integer value is rounded if this close to an integer


class LpBuilder:
    """Columns and COO triplets of a MILP, converted to a HighsLp at the end."""

    def __init__(self) -> None:
        self.cost: list[np.ndarray] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.integer: list[np.ndarray] = []
        self.n_cols = 0
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.row_lower: list[np.ndarray] = []
        self.row_upper: list[np.ndarray] = []
        self.n_rows = 0

    def add_cols(self, n: int, cost=0.0, lower=0.0, upper=np.inf, integer=False) -> np.ndarray:
        """Append ``n`` columns (cost and bounds broadcast); return their indices."""
        start = self.n_cols
        self.cost.append(np.broadcast_to(np.asarray(cost, dtype=float), (n,)).copy())
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy())
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy())
        self.integer.append(np.full(n, bool(integer)))
        self.n_cols += n
        return np.arange(start, start + n)

    def add_rows(self, n: int, lower, upper) -> int:
        """Append ``n`` rows lower ≤ a·x ≤ upper (bounds broadcast); return the first row's index."""
        start = self.n_rows
        self.row_lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy())
        self.row_upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy())
        self.n_rows += n
        return start

    def add_entries(self, rows, cols, vals) -> None:
        """Add matrix entries (COO triplets, ``vals`` broadcast); duplicates are summed by :meth:`finish`."""
        rows = np.asarray(rows, dtype=np.int64).ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        vals = np.broadcast_to(np.asarray(vals, dtype=float), rows.shape).ravel()
        self.rows.append(rows)
        self.cols.append(cols)
        self.vals.append(vals.copy())

    def finish(self) -> tuple[highspy.HighsLp, np.ndarray, np.ndarray, np.ndarray]:
        """(the HighsLp, column upper bounds, integer mask per column, the CSC matrix)."""
        cost = np.concatenate(self.cost)
        lower = np.concatenate(self.lower)
        upper = np.concatenate(self.upper)
        integer = np.concatenate(self.integer)
        rows = np.concatenate(self.rows) if self.rows else np.zeros(0, dtype=np.int64)
        cols = np.concatenate(self.cols) if self.cols else np.zeros(0, dtype=np.int64)
        vals = np.concatenate(self.vals) if self.vals else np.zeros(0)
        matrix = sp.csc_matrix((vals, (rows, cols)), shape=(self.n_rows, self.n_cols))
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        lp = highspy.HighsLp()
        lp.num_col_ = self.n_cols
        lp.num_row_ = self.n_rows
        lp.col_cost_ = cost
        lp.col_lower_ = lower
        lp.col_upper_ = upper
        lp.row_lower_ = np.concatenate(self.row_lower) if self.row_lower else np.zeros(0)
        lp.row_upper_ = np.concatenate(self.row_upper) if self.row_upper else np.zeros(0)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in integer]
        return lp, upper, integer, matrix
