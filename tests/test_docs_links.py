"""Every relative link and #anchor in README.md and docs/ resolves, and the docs pointers in code exist.

Anchors are computed the way GitHub renders them (github-slugger: lower case, punctuation and symbols removed,
spaces to hyphens, duplicates numbered -1, -2, ...), since the README and the docs are read there first. The same
anchors must also exist on the mkdocs site (python-markdown's toc slugify), so a heading that is linked must slug the
same way under both; `mkdocs build --strict` checks the site's side again where mkdocs is installed.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
# [text](target "title") and ![alt](target); the text may hold `code` and one level of [brackets]
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"", re.IGNORECASE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, ...


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading (github-slugger): rendered text, lower case, everything but letters, digits,
    marks, `_`, `-` and spaces removed, each space a hyphen."""
    text = _rendered(heading).lower()
    kept = [c for c in text if c in "_- " or unicodedata.category(c)[0] in "LNM"]
    return "".join(kept).replace(" ", "-")


def mkdocs_slug(heading: str) -> str:
    """The anchor python-markdown's toc extension (mkdocs' default) gives a heading."""
    text = unicodedata.normalize("NFKD", _rendered(heading)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _rendered(heading: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    text = INLINE_CODE.sub(lambda m: m.group(2), text)
    return re.sub(r"(\*\*|__|\*)", "", text)  # emphasis markers


def markdown_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of the lines outside fenced code blocks."""
    out, fence = [], None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = FENCE.match(line)
        if match:
            fence = None if fence == match.group(1) else (fence or match.group(1))
            continue
        if fence is None:
            out.append((number, line))
    return out


def anchors(path: Path, slug=github_slug) -> set[str]:
    """Every anchor a Markdown file defines: headings (numbered when repeated) and `<a id=...>` tags."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in markdown_lines(path):
        found.update(HTML_ANCHOR.findall(line))
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> list[tuple[int, str]]:
    """(line number, target) of every link in a Markdown file, outside code blocks and inline code."""
    out = []
    for number, line in markdown_lines(path):
        prose = INLINE_CODE.sub(lambda m: "x" * len(m.group(0)), line)  # [`x`](y) stays a link, `[x](y)` does not
        out.extend((number, target) for target in LINK.findall(prose))
        ref = REFERENCE.match(line)
        if ref:
            out.append((number, ref.group(1)))
    return out


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with the relative links of one Markdown file (empty when all resolve)."""
    problems = []
    for number, target in links(path):
        if EXTERNAL.match(target) or target.startswith("//"):
            continue  # not checked offline
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path.resolve()
        where = f"{path.relative_to(root)}:{number}: {target}"
        if root.resolve() not in (dest, *dest.parents):
            problems.append(f"{where}: points outside the repository")
        elif not dest.exists():
            problems.append(f"{where}: {file_part} does not exist")
        elif anchor and dest.suffix == ".md":
            if anchor not in anchors(dest):
                problems.append(f"{where}: no heading or <a id> gives #{anchor} in {dest.relative_to(root)}")
            elif anchor not in anchors(dest, mkdocs_slug) and dest.parent == root / "docs":
                problems.append(f"{where}: #{anchor} exists on GitHub but not on the mkdocs site (reword the heading)")
    return problems


DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(path):
    assert broken_links(path) == []


def test_readme_is_short():
    # the README is the five-minute version (issue 15): everything else belongs in docs/
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 250


# pointers to docs pages from code, configs and CI (a comment saying "see docs/x.md" must name a real page)
DOCS_POINTER = re.compile(r"\bdocs/[\w./-]+\.md\b")
# hf_notes.md lives in the team's shared notes, not in this repository (mentioned as a source, not a page)
OUTSIDE_REPO = {"docs/hf_notes.md"}


def test_docs_pointers_in_code_exist():
    missing = []
    for path in sorted(ROOT.rglob("*")):
        if path.suffix not in {".py", ".yaml", ".yml", ".toml", ".cfg"} or not path.is_file():
            continue
        if path == Path(__file__).resolve():
            continue  # this file's hand-made examples
        if any(part.startswith(".") or part in {"site", "runs", "build"} for part in path.relative_to(ROOT).parts):
            continue
        for pointer in DOCS_POINTER.findall(path.read_text(encoding="utf-8", errors="replace")):
            if pointer not in OUTSIDE_REPO and not (ROOT / pointer).exists():
                missing.append(f"{path.relative_to(ROOT)}: {pointer}")
    assert missing == []


# ------------------------------------------------------------------ the checker itself, on hand-made pages
@pytest.mark.parametrize(
    ("heading", "github", "mkdocs"),
    [
        # code spans keep their underscores, lose their backticks
        ("The judge: `k8s_scoring`", "the-judge-k8s_scoring", "the-judge-k8s_scoring"),
        # GitHub keeps one hyphen per removed-punctuation space; python-markdown collapses them: a linked heading
        # like this one is reported by test_every_relative_link_and_anchor_resolves
        ("Repair: `--repair`, `k8s-lint --fix`", "repair---repair-k8s-lint---fix", "repair-repair-k8s-lint-fix"),
        # symbols (×, ≤, →) vanish; letters such as Δ stay on GitHub
        ("Δ ≤ 15 min → x", "δ--15-min--x", "15-min-x"),
        # a link in a heading shows its text
        ("See [the docs](docs/index.md)", "see-the-docs", "see-the-docs"),
    ],
)
def test_slugs(heading, github, mkdocs):
    assert github_slug(heading) == github
    assert mkdocs_slug(heading) == mkdocs


def test_checker_finds_broken_links(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text('# Page A\n\n## Same\n\n## Same\n\n<a id="custom"></a>\n')
    page = tmp_path / "README.md"
    page.write_text(
        "# Top\n\n"
        "[ok](docs/a.md) [ok](docs/a.md#page-a) [ok](docs/a.md#same-1) [ok](docs/a.md#custom) [ok](#top)\n"
        "[web](https://example.org/x) [mail](mailto:a@b.c)\n"  # external: not checked
        "`[in code](nowhere.md)`\n"  # inline code is not a link
        "```\n[in a fence](nowhere.md)\n```\n"  # nor is a fenced block
        "[gone](docs/b.md)\n"  # missing file
        "[bad anchor](docs/a.md#nope)\n"  # missing heading
        "[bad self](#nope)\n"  # missing heading in the same file
        "[ref]: docs/c.md\n"  # reference definitions are links too
        "![img](img/x.png)\n"  # images are checked
        "[out](../../etc/passwd)\n"  # leaves the repository
    )
    problems = broken_links(page, root=tmp_path)
    assert [p.split(": ", 2)[1] for p in problems] == [
        "docs/b.md",
        "docs/a.md#nope",
        "#nope",
        "docs/c.md",
        "img/x.png",
        "../../etc/passwd",
    ], problems
