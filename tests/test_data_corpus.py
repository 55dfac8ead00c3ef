"""Corpus reading: the bundled corpus loads, bad lines fail with the file and line number."""

import json

import pytest

from k8s_data.corpus import CORPUS_DIR, CorpusError, load_corpus

GOOD = {
    "id": "a1", "source": "o/r", "path": "x.yaml", "doc_index": 0, "license": "MIT", "kind": "Pod",
    "apiVersion": "v1", "name": "p", "yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n",
}


def write_lines(tmp_path, lines):
    path = tmp_path / "manifests.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bundled_corpus_loads_with_attribution_files():
    records = load_corpus()
    stats = json.loads((CORPUS_DIR / "stats.json").read_text())
    assert len(records) == stats["total"] == 19860  # corpus v2 (issue 10)
    assert len({r.id for r in records}) == len(records)
    # CC-BY-4.0 asks for attribution: the notice names every CC-BY source and the licence texts ship along
    notice = (CORPUS_DIR / "NOTICE.md").read_text()
    for source in {r.source for r in records if r.license == "CC-BY-4.0"} | {"MicrosoftDocs/azure-aks-docs"}:
        assert source in notice
    assert (CORPUS_DIR / "LICENSES" / "kubernetes__website.txt").exists()
    # every repository has its licence text (file names: owner__repo[__extra].txt, SOURCES.md lists the repos)
    licence_files = {p.name for p in (CORPUS_DIR / "LICENSES").iterdir()}
    for source in {r.source for r in records}:
        assert f"{source.replace('/', '__')}.txt" in licence_files, source
        assert f"| {source} |" in (CORPUS_DIR / "SOURCES.md").read_text()


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "not valid JSON"),  # truncated line
        ("[1, 2]", "expected a JSON object"),  # valid JSON, wrong shape
        (json.dumps({k: v for k, v in GOOD.items() if k != "yaml"}), "missing required field 'yaml'"),
        (json.dumps({**GOOD, "doc_index": "0"}), "field 'doc_index' must be int"),
        (json.dumps({**GOOD, "yaml": "  \n"}), "field 'yaml' is empty"),
        (json.dumps({**GOOD, "has_placeholders": "no"}), "field 'has_placeholders' must be bool"),
    ],
)
def test_bad_line_names_its_line_number(tmp_path, bad_line, message):
    path = write_lines(tmp_path, [json.dumps(GOOD), "", json.dumps({**GOOD, "id": "a2"}), bad_line])
    with pytest.raises(CorpusError, match=rf"manifests\.jsonl:4: {message}"):
        load_corpus(path)


def test_duplicate_id_names_both_lines(tmp_path):
    path = write_lines(tmp_path, [json.dumps(GOOD), json.dumps(GOOD)])
    with pytest.raises(CorpusError, match=r":2: duplicate id 'a1' \(first on line 1\)"):
        load_corpus(path)
