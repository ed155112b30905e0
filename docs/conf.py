"""Sphinx configuration: theory and bibliography in MyST Markdown, the API reference from the
numpydoc docstrings, the notebooks rendered from their committed outputs (never executed here).

Build with ``make docs`` (warnings are errors), or directly from the repository root:
``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document this checkout, installed or not
os.environ.setdefault("MPLBACKEND", "Agg")

import strong_lth  # noqa: E402

project = "strong_lth"
author = "the strong_lth authors"
copyright = "the strong_lth authors"
release = strong_lth.__version__
version = release

extensions = [
    "myst_nb",  # Markdown pages (MyST) and notebooks; registers myst_parser itself
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "jupyter_execute", "**/.ipynb_checkpoints", "notebooks/results"]

# MyST: $...$ and $$...$$ math, definition lists, heading anchors for "theory.md#5-..." links.
myst_enable_extensions = ["dollarmath", "amsmath", "deflist", "colon_fence"]
myst_heading_anchors = 3
myst_dmath_double_inline = True

# Notebooks are shown with the outputs committed in them: a docs build never runs a notebook.
nb_execution_mode = "off"
nb_merge_streams = True

# API: numpydoc renders the docstrings; autodoc lists members in source order and follows
# ``__all__``. Cross-references that do not resolve (NumPy types, private helpers) are not
# errors: nitpicky mode stays off.
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_default_options = {"members": True, "show-inheritance": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()
nitpicky = False

html_theme = "alabaster"
html_title = f"strong_lth {release}"
html_static_path = []


# --------------------------------------------------------------------------------------------
# Docstrings cite papers by tag ("[P] Theorem 1") and the theory by section ("docs/theory.md,
# section 5"). Turn both into links: tags into bibliography.md's anchors "(bib-<tag>)=", sections
# into theory.md's "(theory-section-<N>)=". A "References" list whose entries wrap onto indented
# lines is joined into one paragraph per entry (docutils would read the indentation as a
# definition list and split the emphasised titles). Only tags the bibliography defines are
# linked; tests/test_docs.py checks that every tag used anywhere is defined there.
# --------------------------------------------------------------------------------------------

import re  # noqa: E402

DOCS = Path(__file__).resolve().parent
BIB_TAGS = set(re.findall(r"^\(bib-([a-z]+)\)=", (DOCS / "bibliography.md").read_text(), re.M))
THEORY_SECTIONS = set(
    re.findall(r"^\(theory-section-(\w+)\)=", (DOCS / "theory.md").read_text(), re.M)
)
TAG = re.compile(r"(?<![\w`\[\]])\[([A-Z][A-Za-z]{0,4})\](?![\w_`])")
THEORY_REF = re.compile(r"docs/theory\.md(,? (?:section |§ ?)(\d+b?)\b(?!-))?")
SECTION_RULE = re.compile(r"^\s*(-{3,}|={3,})\s*$")
ENTRY_START = re.compile(r"^\s*(\[[A-Za-z]+\]|\.\. \[)")


def _outside_literals(line, pattern, replace):
    """Substitute ``pattern`` in ``line`` only outside ``double-backtick`` literals."""
    parts = line.split("``")
    for k in range(0, len(parts), 2):  # even parts are outside literals
        parts[k] = pattern.sub(replace, parts[k])
    return "``".join(parts)


def _tag_link(match):
    tag = match.group(1)
    return f":ref:`[{tag}] <bib-{tag.lower()}>`" if tag.lower() in BIB_TAGS else match.group(0)


def _theory_link(match):
    section = match.group(2)
    if section and section in THEORY_SECTIONS:
        return f":ref:`{match.group(0)} <theory-section-{section}>`"
    return f":doc:`docs/theory.md </theory>`{match.group(1) or ''}"


def _join_references(lines):
    """One line per entry of every "References" section, entries separated by blank lines."""
    out, k = [], 0
    while k < len(lines):
        out.append(lines[k])
        is_header = lines[k].strip() == "References"
        if not (is_header and k + 1 < len(lines) and SECTION_RULE.match(lines[k + 1])):
            k += 1
            continue
        out.append(lines[k + 1])
        k += 2
        entries = []
        while k < len(lines) and not (k + 1 < len(lines) and SECTION_RULE.match(lines[k + 1])):
            text = lines[k].strip()
            if ENTRY_START.match(lines[k]) or (text and not entries):
                entries.append(text)
            elif text:
                entries[-1] += " " + text
            k += 1
        for entry in entries:
            out += [entry, ""]
    return out


def _link_references(app, what, name, obj, options, lines):
    lines[:] = _join_references(lines)
    for k, line in enumerate(lines):
        if line.lstrip().startswith((">>>", "...")):
            continue
        line = _outside_literals(line, TAG, _tag_link)
        lines[k] = _outside_literals(line, THEORY_REF, _theory_link)


def setup(app):
    app.connect("autodoc-process-docstring", _link_references, priority=100)
