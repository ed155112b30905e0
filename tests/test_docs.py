"""The documentation: it builds without a warning, and the repository is self-contained.

- ``docs/`` builds with Sphinx, warnings as errors, into a scratch folder (what ``make docs``
  runs), so a docstring that breaks the API reference fails the suite.
- No tracked text file points outside the repository: no path of one machine, no document that
  a clone does not have. The theory is ``docs/theory.md``; every section a file cites exists
  there, and every paper tag such as ``[P]`` is defined in ``docs/bibliography.md``.
- The notebooks are committed with their outputs (a reader sees the figures without running
  them), without errors and small enough to keep in git.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TEXT_SUFFIXES = {".py", ".md", ".ipynb", ".toml", ".cfg", ".txt", ".rst", ".yml", ".yaml"}
NOTEBOOK_BYTES = 1_000_000
"""Largest committed notebook, outputs included."""

# Assembled from pieces so that this file does not contain what it looks for.
_SPEC = "THE" + "ORY"
FORBIDDEN = {
    "a sibling folder of the repository": re.compile(r"\.\./" + "shared"),
    "the external specification": re.compile(
        _SPEC + r"\.md|" + _SPEC + r"\s+sections?\b|" + _SPEC + r"\s*§"
    ),
    "an absolute path of one machine": re.compile(r"(?<![\w.])/(?:" + "work|root|home" + r")/"),
}
TAG = re.compile(r"(?<![\w\[`])\[([A-Z]{1,4})\](?![\w(\[:])")
"""A paper tag such as ``[P]`` or ``[TXT]`` (not an index ``x[P]``, not a link ``[P](...)``)."""
SECTION_REF = re.compile(r"docs/theory\.md,?\s+(?:sections?\s+|§\s*)([0-9]+b?)")


def tracked_text_files() -> list[Path]:
    """The repository's text files: tracked by git when there is a checkout, else on disk."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
        ).stdout.decode()
        paths = [ROOT / name for name in listing.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "build", "_build", "results", "__pycache__"}
        paths = [p for p in ROOT.rglob("*") if not skip & set(p.relative_to(ROOT).parts)]
    return sorted(
        p
        for p in paths
        if p.is_file()
        and not p.is_symlink()
        and (p.suffix in TEXT_SUFFIXES or p.name == "Makefile")
    )


def lines_matching(pattern: re.Pattern, files=None) -> list[str]:
    found = []
    for path in tracked_text_files() if files is None else files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if pattern.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    return found


def test_tracked_text_files_cover_the_repository():
    names = {str(p.relative_to(ROOT)) for p in tracked_text_files()}
    assert {"README.md", "Makefile", "pyproject.toml", "docs/theory.md", "docs/conf.py"} <= names
    assert any(name.startswith("strong_lth/") and name.endswith(".py") for name in names)
    assert any(name.endswith(".ipynb") for name in names)


@pytest.mark.parametrize("what", sorted(FORBIDDEN))
def test_no_file_points_outside_the_repository(what):
    found = lines_matching(FORBIDDEN[what])
    assert not found, f"{len(found)} lines name {what}:\n" + "\n".join(found)


def test_forbidden_patterns_catch_what_they_must():
    spec = _SPEC
    bad = [
        f"see ../{'shared'}/{spec}.md",
        f"({spec} section 5)",
        f"{spec} sections 3-5",
        f"title (certified: {spec} §5)",
        "cd /" + "work/main && make",
        "python /" + "root/x.py",
    ]
    good = ["docs/theory.md, section 5", "a/work/b", "~/home", "http://x.org/home/"]
    assert all(any(p.search(line) for p in FORBIDDEN.values()) for line in bad)
    assert not any(p.search(line) for p in FORBIDDEN.values() for line in good)


def theory_sections() -> set[str]:
    text = (DOCS / "theory.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\(theory-section-(\w+)\)=\n## \1\. ", text, re.M))


def test_theory_keeps_the_section_numbering():
    assert theory_sections() == {"1", "2", "3", "4", "4b", "5", "6", "7", "8", "9"}


def test_every_section_reference_exists_in_the_theory():
    sections = theory_sections()
    missing = []
    for path in tracked_text_files():
        text = path.read_text(encoding="utf-8")
        for match in SECTION_REF.finditer(text):
            if match.group(1) not in sections:
                missing.append(f"{path.relative_to(ROOT)}: {match.group(0)!r}")
    assert not missing, "references to sections docs/theory.md lacks:\n" + "\n".join(missing)


def bibliography_tags() -> set[str]:
    text = (DOCS / "bibliography.md").read_text(encoding="utf-8")
    anchors = re.findall(r"^\(bib-([a-z]+)\)=\n### \[([A-Z]+)\] ", text, re.M)
    assert all(anchor == tag.lower() for anchor, tag in anchors)
    return {tag for _, tag in anchors}


def test_every_paper_tag_is_in_the_bibliography():
    defined = bibliography_tags()
    assert {"P", "M", "L", "YS", "O", "B"} <= defined
    undefined = [
        f"{line}  <- [{tag}]"
        for line in lines_matching(TAG)
        for tag in TAG.findall(line.split(": ", 1)[1])
        if tag not in defined
    ]
    assert not undefined, "tags missing from docs/bibliography.md:\n" + "\n".join(undefined)


def test_bibliography_gives_arxiv_identifiers():
    text = (DOCS / "bibliography.md").read_text(encoding="utf-8")
    entries = re.split(r"^\(bib-", text, flags=re.M)[1:]
    assert len(entries) == len(bibliography_tags())
    for entry in entries:
        assert re.search(r"arXiv:\d{4}\.\d{4,5}\b", entry) or "No arXiv" in entry, entry[:60]


def test_tag_pattern_finds_tags_only():
    line = "[P] Theorem 1, [TXT] and ([YS]); not x[P], [P](link), [None] or `[M]`"
    assert TAG.findall(line) == ["P", "TXT", "YS"]


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_with_outputs(path):
    assert path.stat().st_size < NOTEBOOK_BYTES
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code
    assert all(cell["execution_count"] is not None for cell in code)
    outputs = [output for cell in code for output in cell["outputs"]]
    assert not [output for output in outputs if output["output_type"] == "error"]
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert figures, "a notebook of this project shows at least one figure"


def test_docs_build_without_warnings(tmp_path):
    for module in ("sphinx", "myst_nb", "numpydoc"):
        pytest.importorskip(module, reason="the docs extra: pip install -e '.[docs]'")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html"]
    command += ["-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-4000:]
    html = tmp_path / "html"
    for page in ("index", "theory", "bibliography", "api/pipeline", "api/bounds", "notebooks"):
        assert (html / f"{page}.html").is_file(), page
    for path in NOTEBOOKS:
        rendered = (html / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
        assert "<img" in rendered, f"{path.name} is rendered without its figures"
    theory = (html / "theory.html").read_text(encoding="utf-8")
    assert all(f'id="theory-section-{n}"' in theory for n in theory_sections())
    api = (html / "api" / "bounds.html").read_text(encoding="utf-8")
    assert 'href="../bibliography.html#bib-p"' in api  # tags in docstrings link to the papers
    assert "strong_lth.bounds.pensia_width" in api
