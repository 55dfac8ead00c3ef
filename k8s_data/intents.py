"""Intents: the natural-language request each example is trained on.

Which real descriptions are used (decided here, documented in the dataset card):

- `comment` (a comment at the top of the file) and `docs` / `markdown` (prose next to the snippet on a docs page)
  were written next to that very manifest: used when, after cleaning, they still say something (at least
  `MIN_DESCRIPTION_WORDS` words, not just "For example:").
- `readme` descriptions describe a whole example folder and are weak: used only when *specific*, i.e. they name
  one of the target's kinds or object names.
- A description that mentions a best-practice term the target lacks (see `best_practices`) is never used.

In the default `description_mode="combine"` a used description is followed by a synthesised sentence of facts
(kinds, names, images, ports, ...), because prose alone rarely pins down names and counts the target contains.
`"only"` uses the cleaned description alone; `"never"` always synthesises. Without a usable description the
intent is synthesised from the manifest by the describers, phrasing chosen by a seeded `random.Random`.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from typing import Any, Literal

from .best_practices import absent_best_practices
from .corpus import CorpusRecord
from .describers import describe

DescriptionMode = Literal["combine", "only", "never"]
USED_ORIGINS: frozenset[str] = frozenset({"comment", "docs", "markdown"})
WEAK_ORIGINS: frozenset[str] = frozenset({"readme"})
MIN_DESCRIPTION_WORDS = 4
MAX_DESCRIPTION_CHARS = 320
MAX_DESCRIBED_OBJECTS = 4  # more objects than this are summarised as "and N more objects"

OPENERS: tuple[str, ...] = (
    "Create {objects}.",
    "I need {objects}.",
    "Write a Kubernetes manifest for {objects}.",
    "Generate YAML for {objects}.",
    "Set up {objects}.",
    "Deploy {objects}.",
    "Give me {objects}.",
    "Define {objects}.",
)
# Sentences of a description that are instructions to the reader, not a description of the manifest.
_INSTRUCTION = re.compile(
    r"^(save|copy|paste|run|apply|download|execute|then|next|now|here is|here's|below|the following|for example"
    r"|e\.g\.|example:?$|for instance)\b|kubectl|\.ya?ml\b|file named|following (command|yaml|manifest|file)",
    re.IGNORECASE,
)
_MARKDOWN = (
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # [text](url) -> text
    (re.compile(r"https?://\S+"), ""),
    (re.compile(r"[`*_]{1,3}([^`*_]+)[`*_]{1,3}"), r"\1"),
    (re.compile(r"<[^>]+>"), ""),
    (re.compile(r"(^|\s)\d+\.\s+"), r"\1"),  # "2. Create ..." numbered steps
    (re.compile(r"\s+"), " "),
)


def example_rng(seed: int, example_id: str) -> random.Random:
    """A `random.Random` fixed by (seed, example id): phrasing never depends on iteration order."""
    digest = hashlib.sha256(f"{seed}:{example_id}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def clean_description(text: str) -> str:
    """Strip Markdown, URLs, numbering and instruction sentences; cap the length at a sentence boundary."""
    for pattern, repl in _MARKDOWN:
        text = pattern.sub(repl, text)
    sentences = [s.strip() for s in re.split(r"(?<=[.!?:])\s+", text.strip()) if s.strip()]
    kept = [s for s in sentences if not _INSTRUCTION.search(s) and len(s.split()) >= 2]
    out = ""
    for sentence in kept:
        if out and len(out) + len(sentence) + 1 > MAX_DESCRIPTION_CHARS:
            break
        out = f"{out} {sentence}".strip()
    out = out[:MAX_DESCRIPTION_CHARS].rstrip()
    if out.endswith(":"):
        out = out[:-1].rstrip() + "."
    if out and out[-1] not in ".!?":
        out += "."
    return out


def _is_specific(text: str, docs: Sequence[dict[str, Any]]) -> bool:
    """Does the text name one of the target's kinds or object names?"""
    lowered = text.lower()
    for doc in docs:
        kind = str(doc.get("kind") or "")
        spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", kind).lower()
        name = str((doc.get("metadata") or {}).get("name") or "") if isinstance(doc.get("metadata"), dict) else ""
        if kind and (kind.lower() in lowered or spaced in lowered):
            return True
        if len(name) >= 3 and name.lower() in lowered:
            return True
    return False


def select_description(
    records: Sequence[CorpusRecord], docs: Sequence[dict[str, Any]], yaml_text: str
) -> tuple[str, str] | None:
    """The first usable real description of an example's records as `(cleaned text, origin)`, or None."""
    for record in records:
        origin = record.description_origin
        if origin not in USED_ORIGINS and origin not in WEAK_ORIGINS:
            continue
        text = clean_description(record.description)
        if len(text.split()) < MIN_DESCRIPTION_WORDS:
            continue
        if origin in WEAK_ORIGINS and not _is_specific(text, docs):
            continue
        if absent_best_practices(text, yaml_text):
            continue
        return text, origin
    return None


def synthesize_intent(docs: Sequence[dict[str, Any]], rng: random.Random) -> str:
    """A synthesised request for the given documents, e.g. `Create a Deployment named "web" ... and a Service ...`."""
    phrases = [describe(doc, rng) for doc in docs[:MAX_DESCRIBED_OBJECTS]]
    if len(docs) > MAX_DESCRIBED_OBJECTS:
        phrases.append(f"{len(docs) - MAX_DESCRIBED_OBJECTS} more objects")
    if not phrases:
        return ""
    objects = phrases[0] if len(phrases) == 1 else "; ".join(phrases[:-1]) + "; and " + phrases[-1]
    return rng.choice(OPENERS).format(objects=objects)


def build_intent(
    records: Sequence[CorpusRecord],
    docs: Sequence[dict[str, Any]],
    yaml_text: str,
    *,
    seed: int,
    example_id: str,
    description_mode: DescriptionMode = "combine",
) -> tuple[str, str]:
    """The intent of one example and where it came from.

    Returns:
        `(intent, intent_source)`; `intent_source` is the description origin (`comment`, `docs`, `markdown`,
        `readme`) when a real description is used (with synthesised facts appended in `combine` mode), else
        `synthesized`.
    """
    rng = example_rng(seed, example_id)
    synthesized = synthesize_intent(docs, rng)
    chosen = select_description(records, docs, yaml_text) if description_mode != "never" else None
    if chosen is None:
        return synthesized, "synthesized"
    text, origin = chosen
    if description_mode == "only":
        return text, origin
    return f"{text} {synthesized}".strip(), origin
