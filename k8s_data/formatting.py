"""Input formatting shared by training and inference (docs/interfaces.md: both must agree)."""

from __future__ import annotations

# Plain text (not a special token), so any tokenizer — ours or CodeT5's — encodes it the same way.
PATTERN_SEPARATOR = "\n### Pattern:\n"


def format_single_encoder_input(intent: str, pattern: str) -> str:
    """The single-encoder baseline's input: intent, a separator line, then the pattern.

    With an empty pattern (pattern_mode `none`) the input is the intent alone, so `none` baselines see no
    separator noise.

    Example: `format_single_encoder_input("a web Service", "kind: Service")` →
    `"a web Service\\n### Pattern:\\nkind: Service"`.
    """
    intent = intent.strip()
    pattern = pattern.strip("\n")
    return f"{intent}{PATTERN_SEPARATOR}{pattern}" if pattern else intent

# Between the retrieved manifests of an exemplar pattern (exemplar_k > 1). A YAML comment line that no corpus file
# holds, so a reader (or the model) sees where one manifest ends and the next begins.
EXEMPLAR_SEPARATOR = "\n# ==== next retrieved manifest ====\n"
