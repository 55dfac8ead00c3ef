"""k8s_data: the bundled licensed manifest corpus, intents, patterns, retrieval, the `datasets` builder and the
tokenizer trainer. Public names are listed in docs/interfaces.md."""

from .banks import (
    BANK_FILE_NAME,
    default_pattern_bank,
    load_retrieval,
    pattern_bank_for,
    retrieve_manifest,
    save_retrieval,
)
from .build import BuildOptions, build_examples, read_seed_file
from .builder import FEATURES, K8sIntents, K8sIntentsConfig, load_k8s_intents, make_builder
from .corpus import CORPUS_DIR, CorpusError, CorpusRecord, load_corpus
from .examples import Example, ExampleFilter, group_examples
from .formatting import EXEMPLAR_SEPARATOR, PATTERN_SEPARATOR, format_single_encoder_input
from .hub import push_to_hub, write_hub_folder
from .intents import build_intent, synthesize_intent
from .kinds import KIND_SYNONYMS, detect_kinds
from .patterns import extract_pattern, pattern_kinds
from .retrieval import PatternBank
from .retrieval_config import RETRIEVAL_CONFIG_NAME, RetrievalConfig
from .splits import SplitConfig, assign_splits
from .tokenizer import SPECIAL_TOKENS, train_tokenizer


def retrieve_pattern(intent: str) -> str:
    """The pattern for `intent` from the default (bundled corpus, train split) pattern bank."""
    return default_pattern_bank().retrieve(intent)


__all__ = [
    "BANK_FILE_NAME", "EXEMPLAR_SEPARATOR", "KIND_SYNONYMS", "RETRIEVAL_CONFIG_NAME", "RetrievalConfig",
    "detect_kinds", "load_retrieval", "pattern_bank_for", "retrieve_manifest", "save_retrieval",
    "CORPUS_DIR", "FEATURES", "PATTERN_SEPARATOR", "SPECIAL_TOKENS", "BuildOptions", "CorpusError", "CorpusRecord",
    "Example", "ExampleFilter", "K8sIntents", "K8sIntentsConfig", "PatternBank", "SplitConfig", "assign_splits",
    "build_examples", "build_intent", "default_pattern_bank", "extract_pattern", "format_single_encoder_input",
    "group_examples", "load_corpus", "load_k8s_intents", "make_builder", "pattern_kinds", "push_to_hub",
    "read_seed_file", "retrieve_pattern", "synthesize_intent", "train_tokenizer", "write_hub_folder",
]
