"""Parameter sweeps: a sweep file, the runs it expands to, and executors from one process pool to a dask cluster."""
