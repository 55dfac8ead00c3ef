"""Bad input never crashes and never scores well: valid=False and every score 0.

Timings are not asserted (CI machines vary); the limits that keep them bounded are in k8s_scoring.documents.ParseLimits
and the measured times are in docs/judge.md ("Bounded on hostile input").
"""

from __future__ import annotations

import random

import pytest

from k8s_scoring import analyze, complexity, reward_fn, score, validate
from k8s_scoring.documents import DEFAULT_LIMITS

REFERENCE = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: shop}
data: {a: b}
"""


def _alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _bomb_inside_object() -> str:
    # a well-formed object whose data hides a billion-laughs expansion
    body = _alias_bomb().replace("\n", "\n  ")
    return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: y}\ndata:\n  " + body


def _block_nesting(depth: int) -> str:
    lines = [" " * i + f"k{i}:" for i in range(depth)]
    head = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\nx:\n"
    return head + "\n".join(" " + line for line in lines) + " 1\n"


_rng = random.Random(0)

BAD_INPUTS: dict[str, str] = {
    "unparsable": "apiVersion: v1\nkind: Pod\nmetadata: {name: [unclosed\n",
    "tab_indent": "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n",
    "helm_control": "{{- if .Values.enabled }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n{{- end }}\n",
    "helm_quoted_values": 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "{{ .Release.Name }}-cfg"\n',
    "helm_include": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n"
    '    {{- include "chart.labels" . | nindent 4 }}\n',
    "empty": "",
    "whitespace": " \n\t\n",
    "comment_only": "# nothing here\n# at all\n",
    "separators_only": "---\n---\n...\n",
    "list_root": "- apiVersion: v1\n  kind: Pod\n",
    "scalar_root": "just a string",
    "int_root": "42",
    "no_kind": "apiVersion: v1\nmetadata: {name: x}\n",
    "non_string_kind": "apiVersion: v1\nkind: [Pod]\nmetadata: {name: x}\n",
    "no_metadata_name": "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n",
    "one_bad_document": REFERENCE + "---\n- not an object\n",
    "empty_list_kind": "apiVersion: v1\nkind: List\nitems: []\n",
    "list_with_bad_item": "apiVersion: v1\nkind: List\nitems:\n- 1\n",
    "binary_junk": bytes(_rng.randrange(256) for _ in range(4096)).decode("latin-1"),
    "nul_bytes": "apiVersion: v1\x00\nkind: Pod\n",
    "ten_megabytes": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  a: " + "x" * 10_000_000 + "\n",
    "flow_nesting_10000": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: " + "[" * 10_000 + "]" * 10_000,
    "block_nesting_300": _block_nesting(300),
    "alias_bomb": _alias_bomb(),
    "alias_bomb_in_object": _bomb_inside_object(),
    "bad_timestamp": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, creationTimestamp: 2020-99-99}\n",
    "python_tag": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: !!python/object:os.system x}\n",
    "duplicate_complex_key": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n? [a]\n: b\n",
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_invalid_and_scores_zero(name: str) -> None:
    text = BAD_INPUTS[name]
    analysis = analyze(text)
    assert analysis.valid is False and analysis.errors and analysis.objects == []
    assert analysis.bp == 0.0 and analysis.security == 0.0
    assert all(value == 0.0 for value in score(text).values())
    with_reference = score(text, REFERENCE)
    assert set(with_reference) >= {"codebleu", "reward"} and all(v == 0.0 for v in with_reference.values())
    assert reward_fn([text], [REFERENCE]) == [0.0]
    validity = validate(text)
    assert not validity.yaml_valid and not validity.schema_valid and validity.errors
    assert complexity(text) == 0.0 and complexity(text, REFERENCE) == 0.0


def test_reasons_are_specific() -> None:
    assert "Helm" in analyze(BAD_INPUTS["helm_quoted_values"]).errors[0]
    assert "characters" in analyze(BAD_INPUTS["ten_megabytes"]).errors[0]
    assert "nesting" in analyze(BAD_INPUTS["flow_nesting_10000"]).errors[0]
    assert "nesting" in analyze(BAD_INPUTS["block_nesting_300"]).errors[0]
    assert "alias" in analyze(BAD_INPUTS["alias_bomb_in_object"]).errors[0]


@pytest.mark.parametrize("value", [None, 42, b"\xff\xfe", ["apiVersion: v1"]])
def test_non_text_never_raises(value) -> None:
    assert analyze(value).valid is False  # type: ignore[arg-type]
    assert score(value)["quality"] == 0.0  # type: ignore[arg-type]


def test_go_templates_in_values_are_not_helm() -> None:
    # Prometheus rules and Argo workflows carry Go templates in string values; they are rendered manifests.
    text = REFERENCE.replace("data: {a: b}", 'data: {summary: "{{ $labels.instance }} down", step: "{{inputs.x}}"}')
    assert analyze(text).valid


def test_limits_allow_real_sizes() -> None:
    # Nesting just under the cap and a 500 kB object are accepted: limits reject hostile input, not big manifests.
    assert analyze(_block_nesting(DEFAULT_LIMITS.max_depth - 10)).valid
    big = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  a: " + "x" * 500_000 + "\n"
    assert analyze(big).valid
