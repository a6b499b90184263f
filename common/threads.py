"""Numerical runs on one BLAS thread, so their results do not depend on the machine's thread settings.

OpenBLAS splits even small dense operations across its threads, and the split changes the order of
floating-point sums: the same precoding solve gave objectives that differ in the 9th digit with
one or two BLAS threads, and the SCA then stopped at a different iterate. A simulation or a sweep
task runs inside :func:`one_blas_thread`, so a scenario and seed give the same log in a local
process, a forkserver worker or a dask worker (which sets its own thread variables). The problems
here are 4×4 to 16×16, where one thread is also the fastest.
"""

from __future__ import annotations

from threadpoolctl import threadpool_limits


def one_blas_thread() -> threadpool_limits:
    """A context in which every loaded BLAS library (OpenBLAS, MKL, BLIS) uses one thread."""
    return threadpool_limits(limits=1, user_api="blas")
