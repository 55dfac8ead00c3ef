"""Pattern extraction: the skeleton of a manifest, used as the model's second input.

A pattern keeps what is structural — `apiVersion`, `kind`, the key structure, enum-like values such as a Service
`type` — and replaces every free value with a typed placeholder (`<str>`, `<int>`, `<image>`, `<port>`, ...).
Lists keep one representative item and free-form maps (labels, ConfigMap data, ...) collapse to `<map>`, so a
pattern stays short: it is a model input.

Example:

```python
>>> print(extract_pattern("apiVersion: v1\\nkind: Service\\nmetadata:\\n  name: web\\nspec:\\n  type: NodePort\\n"
...                       "  ports:\\n  - port: 80\\n"))
apiVersion: v1
kind: Service
metadata:
  name: <str>
spec:
  type: NodePort
  ports:
  - port: <port>
```
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from .yaml_io import load_mappings

# Keys whose values are kept verbatim (they are the structure: they decide which other keys make sense).
LITERAL_KEYS: frozenset[str] = frozenset(
    {
        "apiVersion", "kind", "type", "protocol", "imagePullPolicy", "restartPolicy", "pathType", "policyTypes",
        "accessModes", "concurrencyPolicy", "volumeMode", "reclaimPolicy", "persistentVolumeReclaimPolicy",
        "dnsPolicy", "externalTrafficPolicy", "operator", "apiGroup", "apiGroups", "verbs", "resources",
        "podManagementPolicy", "sessionAffinity", "ipFamilyPolicy", "allowPrivilegeEscalation", "runAsNonRoot",
        "readOnlyRootFilesystem", "privileged", "drop", "add",
    }
)
# Maps whose keys are user data, not schema: rendered as `<map>`.
FREEFORM_MAP_KEYS: frozenset[str] = frozenset(
    {
        "labels", "annotations", "data", "stringData", "binaryData", "matchLabels", "nodeSelector", "selector",
        "parameters", "capacity", "limits", "requests", "options",
    }
)
PORT_KEYS: frozenset[str] = frozenset({"containerPort", "port", "targetPort", "nodePort", "hostPort", "number"})
IMAGE_KEYS: frozenset[str] = frozenset({"image"})
CRON_KEYS: frozenset[str] = frozenset({"schedule"})
# Literal values are kept only when short; long ones (a 40-item verbs list is rare, a long string is not) are typed.
MAX_LITERAL_CHARS = 40
# Below this depth everything collapses to `<...>`, bounding the pattern of very deep custom resources.
MAX_DEPTH = 10


def _placeholder(key: str | None, value: Any) -> str:
    if isinstance(value, bool):
        return "<bool>"
    if isinstance(value, int):
        return "<port>" if key in PORT_KEYS else "<int>"
    if isinstance(value, float):
        return "<num>"
    if isinstance(value, (_dt.date, _dt.datetime)):
        return "<date>"
    if value is None:
        return "<null>"
    text = str(value)
    if key in IMAGE_KEYS:
        return "<image>"
    if key in CRON_KEYS:
        return "<cron>"
    if key in PORT_KEYS:  # named port such as `http`
        return "<port>"
    if "\n" in text:
        return "<text>"
    return "<str>"


def _scalar(key: str | None, value: Any, literal: bool) -> str:
    if literal and isinstance(value, (str, int, bool)) and not isinstance(value, float):
        text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        if text == "":
            return '""'
        if text and len(text) <= MAX_LITERAL_CHARS and "\n" not in text and ":" not in text and "#" not in text:
            return text
    return _placeholder(key, value)


def _emit(value: Any, key: str | None, indent: int, lines: list[str], literal: bool, depth: int) -> None:
    """Append the pattern lines of `value` (the value of `key`) at `indent` spaces."""
    pad = " " * indent
    if isinstance(value, dict):
        for child_key, child in value.items():
            name = str(child_key)
            child_literal = literal or name in LITERAL_KEYS
            if depth >= MAX_DEPTH:
                lines.append(f"{pad}{name}: <...>")
            elif isinstance(child, dict) and child and name in FREEFORM_MAP_KEYS:
                lines.append(f"{pad}{name}: <map>")
            elif isinstance(child, dict) and child:
                lines.append(f"{pad}{name}:")
                _emit(child, name, indent + 2, lines, child_literal, depth + 1)
            elif isinstance(child, list) and child:
                lines.append(f"{pad}{name}:")
                _emit(child, name, indent, lines, child_literal, depth + 1)
            elif isinstance(child, (dict, list)):
                lines.append(f"{pad}{name}: {'{}' if isinstance(child, dict) else '[]'}")
            else:
                lines.append(f"{pad}{name}: {_scalar(name, child, child_literal)}")
    elif isinstance(value, list):
        if all(not isinstance(item, (dict, list)) for item in value):
            rendered = [_scalar(key, item, literal) for item in value]
            if not literal:  # one typed item stands for the list
                rendered = rendered[:1]
            for item in dict.fromkeys(rendered):
                lines.append(f"{pad}- {item}")
            return
        first = value[0]  # one representative item keeps patterns short
        if isinstance(first, dict) and first:
            sub: list[str] = []
            _emit(first, key, indent + 2, sub, literal, depth + 1)
            sub[0] = f"{pad}- {sub[0][indent + 2:]}"
            lines.extend(sub)
        elif isinstance(first, list):
            lines.append(f"{pad}- <list>")
        else:
            lines.append(f"{pad}- {_scalar(key, first, literal)}")
    else:
        lines.append(f"{pad}{_scalar(key, value, literal)}")


def document_pattern(doc: dict[str, Any]) -> str:
    """The pattern of one parsed document (a mapping)."""
    lines: list[str] = []
    _emit(doc, None, 0, lines, False, 0)
    return "\n".join(lines)


def extract_pattern(yaml_text: str) -> str:
    """The skeleton of a (multi-document) manifest: kinds, apiVersions, key structure and typed placeholders.

    Documents are separated by `---`. Text that does not parse as YAML mappings gives `""`.

    Args:
        yaml_text: The manifest text.

    Returns:
        The pattern text, ending without a trailing newline.
    """
    return "\n---\n".join(document_pattern(doc) for doc in load_mappings(yaml_text))


def pattern_kinds(pattern: str) -> list[str]:
    """The `kind:` values of a pattern's top-level documents, in order."""
    return [line[len("kind: "):].strip() for line in pattern.splitlines() if line.startswith("kind: ")]
