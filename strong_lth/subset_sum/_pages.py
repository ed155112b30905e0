"""Large scratch arrays backed by huge memory pages where the system offers them.

A fresh array is mapped page by page on first write: one page fault per 4 KiB page. The exact
meet in the middle at n = 48 touched about 540 MB of fresh scratch per solve (192 MB since it
streams each half's last merge), 131,000 faults, which measured as long as the arithmetic
itself (system time about half of the solve). On Linux with transparent huge pages in
``madvise`` mode (the common default), asking for huge pages on the array
(``madvise(MADV_HUGEPAGE)``) maps it in 2 MiB pages instead: 512 times fewer faults and far
fewer TLB misses while the merges stream through it. The advice changes where the bytes
live, never their values; elsewhere (or if the kernel declines) the array is an ordinary one.
"""

import sys

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .._config import kernel

HUGE_BYTES = 1 << 22
"""Arrays of at least this many bytes (4 MiB) get the advice. A smaller array holds at most one
whole 2 MiB page (the advice covers only whole huge pages inside it), so it gains little."""

PAGE = 4096
"""The base page size: ``madvise`` wants a page-aligned range."""

MADV_HUGEPAGE = 14
"""Linux's advice value for "back this range with transparent huge pages"."""

ADVISE = sys.platform.startswith("linux") and not numba.config.DISABLE_JIT
"""``madvise`` with :data:`MADV_HUGEPAGE` exists (and means this) on Linux only, and can only be
called from compiled code (the kernels also run as plain Python, ``NUMBA_DISABLE_JIT=1``)."""


@intrinsic
def _madvise(typingctx, address, length, advice):
    """C's ``madvise(address, length, advice)``, resolved by name in the process (libc)."""
    signature = types.int32(types.uintp, types.uintp, types.int32)

    def codegen(context, builder, sig, args):
        byte_ptr = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.IntType(32), [byte_ptr, ir.IntType(64), ir.IntType(32)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "madvise")
        return builder.call(fn, [builder.inttoptr(args[0], byte_ptr), args[1], args[2]])

    return signature, codegen


if ADVISE:

    @kernel
    def empty(size):
        """``np.empty(size)`` (float64), advised onto huge pages if at least :data:`HUGE_BYTES`.

        Only the page-aligned interior is advised; a refusal (huge pages disabled) is ignored:
        the array is then backed by ordinary pages, with the same contents.
        """
        out = np.empty(size)
        if size * 8 >= HUGE_BYTES:
            address = np.uintp(out.ctypes.data)
            start = (address + np.uintp(PAGE - 1)) & ~np.uintp(PAGE - 1)
            stop = (address + np.uintp(size * 8)) & ~np.uintp(PAGE - 1)
            _madvise(start, stop - start, np.int32(MADV_HUGEPAGE))
        return out

else:

    @kernel
    def empty(size):
        """``np.empty(size)`` (float64), without advice (see :data:`ADVISE`)."""
        return np.empty(size)
