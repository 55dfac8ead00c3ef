"""Shared test set-up: everything offline, small thread pools (CI has 2 cores)."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_EVALUATE_OFFLINE", "1")

try:  # keep torch from oversubscribing the two CI cores when tests run next to each other
    import torch

    torch.set_num_threads(2)
except ImportError:  # scoring-only environments
    pass
