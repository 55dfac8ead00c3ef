"""fp16 safety for T5-family models (both the dual model and the baseline are built from transformers' T5 blocks).

T5's known fp16 problem: the feed-forward output projection ``wo`` produces values beyond fp16's range (65,504),
giving ``inf`` and then NaN losses, also under mixed precision (huggingface/transformers#5651: ``h = self.wo(h)``
reached 66,246 under AMP O1; the fix discussed in #10956 runs ``wo`` in fp32). ``T5PreTrainedModel``'s
``_keep_in_fp32_modules = ["wo"]`` only acts when weights are *loaded* in fp16; under Accelerate's fp16 *autocast*
(a T4) ``wo`` still runs in fp16. `keep_feed_forward_fp32` makes every ``wo`` run in fp32 with autocast off, so the
feed-forward output that joins the (fp32) residual stream cannot overflow.
"""

from __future__ import annotations

import logging
import types

import torch
from torch import nn

logger = logging.getLogger(__name__)

__all__ = ["keep_feed_forward_fp32"]


def _fp32_linear_forward(self: nn.Linear, hidden_states: torch.Tensor) -> torch.Tensor:
    """``nn.Linear.forward`` in fp32 with autocast off: `(..., in_features)` -> `(..., out_features)` float32."""
    with torch.autocast(device_type=hidden_states.device.type, enabled=False):
        bias = None if self.bias is None else self.bias.float()
        return nn.functional.linear(hidden_states.float(), self.weight.float(), bias)


def keep_feed_forward_fp32(model: nn.Module) -> int:
    """Run the output projection ``wo`` of every T5 feed-forward block in fp32, even under fp16 autocast.

    Parameter names and the state dict are unchanged (only the modules' ``forward`` is replaced), so checkpoints stay
    plain ``save_pretrained`` folders.

    Returns:
        `int`: how many ``wo`` projections were changed (0 means the model has no T5 feed-forward blocks).
    """
    count = 0
    for name, module in model.named_modules():
        if name.split(".")[-1] == "wo" and isinstance(module, nn.Linear):
            module.forward = types.MethodType(_fp32_linear_forward, module)
            count += 1
    logger.info("feed-forward output projections kept in fp32: %d", count)
    return count
