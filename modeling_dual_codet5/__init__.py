"""DualCodeT5: a dual-encoder (intent + pattern) CodeT5 for intent -> Kubernetes YAML.

Importing this package registers the model with the Auto classes, so that in-package code can use
`AutoConfig.from_pretrained(folder)` / `AutoModelForSeq2SeqLM.from_pretrained(folder)` without `trust_remote_code`.
"""

from transformers import AutoConfig, AutoModelForSeq2SeqLM

from .configuration_dual_codet5 import DualCodeT5Config
from .modeling_dual_codet5 import (
    DualCodeT5CopyHead,
    DualCodeT5Encoder,
    DualCodeT5EncoderOutput,
    DualCodeT5ForConditionalGeneration,
    DualCodeT5PreTrainedModel,
    DualCodeT5Seq2SeqLMOutput,
)

AutoConfig.register(DualCodeT5Config.model_type, DualCodeT5Config, exist_ok=True)
AutoModelForSeq2SeqLM.register(DualCodeT5Config, DualCodeT5ForConditionalGeneration, exist_ok=True)
# `save_pretrained` then writes `auto_map` into config.json and copies both .py files (Hub remote code).
DualCodeT5Config.register_for_auto_class()
DualCodeT5ForConditionalGeneration.register_for_auto_class("AutoModelForSeq2SeqLM")

__all__ = [
    "DualCodeT5Config",
    "DualCodeT5CopyHead",
    "DualCodeT5Encoder",
    "DualCodeT5EncoderOutput",
    "DualCodeT5ForConditionalGeneration",
    "DualCodeT5PreTrainedModel",
    "DualCodeT5Seq2SeqLMOutput",
]
