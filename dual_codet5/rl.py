"""The policy-gradient math of stage 2: RLOO advantages, gamma discounting and the KL-to-SFT penalty.

Pure tensor functions, no model and no I/O, so that every number can be checked by hand (``tests/test_rl_math.py``).

Notation: ``P`` prompts (intents) per batch, ``k`` samples per prompt, ``B = P * k`` sequences, ``T`` the padded
completion length. Samples of one prompt are stored next to each other (``generate(num_return_sequences=k)`` order), so
``x.view(P, k)`` groups them.

The objective (RLOO, Ahmadian et al. 2024, "Back to Basics: Revisiting REINFORCE Style Optimization for Learning from
Human Feedback in LLMs", arXiv 2402.14740), extended with the seed's discount ``gamma``:

* per-token reward ``r_t = -beta * kl_t`` for every completion token, plus the judge's score ``R`` on the last token;
  ``kl_t = log pi(y_t | ...) - log pi_SFT(y_t | ...)`` is the sampled (k1) estimator of the KL to the frozen SFT model;
* return ``G_t = sum_{s >= t} gamma^(s - t) r_s`` (the terminal score is discounted back over the tokens);
* baseline: the leave-one-out mean of the other ``k - 1`` samples' total rewards ``R_j - beta * sum_t kl_{j,t}``,
  discounted from the last token exactly like the terminal score, so that with ``beta = 0`` the token advantage is
  ``gamma^(T_i - 1 - t) * (R_i - mean_{j != i} R_j)``;
* loss ``-(1 / B) * sum_{i,t} A_{i,t} * log pi(y_{i,t})``.

With ``gamma = 1`` every token of a sequence gets the same task advantage: plain sequence-level REINFORCE with the
RLOO baseline (the KL part is then its reward-to-go, which has the same expectation and lower variance). With
``gamma < 1`` (seed default 0.99) early tokens get exponentially less credit for the final score; that is the seed's
choice, kept as the default and documented in docs/training.md.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = [
    "discount_weights",
    "discounted_returns",
    "expand_encoder_outputs",
    "gather_token_logprobs",
    "kl_penalty_rewards",
    "leave_one_out_baseline",
    "rloo_advantages",
    "token_advantages",
    "policy_gradient_loss",
    "zero_spread_fraction",
]


def leave_one_out_baseline(rewards: torch.Tensor) -> torch.Tensor:
    """Mean reward of the *other* samples of the same prompt.

    Args:
        rewards (`torch.Tensor` of shape `(num_prompts, k)`): one scalar reward per sample, ``k >= 2``.

    Returns:
        `torch.Tensor` of shape `(num_prompts, k)`: ``b_i = (sum_j R_j - R_i) / (k - 1)``.
    """
    if rewards.dim() != 2:
        raise ValueError(f"rewards must have shape (num_prompts, k), got {tuple(rewards.shape)}")
    k = rewards.shape[1]
    if k < 2:
        raise ValueError("the leave-one-out baseline needs k >= 2 samples per prompt")
    return (rewards.sum(dim=1, keepdim=True) - rewards) / (k - 1)


def rloo_advantages(rewards: torch.Tensor) -> torch.Tensor:
    """RLOO advantage ``A_i = R_i - mean_{j != i} R_j`` (arXiv 2402.14740, eq. 7).

    Args:
        rewards (`torch.Tensor` of shape `(num_prompts, k)`).

    Returns:
        `torch.Tensor` of shape `(num_prompts, k)`; each row sums to zero.
    """
    return rewards - leave_one_out_baseline(rewards)


def discount_weights(mask: torch.Tensor, gamma: float) -> torch.Tensor:
    """``gamma ** (T_i - 1 - t)`` on valid tokens, 0 on padding: how much of a last-token reward reaches token ``t``.

    Args:
        mask (`torch.Tensor` of shape `(batch_size, seq_len)`): 1 for completion tokens (a left-aligned prefix), 0 for
            padding.
        gamma (`float`): discount factor in ``(0, 1]``.

    Returns:
        `torch.Tensor` of shape `(batch_size, seq_len)`, float.
    """
    mask = mask.to(torch.float32)
    # steps from each token to the sequence's last token: (batch_size, seq_len)
    steps_to_end = (mask.sum(dim=1, keepdim=True) - 1 - torch.arange(mask.shape[1], device=mask.device)).clamp(min=0)
    return torch.pow(torch.as_tensor(gamma, dtype=torch.float32), steps_to_end) * mask


def kl_penalty_rewards(
    policy_logprobs: torch.Tensor, ref_logprobs: torch.Tensor, mask: torch.Tensor, beta: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token KL estimate and the reward penalty ``-beta * kl_t``.

    Why a reward penalty and not a loss term: folded into the reward, the KL is optimised by the same policy gradient
    as the score, so the update maximises ``E[R] - beta * KL(pi || pi_SFT)`` exactly (Ziegler et al. 2019; RLOO
    paper section 3). It keeps the policy close to the fluent SFT model, which is what stops it from gaming the judge
    with degenerate YAML that happens to tick best-practice boxes.

    Args:
        policy_logprobs (`torch.Tensor` of shape `(batch_size, seq_len)`): log-probs of the sampled tokens under the
            policy (detached).
        ref_logprobs (`torch.Tensor` of shape `(batch_size, seq_len)`): the same under the frozen SFT model.
        mask (`torch.Tensor` of shape `(batch_size, seq_len)`): 1 on completion tokens.
        beta (`float`): KL coefficient (default 0.05 in the recipe).

    Returns:
        `tuple(torch.Tensor, torch.Tensor)`: ``kl`` and ``-beta * kl``, both `(batch_size, seq_len)`, 0 on padding.
    """
    mask = mask.to(policy_logprobs.dtype)
    kl = (policy_logprobs - ref_logprobs) * mask
    return kl, -beta * kl


def discounted_returns(token_rewards: torch.Tensor, gamma: float) -> torch.Tensor:
    """``G_t = r_t + gamma * G_{t+1}`` computed right to left.

    Args:
        token_rewards (`torch.Tensor` of shape `(batch_size, seq_len)`): 0 on padding (padding is at the right, so a
            padded position adds nothing to earlier returns).
        gamma (`float`): discount factor.

    Returns:
        `torch.Tensor` of shape `(batch_size, seq_len)`.
    """
    returns = torch.zeros_like(token_rewards)
    running = torch.zeros_like(token_rewards[:, 0])
    for t in range(token_rewards.shape[1] - 1, -1, -1):
        running = token_rewards[:, t] + gamma * running
        returns[:, t] = running
    return returns


def token_advantages(
    scores: torch.Tensor,
    kl: torch.Tensor,
    mask: torch.Tensor,
    k: int,
    gamma: float = 0.99,
    beta: float = 0.05,
) -> torch.Tensor:
    """Per-token advantages: discounted returns minus the discounted leave-one-out baseline.

    Args:
        scores (`torch.Tensor` of shape `(batch_size,)`): the judge's terminal reward per completion,
            ``batch_size = num_prompts * k``, the ``k`` samples of a prompt contiguous.
        kl (`torch.Tensor` of shape `(batch_size, seq_len)`): per-token KL estimate (0 on padding).
        mask (`torch.Tensor` of shape `(batch_size, seq_len)`): 1 on completion tokens.
        k (`int`): samples per prompt.
        gamma (`float`): discount of the terminal reward over tokens; 1.0 = sequence-level REINFORCE.
        beta (`float`): KL coefficient.

    Returns:
        `torch.Tensor` of shape `(batch_size, seq_len)`, 0 on padding.
    """
    batch_size, seq_len = mask.shape
    if batch_size % k:
        raise ValueError(f"batch of {batch_size} sequences is not a whole number of groups of k={k}")
    mask_f = mask.to(torch.float32)
    scores = scores.to(torch.float32)
    kl = kl.to(torch.float32) * mask_f
    lengths = mask_f.sum(dim=1).long()  # (batch_size,)
    # terminal score on each sequence's last token: (batch_size, seq_len)
    last = torch.nn.functional.one_hot((lengths - 1).clamp(min=0), num_classes=seq_len).to(torch.float32)
    last = last * (lengths > 0).unsqueeze(1)
    rewards = -beta * kl + last * scores.unsqueeze(1)
    returns = discounted_returns(rewards, gamma)  # (batch_size, seq_len)
    # total (undiscounted) reward of each sample, grouped: (batch_size,) -> (num_prompts, k)
    totals = (scores - beta * kl.sum(dim=1)).view(-1, k)
    # leave-one-out baseline per sample: (num_prompts, k) -> (batch_size, 1)
    baseline = leave_one_out_baseline(totals).reshape(batch_size, 1)
    return (returns - baseline * discount_weights(mask_f, gamma)) * mask_f


def gather_token_logprobs(
    logits: torch.Tensor,
    tokens: torch.Tensor,
    temperature: float = 1.0,
    lookup_tokens: torch.Tensor | None = None,
    lookup_bonus: float = 0.0,
) -> torch.Tensor:
    """Log-probability of each chosen token under ``softmax(logits / temperature)``, or, with an exemplar lookup,
    under ``softmax((logits + bonus * onehot(expected)) / temperature)``: the distribution `generate` samples from
    when `dual_codet5.lookup.ExemplarLookupLogitsProcessor` runs before the temperature (as transformers orders them).

    The samples come from that distribution, so the policy that REINFORCE differentiates (and the one the KL compares
    with the SFT model) must be it too; at temperature 1 without lookup it is the model's own. The lookup term needs
    no second `(batch, seq, vocab)` tensor: with `p_e` the probability of the expected token and `b = bonus / T`,
    `log p'(y) = log p(y) + b [y = e] - log(1 + p_e (e^b - 1))`.

    Args:
        logits (`torch.Tensor` of shape `(batch_size, seq_len, vocab_size)`).
        tokens (`torch.LongTensor` of shape `(batch_size, seq_len)`).
        temperature (`float`): the sampling temperature (> 0).
        lookup_tokens (`torch.LongTensor` of shape `(batch_size, seq_len)`, *optional*): the token the lookup
            expected at each position, -1 where it gave no bonus (`dual_codet5.lookup.expected_tokens`).
        lookup_bonus (`float`): the lookup's bonus (0 = no lookup).

    Returns:
        `torch.Tensor` of shape `(batch_size, seq_len)` (float32).
    """
    logprobs = torch.log_softmax(logits.float() / temperature, dim=-1)
    # (batch_size, seq_len, 1) -> (batch_size, seq_len)
    chosen = logprobs.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    if lookup_tokens is None or lookup_bonus == 0:
        return chosen
    on = lookup_tokens >= 0
    expected = logprobs.gather(-1, lookup_tokens.clamp(min=0).unsqueeze(-1)).squeeze(-1)  # (batch_size, seq_len)
    b = lookup_bonus / temperature
    # log(1 + p_e (e^b - 1)) = log((1 - p_e) + p_e e^b), written so that a large b or p_e -> 0 / 1 stays finite
    log_norm = torch.logaddexp(expected + b, torch.log1p(-expected.exp().clamp(max=1.0)))
    return torch.where(on, chosen + b * (tokens == lookup_tokens).float() - log_norm, chosen)


def policy_gradient_loss(logprobs: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """REINFORCE loss ``-(1 / B) * sum_{i,t} A_{i,t} log pi(y_{i,t})`` (sum over tokens, mean over sequences).

    Args:
        logprobs (`torch.Tensor` of shape `(batch_size, seq_len)`): with gradient.
        advantages (`torch.Tensor` of shape `(batch_size, seq_len)`): no gradient.
        mask (`torch.Tensor` of shape `(batch_size, seq_len)`).

    Returns:
        scalar `torch.Tensor`.
    """
    mask = mask.to(logprobs.dtype)
    return -(advantages.detach() * logprobs * mask).sum() / logprobs.shape[0]


def zero_spread_fraction(scores: torch.Tensor, k: int, atol: float = 1e-8) -> float:
    """Share of prompts whose ``k`` samples all got the same score (they contribute no task gradient under RLOO).

    Args:
        scores (`torch.Tensor` of shape `(batch_size,)`), ``batch_size = num_prompts * k``.
        k (`int`): samples per prompt.
    """
    grouped = scores.view(-1, k)  # (num_prompts, k)
    spread = grouped.max(dim=1).values - grouped.min(dim=1).values
    return float((spread <= atol).float().mean())


def expand_encoder_outputs(outputs: Any, k: int) -> Any:
    """Repeat every per-prompt tensor of an encoder output ``k`` times along the batch dimension.

    The prompt is encoded once and shared by its ``k`` samples, instead of encoding ``k`` identical copies. Generic
    over the fields (the fused memory, its ``attention_mask``, the pattern states, hidden-state tuples, and any field
    a model adds, such as the memory token ids of a copy mechanism): every tensor whose first dimension is the number
    of prompts ``P`` is repeated, anything else is passed through. Gradients flow back to the single encoding (the
    gradient of a repeated tensor is the sum over its copies, as with ``k`` separate encodings).

    Args:
        outputs (`ModelOutput` or `dict`): the encoder output of ``P`` prompts, e.g. `BaseModelOutput` with
            ``last_hidden_state`` of shape `(P, L, d_model)`.
        k: samples per prompt.

    Returns:
        The same type, with every batch tensor of shape `(P * k, ...)`; the ``k`` copies of a prompt are contiguous
        (``generate(num_return_sequences=k)`` order). The input is not modified.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    batch = None
    for value in outputs.values():
        if isinstance(value, torch.Tensor):
            batch = value.shape[0]
            break
    if batch is None:
        raise ValueError("the encoder output holds no tensor")

    def expand(value: Any) -> Any:
        if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape[0] == batch:
            return value.repeat_interleave(k, dim=0)
        if isinstance(value, (tuple, list)):
            return type(value)(expand(v) for v in value)
        return value

    return type(outputs)(**{key: expand(value) for key, value in outputs.items()})
