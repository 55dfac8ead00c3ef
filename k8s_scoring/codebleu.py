"""CodeBLEU for Kubernetes YAML (CodeBLEU-YAML).

CodeBLEU (Ren et al. 2020, arXiv:2009.10297) is a weighted sum of four matches between a candidate and a reference
program::

    CodeBLEU = a * BLEU + b * BLEU_weighted + c * Match_ast + d * Match_df      (default a = b = c = d = 0.25)

The `codebleu` package has no YAML grammar and pins tree-sitter < 0.23, so the four parts are re-implemented here
for YAML (spec: `k8s_checks.md`, "CodeBLEU-YAML"):

* ``ngram``: sentence BLEU exactly as `sacrebleu.sentence_bleu(prediction, [reference])` with its defaults
  (13a tokenisation, 4-grams, "exp" smoothing, effective order), divided by 100. The 13a tokeniser is sacrebleu's
  own (its regexes, with the first one applied as an equivalent `str.translate`); the n-gram counting is done here
  so that the reference side can be cached. Equality with sacrebleu is tested to 1e-9.
* ``weighted_ngram``: the same BLEU, except that in the unigram precision a keyword token counts 5 and any other
  token 1 (CodeBLEU weighs keywords 1 vs 0.2 in its unigram part). Keywords are Kubernetes kinds and field names
  (`data/codebleu_keywords.txt`, built by `bench/build_codebleu_keywords.py`). CodeBLEU's own implementation
  divides by reference counts (a recall); this is BLEU's clipped precision with the brevity penalty, so that it
  equals ``ngram`` when no keyword occurs and, like BLEU, does not reward padding.
* ``syntax``: subtree match on the tree-sitter-yaml parse. Every structural node (stream, document, mapping, pair,
  sequence) is hashed together with its whole subtree; the hash covers node types, the text of mapping keys and the
  type (not the text) of scalar values. Block and flow style (``a: {b: 1}`` vs ``a:\n  b: 1``) and quoting hash
  alike: node types are canonicalised and single-child wrappers (``flow_node > plain_scalar``, sequence items) are
  transparent. Scalars and keys feed their parent's hash but are not counted on their own (they would match in any
  two documents). Comments are ignored. Score: multiset F1 (Dice) of the two subtree bags.
* ``semantic`` (stand-in for CodeBLEU's data-flow match): key-path/value alignment. Each scalar value becomes
  ``(key path, type, normalised text)`` where the key path is the tuple of mapping keys from the document root with
  ``"-"`` for a sequence item (so container order does not matter); quoted and plain spellings of the same string
  are equal, ``80`` (integer) and ``"80"`` (string) are not. Empty values (``key:``, ``{}``, ``[]``) count as
  values. Score: multiset F1 of the two bags.

CodeBLEU's syntax and data-flow parts are recalls over the reference; F1 is used here instead so that the score is
symmetric and cannot be raised by appending material (it is used as an RL reward).

Junk never raises. tree-sitter parses any text (with ERROR nodes), so ``syntax`` and ``semantic`` are computed on
whatever structure the parser recovers; a side with no tokens (empty, whitespace) scores 0 on every part; a text
longer than `MAX_CHARS` scores 0 on every part, trees are cut at `MAX_DEPTH`, and text indented beyond 120 columns
is not parsed (tree-sitter-yaml crashes on ~254 indentation levels), all for bounded time and no crash. Two empty
bags (e.g. both sides hold no scalar value) match perfectly (1.0), so ``codebleu_yaml(x, x)["codebleu"] == 1`` for
every text ``x`` with a token.

Speed: the reference side's features are kept in an LRU cache keyed by the text (RL scores k samples against one
reference), the tree is walked once with a cursor, and subtrees are hashed as flat tuples of child hashes.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import tree_sitter_yaml
from sacrebleu.tokenizers.tokenizer_re import TokenizerRegexp
from tree_sitter import Language, Parser

logger = logging.getLogger(__name__)

__all__ = ["MAX_CHARS", "MAX_DEPTH", "KEYWORDS", "KEYWORD_WEIGHT", "codebleu_yaml", "tokenize_13a", "clear_cache"]

MAX_CHARS = 65_536
"""Texts longer than this (characters) score 0 on every part; corpus manifests are at most 19,404 characters."""

KEYWORD_WEIGHT = 5.0
"""Weight of a keyword token in the unigram precision of the weighted n-gram part (other tokens weigh 1)."""

MAX_DEPTH = 256
"""Named nodes nested deeper than this are cut off (treated as leaves); the corpus' deepest parse has 53 levels."""

MAX_ORDER = 4
_REFERENCE_CACHE_SIZE = 1024
_KEYWORDS_FILE = Path(__file__).resolve().parent / "data" / "codebleu_keywords.txt"


def _load_keywords(path: Path) -> frozenset[str]:
    words = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(w for w in words if w and not w.startswith("#"))


KEYWORDS: frozenset[str] = _load_keywords(_KEYWORDS_FILE)
"""Kubernetes kinds and field names weighted `KEYWORD_WEIGHT` in the weighted n-gram part."""

# ---------------------------------------------------------------------------------------------------------------
# Tokenisation: sacrebleu's 13a, reproduced from its own regexes (sacrebleu/tokenizers/tokenizer_13a.py, _re.py).
# The first regex replaces every character of one ASCII class c by " c "; str.translate does the same in one pass.
# ---------------------------------------------------------------------------------------------------------------
_SACRE_RES: list[tuple[re.Pattern[str], str]] = TokenizerRegexp()._re
_PUNCT_TABLE = {c: f" {chr(c)} " for c in range(256) if _SACRE_RES[0][0].fullmatch(chr(c))}
_LATER_RES = _SACRE_RES[1:]


def tokenize_13a(text: str) -> list[str]:
    """Split a text into tokens exactly as sacrebleu's default (13a) BLEU tokeniser does.

    Args:
        text (`str`): any text; sacrebleu strips trailing whitespace and joins lines first.

    Returns:
        `list[str]`: the tokens (what `sacrebleu.BLEU().tokenizer(text.rstrip()).split()` gives).
    """
    line = text.rstrip().replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    line = f" {line} ".translate(_PUNCT_TABLE)
    for pattern, repl in _LATER_RES:
        line = pattern.sub(repl, line)
    return line.split()


# ---------------------------------------------------------------------------------------------------------------
# tree-sitter-yaml walk: subtree hashes (syntax) and key-path/value leaves (semantic) in one cursor pass.
# ---------------------------------------------------------------------------------------------------------------
_LANGUAGE = Language(tree_sitter_yaml.language())
_PARSER = Parser(_LANGUAGE)
_KIND_NAMES = [_LANGUAGE.node_kind_for_id(i) for i in range(_LANGUAGE.node_kind_count)]
_KIND_NAMED = [_LANGUAGE.node_kind_is_named(i) for i in range(_LANGUAGE.node_kind_count)]
_N_KINDS = len(_KIND_NAMES)

# Structural nodes: each one's subtree counts in the syntax match.
_STRUCTURAL = frozenset(
    {
        "stream",
        "document",
        "block_mapping",
        "block_mapping_pair",
        "block_sequence",
        "flow_mapping",
        "flow_pair",
        "flow_sequence",
    }
)
# Block and flow style are spellings of the same data tree: one canonical name each in subtree hashes.
_CANONICAL = {
    "block_mapping": "mapping",
    "flow_mapping": "mapping",
    "block_mapping_pair": "pair",
    "flow_pair": "pair",
    "block_sequence": "sequence",
    "flow_sequence": "sequence",
    "block_node": "node",
    "flow_node": "node",
}
# Wrappers with one child hash as that child (a block item wraps a node, a flow item does not; a node wraps a
# collection or scalar unless it also carries an anchor or tag).
_TRANSPARENT = frozenset({"block_node", "flow_node", "plain_scalar", "block_sequence_item"})
# Scalar nodes -> value type tag of the semantic part.
_SCALAR_TAGS = {
    "string_scalar": "str",
    "double_quote_scalar": "str",
    "single_quote_scalar": "str",
    "block_scalar": "str",
    "integer_scalar": "int",
    "float_scalar": "float",
    "boolean_scalar": "bool",
    "null_scalar": "null",
    "timestamp_scalar": "timestamp",
    "alias": "alias",
}
_EMPTY_COLLECTIONS = {"flow_mapping": "{}", "flow_sequence": "[]"}
_PAIRS = frozenset({"block_mapping_pair", "flow_pair"})
# tree-sitter-yaml 0.7.2's external scanner segfaults (uncatchable) once its indentation stack holds ~254 levels
# (e.g. 254 lines "- " each indented one column deeper). A block collection opens at most two levels per column
# (a sequence may sit at its parent key's column), and it opens at the first character after leading spaces and
# block indicators, so text in which no line starts with more than 120 such characters is safe. Measured: every
# corpus manifest stays <= 65; texts over the bound are not parsed (their syntax/semantic bags stay empty).
_UNSAFE_INDENT = re.compile(r"(?:\A|[\r\n])[ \t?:-]{121}")
_ITEM_PARENTS = frozenset({"block_sequence_item", "flow_sequence"})


def _normalise_scalar(name: str, raw: str) -> str:
    """Text of a scalar with its spelling removed: quotes, folding whitespace, block indentation, case of literals."""
    if name == "double_quote_scalar":
        raw = raw[1:-1]
    elif name == "single_quote_scalar":
        raw = raw[1:-1].replace("''", "'")
    elif name == "block_scalar":
        lines = raw.split("\n")[1:]  # drop the "|" / ">" header line
        return "\n".join(line.strip() for line in lines).strip()
    elif name != "string_scalar":
        return raw.lower()
    return " ".join(raw.split()) if "\n" in raw else raw


def _normalise_key(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    return raw


def _walk(src: bytes) -> tuple[Counter[int], Counter[tuple]]:
    """Parse YAML bytes with tree-sitter and collect subtree hashes and key-path/value leaves in one cursor pass.

    Only named, non-comment nodes get a frame, and only they are descended into (anonymous nodes are tokens, i.e.
    leaves), so every `goto_parent` returns to the node of the innermost frame, which is then closed. Nodes deeper
    than `MAX_DEPTH` frames are treated as leaves (bounded time on pathological nesting).

    Returns:
        `tuple[Counter[int], Counter[tuple]]`: the bag of structural subtree hashes and the bag of
        ``(key_path, type_tag, text)`` scalar leaves.
    """
    tree = _PARSER.parse(src)
    cursor = tree.walk()
    subtrees: Counter[int] = Counter()
    leaves: Counter[tuple] = Counter()
    # Frame: [name, in_key, child_hashes, path, pending_key, label, has_value, start, end]
    stack: list[list] = [["", False, [], (), None, None, True, 0, 0]]
    while True:
        node = cursor.node
        kind = node.kind_id
        if kind < _N_KINDS:
            name, named = _KIND_NAMES[kind], _KIND_NAMED[kind]
        else:  # ERROR and other kinds outside the grammar table
            name, named = node.type, node.is_named
        if named and name != "comment":
            parent = stack[-1]
            field = cursor.field_name
            label = None
            if parent[1]:
                in_key, path = True, None
            elif field == "key":
                in_key, path = True, None
                label = _normalise_key(src[node.start_byte : node.end_byte].decode("utf-8", "replace"))
                parent[4] = label
            elif field == "value":
                in_key, path = False, parent[3] + (parent[4],)
                parent[6] = True
            elif parent[0] in _ITEM_PARENTS:
                in_key, path = False, parent[3] + ("-",)
            else:
                in_key, path = False, parent[3]
            # keys hash as their text and scalars as their type: no need to walk below them
            descend = label is None and name not in _SCALAR_TAGS
            if name == "plain_scalar":  # its one child is the typed scalar (string_scalar, integer_scalar, ...)
                child = node.child(0)
                if child is not None:
                    child_kind = child.kind_id
                    name = _KIND_NAMES[child_kind] if child_kind < _N_KINDS else child.type
                descend = False
            stack.append([name, in_key, [], path, None, label, False, node.start_byte, node.end_byte])
            if descend and len(stack) <= MAX_DEPTH and cursor.goto_first_child():
                continue
            _close(stack, src, subtrees, leaves)
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return subtrees, leaves
            _close(stack, src, subtrees, leaves)


def _close(stack: list[list], src: bytes, subtrees: Counter[int], leaves: Counter[tuple]) -> None:
    """Pop the innermost frame: hash its subtree into its parent, record its leaf value if it is one."""
    name, in_key, children, path, pending_key, label, has_value, start, end = stack.pop()
    tag = _SCALAR_TAGS.get(name)
    if label is not None:  # a mapping key: its text, whatever its quoting
        digest = hash(("key", label))
    elif tag is not None:  # a scalar value: its type only (the text belongs to the semantic part)
        digest = hash(("scalar", tag))
    elif len(children) == 1 and name in _TRANSPARENT:
        digest = children[0]
    else:
        digest = hash((_CANONICAL.get(name, name), *children))
    stack[-1][2].append(digest)
    if name in _STRUCTURAL:
        subtrees[digest] += 1
    if in_key:
        return
    if tag is not None:
        leaves[(path, tag, _normalise_scalar(name, src[start:end].decode("utf-8", "replace")))] += 1
    elif name in _PAIRS and not has_value:
        leaves[(path + (pending_key,), "null", "")] += 1
    elif not children and name in _EMPTY_COLLECTIONS:
        leaves[(path, "empty", _EMPTY_COLLECTIONS[name])] += 1


# ---------------------------------------------------------------------------------------------------------------
# Features of one side, the BLEU formula, the match scores.
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Features:
    """Everything CodeBLEU-YAML needs from one text (the reference side is cached)."""

    length: int  # number of 13a tokens
    ngrams: tuple[Counter, ...]  # per order n = 1..4: n-gram -> count (unigrams keyed by str, others by tuple)
    keyword_tokens: int  # tokens that are keywords (with multiplicity)
    subtrees: Counter[int]
    n_subtrees: int
    leaves: Counter[tuple]
    n_leaves: int


_EMPTY_FEATURES = _Features(0, tuple(Counter() for _ in range(MAX_ORDER)), 0, Counter(), 0, Counter(), 0)


def _features(text: str) -> _Features:
    if not text or len(text) > MAX_CHARS:
        return _EMPTY_FEATURES
    tokens = tokenize_13a(text)
    if not tokens:
        return _EMPTY_FEATURES
    ngrams = [Counter(tokens)]
    for n in range(2, MAX_ORDER + 1):
        ngrams.append(Counter(zip(*(tokens[i:] for i in range(n)))))
    keyword_tokens = sum(c for tok, c in ngrams[0].items() if tok in KEYWORDS)
    if _UNSAFE_INDENT.search(text) is None:
        subtrees, leaves = _walk(text.encode("utf-8", "surrogatepass"))
    else:
        logger.debug("CodeBLEU-YAML: indentation deeper than 120 columns, structure not analysed")
        subtrees, leaves = Counter(), Counter()
    return _Features(
        length=len(tokens),
        ngrams=tuple(ngrams),
        keyword_tokens=keyword_tokens,
        subtrees=subtrees,
        n_subtrees=sum(subtrees.values()),
        leaves=leaves,
        n_leaves=sum(leaves.values()),
    )


_reference_features = lru_cache(maxsize=_REFERENCE_CACHE_SIZE)(_features)


def clear_cache() -> None:
    """Empty the reference-side LRU cache (for benchmarks of the cold path)."""
    _reference_features.cache_clear()


def _log(x: float) -> float:
    # sacrebleu.utils.my_log: log(0) is a large negative number instead of an error
    return math.log(x) if x != 0.0 else -9999999999.0


def _bleu(correct: list[float], total: list[float], sys_len: int, ref_len: int) -> float:
    """sacrebleu's `BLEU.compute_bleu` with smooth_method="exp" and effective_order=True, as a fraction (0-1)."""
    if not any(correct):
        return 0.0
    bp = 1.0
    if sys_len < ref_len:
        bp = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    precisions = [0.0] * MAX_ORDER
    smooth_mteval = 1.0
    eff_order = MAX_ORDER
    for n in range(MAX_ORDER):
        if total[n] == 0:
            break
        eff_order = n + 1
        if correct[n] == 0:
            smooth_mteval *= 2
            precisions[n] = 100.0 / (smooth_mteval * total[n])
        else:
            precisions[n] = 100.0 * correct[n] / total[n]
    score = bp * math.exp(sum(_log(p) for p in precisions[:eff_order]) / eff_order)
    return min(1.0, score / 100.0)


def _dice(a: Counter, n_a: int, b: Counter, n_b: int) -> float:
    """Multiset F1 (Dice coefficient): 2 |a & b| / (|a| + |b|); 1.0 when both bags are empty."""
    if n_a + n_b == 0:
        return 1.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    common = 0
    for item, count in small.items():
        other = large.get(item)
        if other:
            common += count if count < other else other
    return min(1.0, 2.0 * common / (n_a + n_b))


def codebleu_yaml(
    prediction: str,
    reference: str,
    weights: tuple[float, float, float, float] = (0.25, 0.25, 0.25, 0.25),
) -> dict[str, float]:
    """CodeBLEU-YAML of one prediction against one reference (both YAML texts; junk allowed, never raises).

    Args:
        prediction (`str`): the generated YAML text.
        reference (`str`): the reference YAML text (its features are cached, keyed by the text).
        weights (`tuple[float, float, float, float]`, defaults to `(0.25, 0.25, 0.25, 0.25)`): weights of
            ngram, weighted_ngram, syntax and semantic; non-negative, normalised by their sum.

    Returns:
        `dict[str, float]`: ``codebleu``, ``ngram``, ``weighted_ngram``, ``syntax``, ``semantic``, all in [0, 1].

    Raises:
        `ValueError`: if `weights` does not hold four non-negative numbers with a positive sum.
    """
    if len(weights) != 4 or any(not w >= 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"weights must be four non-negative numbers with a positive sum, got {weights!r}")
    if not isinstance(prediction, str) or not isinstance(reference, str):
        prediction = prediction if isinstance(prediction, str) else ""
        reference = reference if isinstance(reference, str) else ""
    try:
        ref = _reference_features(reference)
        hyp = _features(prediction)
    except Exception:  # a parser failure must never take down a training run; such a pair scores 0
        logger.warning("CodeBLEU-YAML could not analyse a pair; scoring it 0", exc_info=True)
        ref = hyp = _EMPTY_FEATURES
    if ref.length == 0 or hyp.length == 0:
        return {"codebleu": 0.0, "ngram": 0.0, "weighted_ngram": 0.0, "syntax": 0.0, "semantic": 0.0}

    correct = [0] * MAX_ORDER
    total = [max(hyp.length - n, 0) for n in range(MAX_ORDER)]
    for n in range(MAX_ORDER):
        ref_counts = ref.ngrams[n]
        matched = 0
        for gram, count in hyp.ngrams[n].items():
            r = ref_counts.get(gram)
            if r:
                matched += count if count < r else r
        correct[n] = matched
    ngram = _bleu(correct, total, hyp.length, ref.length)

    extra = KEYWORD_WEIGHT - 1.0
    keyword_matched = 0
    ref_unigrams = ref.ngrams[0]
    for tok, count in hyp.ngrams[0].items():
        if tok in KEYWORDS:
            r = ref_unigrams.get(tok)
            if r:
                keyword_matched += count if count < r else r
    w_correct = [correct[0] + extra * keyword_matched, *correct[1:]]
    w_total = [total[0] + extra * hyp.keyword_tokens, *total[1:]]
    weighted = _bleu(w_correct, w_total, hyp.length, ref.length)

    syntax = _dice(hyp.subtrees, hyp.n_subtrees, ref.subtrees, ref.n_subtrees)
    semantic = _dice(hyp.leaves, hyp.n_leaves, ref.leaves, ref.n_leaves)
    parts = (ngram, weighted, syntax, semantic)
    norm = sum(weights)
    combined = sum(w * p for w, p in zip(weights, parts)) / norm
    return {
        "codebleu": min(1.0, max(0.0, combined)),
        "ngram": ngram,
        "weighted_ngram": weighted,
        "syntax": syntax,
        "semantic": semantic,
    }
