"""How the stricter validity (issue 13) changes the verdict on a manifest corpus, and why; prints Markdown + JSON.

"Before" is what `k8s_scoring.validate` said up to issue 13: duplicate keys silently accepted, and only the OpenAPI
schema (plus "not served") checked. Both are recomputed from the new result: an input whose only YAML error is a
duplicate key was YAML-valid before, and an object whose issues all come from the new rules (``api.*``,
``api-version``, ``crd-schema``) was schema-valid before. Each changed document is attributed to the first new rule
that fired on it, and counted apart when the corpus marks it as holding placeholders (``<name>``, ``$VAR``).

Run from the repository root (under the shared CPU lock; ~1 min for 20 k documents):
    python bench/validity_report.py --corpus ../shared/data/k8s_manifests/manifests.jsonl --json out.json
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from k8s_scoring import validate  # noqa: E402

OLD_RULES = {"schema", "not-served"}
UNCHECKED: set[str] = set()
UNCHECKED_DOCS = [0]
DUPLICATE = "already defined"


def verdicts(text: str) -> tuple[tuple[bool, bool], tuple[bool, bool], str | None]:
    """``(before, after, reason)`` where before/after are ``(yaml_valid, schema_valid)``."""
    validity = validate(text)
    UNCHECKED.update(validity.unchecked_kinds)
    UNCHECKED_DOCS[0] += bool(validity.unchecked_kinds)
    after = (validity.yaml_valid, validity.schema_valid)
    if not validity.yaml_valid:
        if all(DUPLICATE in error for error in validity.errors):
            return (True, True), after, "yaml: duplicate key"  # schema verdict before: unknown, assumed valid
        return after, after, None
    old = [issue for issue in validity.issues if issue.rule in OLD_RULES]
    new = [issue for issue in validity.issues if issue.rule not in OLD_RULES]
    before = (True, not old)
    return before, after, (new[0].rule if new and not old else None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=REPO / "k8s_data" / "corpus" / "manifests.jsonl")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers and examples here")
    parser.add_argument("--examples", type=int, default=2, help="examples per rule")
    args = parser.parse_args()
    totals: collections.Counter[str] = collections.Counter()
    by_rule: collections.Counter[str] = collections.Counter()
    placeholders: collections.Counter[str] = collections.Counter()
    examples: dict[str, list[dict]] = collections.defaultdict(list)
    with args.corpus.open() as handle:
        for line in handle:
            record = json.loads(line)
            before, after, reason = verdicts(record["yaml"])
            totals["documents"] += 1
            totals["yaml_valid_before"] += before[0]
            totals["yaml_valid_after"] += after[0]
            totals["schema_valid_before"] += before[0] and before[1]
            totals["schema_valid_after"] += after[0] and after[1]
            if before != after and reason is not None:
                totals["changed"] += 1
                by_rule[reason] += 1
                placeholders[reason] += bool(record.get("has_placeholders"))
                if len(examples[reason]) < args.examples:
                    error = validate(record["yaml"]).errors[0]
                    examples[reason].append({"source": record.get("source"), "path": record.get("path"),
                                             "id": record.get("id"), "error": error[:200]})  # fmt: skip
    print(f"Corpus: {args.corpus} ({totals['documents']} documents)\n")
    print("| | before | after |\n|---|---:|---:|")
    for key in ("yaml_valid", "schema_valid"):
        print(f"| {key} | {totals[key + '_before']:,} | {totals[key + '_after']:,} |")
    print(f"\nUnchecked custom resources: {UNCHECKED_DOCS[0]:,} documents, {len(UNCHECKED):,} apiVersion/kinds")
    print(f"\n{totals['changed']:,} documents change verdict:\n")
    print("| first new rule that fired | documents | of which with placeholders | example |\n|---|---:|---:|---|")
    for rule, count in by_rule.most_common():
        example = examples[rule][0]
        print(f"| `{rule}` | {count} | {placeholders[rule]} | {example['source']} `{example['path']}`: "
              f"{example['error'].split(': ', 1)[-1][:90]} |")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"totals": totals, "by_rule": by_rule, "placeholders": placeholders,
                                         "examples": examples, "unchecked_documents": UNCHECKED_DOCS[0],
                                         "unchecked_kinds": sorted(UNCHECKED)}, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
