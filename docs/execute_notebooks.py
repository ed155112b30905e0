#!/usr/bin/env python3
"""Execute every notebook of a checkout headless in FAST mode and save it with its outputs.

Usage: ``make notebooks`` from the repository root, or
``.venv/bin/python docs/execute_notebooks.py CHECKOUT [CODE_ROOT] [pattern]``.

Runs each notebooks/*.ipynb of CHECKOUT (or those matching the pattern) top to bottom with
nbclient in a kernel of this interpreter, importing strong_lth from CODE_ROOT (default
CHECKOUT) through PYTHONPATH, with STRONG_LTH_FAST=1, the inline matplotlib backend (PNG
figures) and a scratch working directory for the results tables. Then it removes what depends
on the machine or the moment: the scratch directory's absolute path in printed output and
nbclient's per-cell timing metadata. Prints each notebook's time and size.
"""

import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient


def main(argv):
    root = Path(argv[0]).resolve()
    code = Path(argv[1]).resolve() if len(argv) > 1 else root
    pattern = argv[2] if len(argv) > 2 else "*.ipynb"
    kernels = Path(tempfile.mkdtemp())
    write_kernel_spec(kernels / "python3")
    specs = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
    os.environ["PYTHONPATH"] = str(code)
    os.environ["STRONG_LTH_FAST"] = "1"
    os.environ.pop("MPLBACKEND", None)  # the kernel's inline backend: figures become PNG outputs
    for path in sorted((root / "notebooks").glob(pattern)):
        work = Path(tempfile.mkdtemp())
        notebook = nbformat.read(path, as_version=4)
        start = time.time()
        NotebookClient(
            notebook,
            km=KernelManager(kernel_name="python3", kernel_spec_manager=specs),
            timeout=600,
            resources={"metadata": {"path": str(work)}},
        ).execute()
        scratch = re.escape(str(work) + os.sep)
        for cell in notebook.cells:
            cell.metadata.pop("execution", None)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream":
                    output["text"] = re.sub(scratch, "", output["text"])
        nbformat.validate(notebook)
        nbformat.write(notebook, path)
        size = path.stat().st_size
        print(f"{path.name}: {time.time() - start:.0f} s, {size:,} bytes", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
