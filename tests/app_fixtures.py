"""A tiny random DualCodeT5 saved to a folder: what the app tests serve when no trained model exists.

Its YAML is junk (random weights); the tests check the app's wiring and the judge's verdict on whatever it writes.
"""

from __future__ import annotations

from pathlib import Path

import torch

TEXTS = [
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n",
    "deploy nginx with 3 replicas behind a load balancer",
    "a redis cache with a persistent volume",
]


def save_tiny_model(folder: Path) -> Path:
    """Train a 300-token tokenizer on a few lines, save it with a tiny random DualCodeT5 into `folder`."""
    from k8s_data import train_tokenizer
    from modeling_dual_codet5 import DualCodeT5ForConditionalGeneration
    from modeling_dual_codet5.presets import preset_config

    tokenizer = train_tokenizer(TEXTS * 4, vocab_size=300, min_frequency=1)
    torch.manual_seed(0)
    model = DualCodeT5ForConditionalGeneration(preset_config("tiny", vocab_size=len(tokenizer)))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
