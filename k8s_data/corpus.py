"""Reading the bundled manifest corpus (`k8s_data/corpus/manifests.jsonl`).

One JSON object per line, one Kubernetes document per object. A malformed line raises a `CorpusError` that names
the file and the 1-based line number, so a broken corpus never turns into a silently smaller dataset.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, fields
from pathlib import Path

logger = logging.getLogger(__name__)

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
CORPUS_FILE = CORPUS_DIR / "manifests.jsonl"

# Field name -> accepted JSON types. `namespace`/`description`... may be empty strings but must be present.
REQUIRED_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "source": (str,),
    "path": (str,),
    "doc_index": (int,),
    "license": (str,),
    "kind": (str,),
    "apiVersion": (str,),
    "name": (str,),
    "yaml": (str,),
}
OPTIONAL_FIELDS: dict[str, tuple[tuple[type, ...], object]] = {
    "commit": ((str,), ""),
    "namespace": ((str,), ""),
    "description": ((str,), ""),
    "description_source": ((str,), ""),
    "context_heading": ((str,), ""),
    "from_markdown": ((bool,), False),
    "has_placeholders": ((bool,), False),
    "deprecated_api": ((bool,), False),
    "dup_count": ((int,), 1),
    "schema_valid": ((bool, type(None)), None),
}


class CorpusError(ValueError):
    """A corpus line that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class CorpusRecord:
    """One Kubernetes document of the corpus, with its provenance.

    Args:
        id: Stable record id (16 hex digits).
        source: Repository the document was taken from, `owner/name`.
        path: File inside the repository (a `.yaml` file, or a Markdown page for documents taken from code blocks).
        doc_index: Position of the document in its file; for Markdown pages `block * 100 + document`.
        license: SPDX licence of the YAML text.
        kind / apiVersion / name / namespace: The object's identity.
        description: Prose found next to the document (may be empty), see `description_source`.
        description_source: Where `description` came from, `<origin>:<file>` with origin one of `markdown`,
            `docs`, `comment`, `readme`; empty when there is none.
        yaml: The document text.
    """

    id: str
    source: str
    path: str
    doc_index: int
    license: str
    kind: str
    apiVersion: str  # noqa: N815 - the corpus' own field name
    name: str
    yaml: str
    commit: str = ""
    namespace: str = ""
    description: str = ""
    description_source: str = ""
    context_heading: str = ""
    from_markdown: bool = False
    has_placeholders: bool = False
    deprecated_api: bool = False
    dup_count: int = 1
    schema_valid: bool | None = None

    @property
    def file_key(self) -> str:
        """The source file this document belongs to: `source:path`."""
        return f"{self.source}:{self.path}"

    @property
    def unit_key(self) -> str:
        """The unit documents are grouped into examples by: the file, or one code block of a Markdown page."""
        if self.from_markdown:
            return f"{self.file_key}#block{self.doc_index // 100}"
        return self.file_key

    @property
    def description_origin(self) -> str:
        """`markdown`, `docs`, `comment`, `readme` or `""`."""
        return self.description_source.split(":", 1)[0] if self.description_source else ""


_KNOWN = {f.name for f in fields(CorpusRecord)}


def parse_record(line: str, *, line_number: int, file: str | Path = "<corpus>") -> CorpusRecord:
    """Parse one corpus line into a `CorpusRecord`.

    Raises:
        CorpusError: if the line is not a JSON object, or a field is missing or has the wrong type. The message
            starts with `<file>:<line_number>:`.
    """
    where = f"{file}:{line_number}"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        raise CorpusError(f"{where}: not valid JSON ({err.msg} at column {err.colno})") from None
    if not isinstance(obj, dict):
        raise CorpusError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    values: dict[str, object] = {}
    for key, types in REQUIRED_FIELDS.items():
        if key not in obj:
            raise CorpusError(f"{where}: missing required field {key!r}")
        if not isinstance(obj[key], types) or (types == (int,) and isinstance(obj[key], bool)):
            raise CorpusError(f"{where}: field {key!r} must be {types[0].__name__}, got {type(obj[key]).__name__}")
        values[key] = obj[key]
    if not values["yaml"].strip():
        raise CorpusError(f"{where}: field 'yaml' is empty")
    for key, (types, default) in OPTIONAL_FIELDS.items():
        value = obj.get(key, default)
        if not isinstance(value, types):
            raise CorpusError(f"{where}: field {key!r} must be {types[0].__name__}, got {type(value).__name__}")
        values[key] = value
    return CorpusRecord(**{k: v for k, v in values.items() if k in _KNOWN})


def load_corpus(path: str | Path | None = None) -> list[CorpusRecord]:
    """Read every record of a corpus file (default: the bundled `manifests.jsonl`).

    Blank lines are skipped. Ids must be unique.

    Raises:
        CorpusError: on the first bad line, naming it.
    """
    path = Path(path) if path is not None else CORPUS_FILE
    records: list[CorpusRecord] = []
    seen: dict[str, int] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = parse_record(line, line_number=number, file=path)
            if record.id in seen:
                raise CorpusError(f"{path}:{number}: duplicate id {record.id!r} (first on line {seen[record.id]})")
            seen[record.id] = number
            records.append(record)
    logger.info("read %d corpus records from %s", len(records), path)
    return records


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (used to key dataset caches on content, not on file names)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
