"""Reproductions of the source papers' figures, built on the pure solvers and physical models."""
