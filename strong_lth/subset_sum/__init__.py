"""SubsetSum solvers: exact, batched, Numba-compiled, checked against OR-Tools CP-SAT.

Every strong-LTH construction reduces to many small random SubsetSum instances: n real values,
one real target, find the subset whose sum is closest to the target.
"""

from ._result import Status, SubsetSumBatchResult, SubsetSumResult
from ._solve import METHODS, Method, solve, solve_batch, warmup

__all__ = [
    "METHODS",
    "Method",
    "Status",
    "SubsetSumBatchResult",
    "SubsetSumResult",
    "solve",
    "solve_batch",
    "warmup",
]
