"""Every notebook in ``notebooks/`` runs headless, top to bottom, in FAST mode.

The notebooks are committed with their outputs (so that a reader sees the figures); this test
executes a copy in memory and never writes it back.

Each notebook is one test (a broken one names itself), executed by nbclient in a kernel running
this very interpreter, so that it imports the same ``strong_lth`` as the tests (an editable
install in ``.venv``, or the checkout on ``PYTHONPATH``), with ``MPLBACKEND=Agg``,
``STRONG_LTH_FAST=1`` and a scratch working directory for the results the notebook writes.
"""

import os
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

import strong_lth

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 300
"""Seconds one cell may take in FAST mode before the test fails (a hang, not a slow run)."""


def test_notebooks_exist():
    names = [path.stem for path in NOTEBOOKS]
    assert {"01_subset_sum_scaling", "02_width_vs_error"} <= set(names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_is_valid(path):
    """Committed with outputs (tests/test_docs.py checks them); the format must be valid."""
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert [cell for cell in notebook.cells if cell.cell_type == "code"]


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory):
    """A kernel spec folder whose only kernel runs this interpreter's ipykernel."""
    folder = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(folder / "python3")
    return KernelSpecManager(kernel_dirs=[str(folder)], ensure_native_kernel=False)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs(path, kernel_specs, tmp_path, monkeypatch):
    checkout = str(Path(strong_lth.__file__).parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([checkout, os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("STRONG_LTH_FAST", "1")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        km=KernelManager(kernel_name="python3", kernel_spec_manager=kernel_specs),
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)
    outputs = [output for cell in code for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    assert outputs  # a notebook that shows nothing has nothing to say
