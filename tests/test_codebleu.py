"""CodeBLEU-YAML (k8s_scoring.codebleu): equality with sacrebleu, identity, monotone corruption, junk, symmetry."""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path

import pytest
import sacrebleu

from k8s_scoring.codebleu import KEYWORDS, MAX_CHARS, clear_cache, codebleu_yaml, tokenize_13a

REPO = Path(__file__).resolve().parent.parent
CORPUS_CANDIDATES = (
    REPO / "k8s_data" / "corpus" / "manifests.jsonl",
    REPO.parent / "shared" / "data" / "k8s_manifests" / "manifests.jsonl",
)
PARTS = ("codebleu", "ngram", "weighted_ngram", "syntax", "semantic")

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: "nginx:1.25.3"
        ports:
        - containerPort: 80
        resources:
          requests: {cpu: 100m, memory: 128Mi}
          limits:
            cpu: 500m
            memory: 256Mi
        readinessProbe:
          httpGet: {path: /healthz, port: 80}
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 80
    protocol: TCP
"""
CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          initContainers:
          - name: wait
            image: busybox:1.36
            command: ["sh", "-c", "sleep 5"]
          containers:
          - name: backup
            image: registry.example.com/backup@sha256:0123456789abcdef
            args:
            - --target=s3://bucket/path
            env:
            - name: MODE
              value: full
"""
HANDWRITTEN = (DEPLOYMENT, SERVICE, CRONJOB)


def _load_corpus(limit: int = 600) -> list[dict]:
    for path in CORPUS_CANDIDATES:
        if path.exists():
            with path.open() as f:
                return [json.loads(line) for _, line in zip(range(limit), f)]
    return []


CORPUS = _load_corpus()
needs_corpus = pytest.mark.skipif(not CORPUS, reason="manifest corpus not found (bundled or ../shared)")


def _corpus_pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """Random cross pairs plus same-kind pairs (the interesting, partly overlapping case)."""
    rng = random.Random(seed)
    by_kind: dict[str, list[str]] = {}
    for record in CORPUS:
        by_kind.setdefault(record["kind"], []).append(record["yaml"])
    texts = [record["yaml"] for record in CORPUS]
    pairs = [(rng.choice(texts), rng.choice(texts)) for _ in range(n // 2)]
    kinds = sorted(kind for kind, docs in by_kind.items() if len(docs) > 1)
    for _ in range(n - n // 2):
        same = by_kind[rng.choice(kinds)]
        pairs.append((rng.choice(same), rng.choice(same)))
    return pairs


# --------------------------------------------------------------------------------------------------------------
# n-gram part == sacrebleu
# --------------------------------------------------------------------------------------------------------------
EDGE_PAIRS = [
    ("kind: Pod", "kind: Pod"),  # identical, 3 tokens: effective order 3
    ("a", "a"),  # one token: effective order 1
    ("a", "b"),  # no match at all: sacrebleu returns 0 early
    ("x y z w v", "x q z w v u t"),  # shorter hypothesis: brevity penalty
    ("replicas: 3\nreplicas: 3\nreplicas: 3", "replicas: 3"),  # clipping of repeated n-grams
    ("name: a-\nb", "name: ab"),  # 13a joins "-\n"
    ("x: &amp; &lt;", "x: & <"),  # 13a unescapes entities
    ("v: 1.5, 2,3 a.b c-1 9-9", "v: 1.5, 2,3 a.b c-1 9-9 z"),  # period/comma/dash rules of the 13a regexes
    (DEPLOYMENT, SERVICE),
    (SERVICE, DEPLOYMENT),
    (CRONJOB, DEPLOYMENT),
]


@pytest.mark.parametrize(("prediction", "reference"), EDGE_PAIRS)
def test_ngram_equals_sacrebleu_edge_cases(prediction: str, reference: str) -> None:
    expected = sacrebleu.sentence_bleu(prediction, [reference]).score / 100
    assert codebleu_yaml(prediction, reference)["ngram"] == pytest.approx(expected, abs=1e-9)


@needs_corpus
def test_ngram_equals_sacrebleu_on_corpus_pairs() -> None:
    pairs = _corpus_pairs(300)
    for prediction, reference in pairs:
        expected = sacrebleu.sentence_bleu(prediction, [reference]).score / 100
        assert abs(codebleu_yaml(prediction, reference)["ngram"] - expected) <= 1e-9


def test_tokenizer_equals_sacrebleu_13a() -> None:
    tok = sacrebleu.BLEU().tokenizer
    texts = [*HANDWRITTEN, *(r["yaml"] for r in CORPUS[:200]), "a-\nb &quot;q&quot; 1,5 x,y 3-4 {{ .V }} <skipped>"]
    for text in texts:
        assert tokenize_13a(text) == tok(text.rstrip()).split()


# --------------------------------------------------------------------------------------------------------------
# Hand-checked values
# --------------------------------------------------------------------------------------------------------------
def test_hand_checked_small_pair() -> None:
    # tokens: [kind, :, Pod] vs [kind, :, Service]; "kind", "Pod", "Service" are keywords (weight 5)
    result = codebleu_yaml("kind: Pod", "kind: Service")
    # BLEU: p1 = 2/3, p2 = 1/2, p3 = 0 -> exp smoothing 1/(2*1); no 4-grams -> effective order 3; no brevity penalty
    ngram = (2 / 3 * 1 / 2 * 1 / 2) ** (1 / 3)
    # weighted unigram precision: matched kind (5) + ":" (1) over kind (5) + ":" (1) + Pod (5)
    weighted = (6 / 11 * 1 / 2 * 1 / 2) ** (1 / 3)
    assert result["ngram"] == pytest.approx(ngram, abs=1e-12)
    assert result["weighted_ngram"] == pytest.approx(weighted, abs=1e-12)
    # same structure (stream, document, mapping, pair with a string value): the syntax part ignores value text
    assert result["syntax"] == 1.0
    # the only value differs: kind=Pod vs kind=Service
    assert result["semantic"] == 0.0
    assert result["codebleu"] == pytest.approx((ngram + weighted + 1.0 + 0.0) / 4, abs=1e-12)


def test_semantic_is_key_path_value_f1() -> None:
    reference = "metadata:\n  name: web\n  labels:\n    app: web\nspec:\n  replicas: 2\n"
    # same values spelled differently (quotes, flow style) match; replicas "2" (a string) != 2 (an integer)
    prediction = 'metadata: {name: \'web\', labels: {"app": web}}\nspec:\n  replicas: "2"\n'
    result = codebleu_yaml(prediction, reference)
    assert result["semantic"] == pytest.approx(2 * 2 / (3 + 3))
    # a sequence item's index is not part of the path: container order does not matter
    a = "containers:\n- name: a\n  image: x:1\n- name: b\n  image: y:2\n"
    b = "containers:\n- name: b\n  image: y:2\n- name: a\n  image: x:1\n"
    assert codebleu_yaml(a, b)["semantic"] == 1.0
    assert codebleu_yaml(a, b)["syntax"] == 1.0


def test_syntax_ignores_block_vs_flow_style_and_quoting() -> None:
    block = "spec:\n  selector:\n    app: web\n  ports:\n  - port: 80\n    name: 'http'\n"
    flow = 'spec: {selector: {app: web}, ports: [{port: 80, name: "http"}]}\n'
    result = codebleu_yaml(flow, block)
    assert (result["syntax"], result["semantic"]) == (1.0, 1.0)
    # a changed value type (80 -> "80") changes the pair, its mapping, the sequence, ... up to the stream
    changed = codebleu_yaml(block.replace("80", '"80"'), block)
    assert changed["syntax"] < 1.0 and changed["semantic"] < 1.0


def test_keywords_raise_weighted_ngram_only_when_keywords_match() -> None:
    reference = "kind: Deployment\nreplicas: 3\n"
    keyword_match = codebleu_yaml("kind: Deployment\nfoo: bar\n", reference)
    plain_match = codebleu_yaml("zzz: bar\nreplicas: 3\n", reference)
    # matched keywords (kind, Deployment) weigh 5: weighted n-gram above plain n-gram
    assert keyword_match["weighted_ngram"] > keyword_match["ngram"]
    # no keyword in the prediction matches while "replicas" does and weighs 5 in the denominator too
    assert plain_match["weighted_ngram"] > plain_match["ngram"]
    no_keywords = codebleu_yaml("foo: bar\nbaz: 1\n", "foo: bar\nqux: 2\n")
    assert no_keywords["weighted_ngram"] == no_keywords["ngram"]


def test_keyword_list_is_single_tokens_with_kinds_and_fields() -> None:
    assert {"Deployment", "Service", "CronJob", "containers", "apiVersion", "image", "replicas"} <= KEYWORDS
    assert "app" not in KEYWORDS  # a label key, not a Kubernetes field
    for word in KEYWORDS:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", word)
        assert tokenize_13a(word) == [word]


# --------------------------------------------------------------------------------------------------------------
# Identity, symmetry, monotone corruption
# --------------------------------------------------------------------------------------------------------------
def test_identity_is_one() -> None:
    texts = [*HANDWRITTEN, *(r["yaml"] for r in CORPUS[:300]), "{{ .Values.x }}", "\x00\x01", "- - -", "a: [\n"]
    for text in texts:
        assert codebleu_yaml(text, text)["codebleu"] == 1.0
        assert all(v == 1.0 for v in codebleu_yaml(text, text).values())


def test_symmetry() -> None:
    pairs = [(a, b) for a in HANDWRITTEN for b in HANDWRITTEN] + (_corpus_pairs(100, seed=1) if CORPUS else [])
    diffs = []
    for a, b in pairs:
        ab, ba = codebleu_yaml(a, b), codebleu_yaml(b, a)
        # the structural parts are F1 scores: exactly symmetric
        assert ab["syntax"] == ba["syntax"]
        assert ab["semantic"] == ba["semantic"]
        diffs.append(abs(ab["codebleu"] - ba["codebleu"]))
    # only BLEU's brevity penalty and precision/recall roles differ: symmetric enough on average
    assert sum(diffs) / len(diffs) < 0.05


_LETTERS = re.compile(r"[A-Za-z]+")


def _corrupt(text: str, fraction: float, order: list[int]) -> str:
    """Replace the first `fraction` of letter runs (in a fixed random `order`) by unique letter-only junk words.

    Letters are swapped for letters, so 13a token boundaries and the YAML structure stay put: each step only turns
    more tokens, keys and values into words the reference does not have.
    """
    runs = list(_LETTERS.finditer(text))
    chosen = set(order[: round(fraction * len(runs))])
    out, last = [], 0
    for i, match in enumerate(runs):
        out.append(text[last : match.start()])
        out.append("qjx" + "".join(chr(97 + int(d)) for d in str(i)) if i in chosen else match.group())
        last = match.end()
    out.append(text[last:])
    return "".join(out)


@pytest.mark.parametrize("reference", [*HANDWRITTEN, *(r["yaml"] for r in CORPUS[:40:4])])
def test_scores_fall_monotonically_under_progressive_corruption(reference: str) -> None:
    n_runs = len(_LETTERS.findall(reference))
    order = list(range(n_runs))
    random.Random(n_runs).shuffle(order)
    steps = [codebleu_yaml(_corrupt(reference, f / 10, order), reference) for f in range(11)]
    assert steps[0]["codebleu"] == 1.0
    for before, after in zip(steps, steps[1:]):
        for part in PARTS:
            assert after[part] <= before[part] + 1e-12, part
    # a step may only hit tokens that are already corrupted ("cloud-controller" is one 13a token): strict over spans
    assert steps[10]["codebleu"] < steps[5]["codebleu"] < steps[0]["codebleu"]
    assert steps[-1]["ngram"] < 0.2 and steps[-1]["semantic"] < 0.2


# --------------------------------------------------------------------------------------------------------------
# Junk never raises; bounds
# --------------------------------------------------------------------------------------------------------------
JUNK = [
    "",
    "   \n\t",
    "# only a comment\n",
    "{{ .Values.image }}\nkind: {{ .Kind }}",
    "\x00\x01\x02\xff" * 50,
    "\ud800 lone surrogate",
    "[" * 10_000 + "]" * 10_000,  # 10,000-deep flow nesting
    "".join(" " * i + "- \n" for i in range(400)),  # would crash tree-sitter-yaml's scanner: not parsed
    "".join(" " * i + "a:\r" for i in range(400)),  # the same with CR line breaks
    "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b]\n",
    "a: b\n" * (MAX_CHARS // 4),  # over MAX_CHARS
    "---\n---\n...\n",
    "key: 'unterminated\n  - [}\n",
]


@pytest.mark.parametrize("junk", JUNK, ids=range(len(JUNK)))
def test_junk_never_raises_and_scores_low(junk: str) -> None:
    for prediction, reference in ((junk, DEPLOYMENT), (DEPLOYMENT, junk), (junk, junk)):
        result = codebleu_yaml(prediction, reference)
        assert set(result) == set(PARTS)
        assert all(0.0 <= v <= 1.0 and not math.isnan(v) for v in result.values())
    assert codebleu_yaml(junk, DEPLOYMENT)["codebleu"] < 0.1


def test_empty_and_oversize_score_zero() -> None:
    assert codebleu_yaml("", DEPLOYMENT) == dict.fromkeys(PARTS, 0.0)
    assert codebleu_yaml(DEPLOYMENT, "") == dict.fromkeys(PARTS, 0.0)
    huge = DEPLOYMENT * (MAX_CHARS // len(DEPLOYMENT) + 1)
    assert codebleu_yaml(huge, huge) == dict.fromkeys(PARTS, 0.0)
    assert codebleu_yaml(None, DEPLOYMENT)["codebleu"] == 0.0  # type: ignore[arg-type]


def test_weights() -> None:
    result = codebleu_yaml(SERVICE, DEPLOYMENT, weights=(1, 0, 0, 0))
    assert result["codebleu"] == pytest.approx(result["ngram"])
    result = codebleu_yaml(SERVICE, DEPLOYMENT, weights=(0, 0, 2, 2))
    assert result["codebleu"] == pytest.approx((result["syntax"] + result["semantic"]) / 2)
    for bad in ((0.5, 0.5), (1, -1, 1, 1), (0, 0, 0, 0), (float("nan"), 0, 0, 1)):
        with pytest.raises(ValueError):
            codebleu_yaml(SERVICE, DEPLOYMENT, weights=bad)


def test_reference_cache_gives_same_scores() -> None:
    clear_cache()
    cold = codebleu_yaml(SERVICE, DEPLOYMENT)
    warm = codebleu_yaml(SERVICE, DEPLOYMENT)
    assert cold == warm
