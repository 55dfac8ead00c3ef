"""Grouping documents into examples, filters, and leak-free splits."""

import pytest

from k8s_data.corpus import CorpusRecord, load_corpus
from k8s_data.examples import ExampleFilter, group_examples, is_custom_resource
from k8s_data.splits import SplitConfig, assign_splits, split_groups


@pytest.fixture(scope="module")
def examples():
    return group_examples(load_corpus())


def record(rid, path, doc_index, yaml_text, **kw):
    kind, api_version = kw.pop("kind", "Pod"), kw.pop("apiVersion", "v1")
    return CorpusRecord(id=rid, source="o/r", path=path, doc_index=doc_index, license="MIT", kind=kind,
                        apiVersion=api_version, name=rid, yaml=yaml_text, **kw)


def test_documents_of_one_file_form_one_target():
    records = [
        record("s", "app.yaml", 1, "kind: Service\n", kind="Service"),
        record("d", "app.yaml", 0, "kind: Deployment\n", kind="Deployment", apiVersion="apps/v1"),
        record("o", "other.yaml", 0, "kind: Pod\n"),
    ]
    grouped = group_examples(records)
    assert [e.id for e in grouped] == ["d", "o"]  # id: first document by doc_index
    assert grouped[0].yaml == "kind: Deployment\n---\nkind: Service\n"
    assert grouped[0].kinds == ["Deployment", "Service"]


def test_markdown_code_blocks_are_separate_examples_of_one_file():
    # doc_index = block * 100 + document for snippets taken from Markdown pages
    records = [record(f"m{i}", "page.md", i, "kind: Pod\n", from_markdown=True) for i in (0, 1, 100)]
    grouped = group_examples(records)
    assert [[r.id for r in e.records] for e in grouped] == [["m0", "m1"], ["m100"]]
    assert {e.file_key for e in grouped} == {"o/r:page.md"}


def test_real_deployment_and_service_grouped(examples):
    # a real multi-document file from the corpus keeps its Deployment with its Service
    both = [e for e in examples if {"Deployment", "Service"} <= set(e.kinds) and not e.records[0].from_markdown]
    assert len(both) > 50
    assert all(len({r.file_key for r in e.records}) == 1 for e in both)


@pytest.mark.parametrize(
    ("flag", "field"),
    [("drop_placeholders", "has_placeholders"), ("drop_deprecated_api", "deprecated_api")],
)
def test_filters_drop_flagged_examples(flag, field):
    example = group_examples([record("x", "x.yaml", 0, "kind: Pod\nmetadata: {name: x}\n", **{field: True})])[0]
    assert ExampleFilter(**{flag: True}).reason(example) is not None
    assert ExampleFilter(**{flag: False}).reason(example) is None


def test_custom_resource_and_size_filters():
    crd = group_examples([record("c", "c.yaml", 0, "kind: ScaledObject\n", kind="ScaledObject",
                                 apiVersion="keda.sh/v1alpha1")])[0]
    assert is_custom_resource("keda.sh/v1alpha1") and not is_custom_resource("apps/v1")
    assert ExampleFilter(keep_custom_resources=False).reason(crd) == "custom_resource"
    assert ExampleFilter().reason(crd) is None
    assert ExampleFilter(max_target_chars=5).reason(crd) == "too_long"


def test_splits_are_disjoint_by_source_file_and_near_duplicate(examples):
    split_of = assign_splits(examples)
    by_file: dict[str, set[str]] = {}
    for example in examples:
        by_file.setdefault(example.file_key, set()).add(split_of[example.id])
    assert all(len(splits) == 1 for splits in by_file.values())
    groups = split_groups(examples)
    by_group: dict[str, set[str]] = {}
    for example in examples:
        by_group.setdefault(groups[example.file_key], set()).add(split_of[example.id])
    assert all(len(splits) == 1 for splits in by_group.values())
    assert len(set(groups.values())) < len(groups)  # near-duplicate files really were linked
    counts = {name: sum(1 for s in split_of.values() if s == name) for name in ("train", "validation", "test")}
    total = sum(counts.values())
    assert 0.77 < counts["train"] / total < 0.83 and 0.07 < counts["validation"] / total < 0.13


def test_splits_deterministic_and_seeded(examples):
    assert assign_splits(examples) == assign_splits(list(examples))
    assert assign_splits(examples, SplitConfig(split_seed=1)) != assign_splits(examples)
    with pytest.raises(ValueError, match="at most 1"):
        SplitConfig(train_fraction=0.9, validation_fraction=0.2)
