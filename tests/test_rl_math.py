"""RLOO advantages, gamma discount and KL penalty against values computed by hand."""

import pytest
import torch

from dual_codet5.rl import (
    discount_weights,
    discounted_returns,
    gather_token_logprobs,
    kl_penalty_rewards,
    leave_one_out_baseline,
    policy_gradient_loss,
    rloo_advantages,
    token_advantages,
    zero_spread_fraction,
)


def test_leave_one_out_baseline_by_hand():
    rewards = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]])
    # row 0: (2+3)/2, (1+3)/2, (1+2)/2; row 1: (0+6)/2, (0+6)/2, 0
    expected = torch.tensor([[2.5, 2.0, 1.5], [3.0, 3.0, 0.0]])
    torch.testing.assert_close(leave_one_out_baseline(rewards), expected)


def test_rloo_advantages_by_hand_and_zero_sum():
    rewards = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]])
    expected = torch.tensor([[-1.5, 0.0, 1.5], [-3.0, -3.0, 6.0]])
    adv = rloo_advantages(rewards)
    torch.testing.assert_close(adv, expected)
    # RLOO advantage = k/(k-1) * (R - mean R): rows sum to zero
    torch.testing.assert_close(adv.sum(dim=1), torch.zeros(2))


@pytest.mark.parametrize("bad", [torch.ones(4), torch.ones(3, 1)])
def test_leave_one_out_rejects_bad_shapes(bad):
    # a flat vector is ambiguous about k; k = 1 has no "others" to average
    with pytest.raises(ValueError):
        leave_one_out_baseline(bad)


def test_discount_weights_by_hand():
    mask = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0]])
    expected = torch.tensor([[0.25, 0.5, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    torch.testing.assert_close(discount_weights(mask, 0.5), expected)


def test_discounted_returns_by_hand():
    rewards = torch.tensor([[1.0, 0.0, 2.0]])
    # G2 = 2; G1 = 0 + 0.5 * 2 = 1; G0 = 1 + 0.5 * 1 = 1.5
    torch.testing.assert_close(discounted_returns(rewards, 0.5), torch.tensor([[1.5, 1.0, 2.0]]))


def test_token_advantages_terminal_only_discount():
    # one prompt, k = 2; scores 1 and 0; lengths 3 and 1; beta = 0, gamma = 0.5
    scores = torch.tensor([1.0, 0.0])
    mask = torch.tensor([[1, 1, 1], [1, 0, 0]])
    adv = token_advantages(scores, torch.zeros(2, 3), mask, k=2, gamma=0.5, beta=0.0)
    # sample 0: baseline = 0 -> gamma^(2-t) * 1 ; sample 1: return 0 minus baseline 1 on its only token
    expected = torch.tensor([[0.25, 0.5, 1.0], [-1.0, 0.0, 0.0]])
    torch.testing.assert_close(adv, expected)


def test_token_advantages_with_kl_by_hand():
    scores = torch.tensor([1.0, 0.0])
    mask = torch.tensor([[1, 1, 1], [1, 0, 0]])
    kl = torch.tensor([[0.2, 0.0, 0.4], [1.0, 0.0, 0.0]])
    adv = token_advantages(scores, kl, mask, k=2, gamma=1.0, beta=0.5)
    # token rewards: s0 = [-0.1, 0, -0.2 + 1] -> returns [0.7, 0.8, 0.8], total 0.7
    #                s1 = [-0.5]            -> returns [-0.5, 0, 0],     total -0.5
    # baselines (leave-one-out of totals): s0 -> -0.5, s1 -> 0.7
    expected = torch.tensor([[1.2, 1.3, 1.3], [-1.2, 0.0, 0.0]])
    torch.testing.assert_close(adv, expected)


def test_gamma_one_no_kl_is_sequence_rloo():
    # gamma = 1, beta = 0: every token of a sample carries that sample's RLOO advantage
    scores = torch.tensor([0.2, 0.8, 0.5, 0.1, 0.1, 0.9])
    mask = torch.tensor([[1, 1, 0], [1, 1, 1], [1, 0, 0], [1, 1, 1], [1, 1, 0], [1, 0, 0]])
    adv = token_advantages(scores, torch.zeros(6, 3), mask, k=3, gamma=1.0, beta=0.0)
    seq_adv = rloo_advantages(scores.view(2, 3)).reshape(6, 1)
    torch.testing.assert_close(adv, seq_adv * mask)


def test_token_advantages_requires_whole_groups():
    with pytest.raises(ValueError, match="groups"):
        token_advantages(torch.zeros(3), torch.zeros(3, 2), torch.ones(3, 2), k=2)


def test_kl_penalty_masks_padding():
    pol = torch.tensor([[-1.0, -2.0, -3.0]])
    ref = torch.tensor([[-1.5, -1.0, -9.0]])
    kl, pen = kl_penalty_rewards(pol, ref, torch.tensor([[1, 1, 0]]), beta=0.1)
    torch.testing.assert_close(kl, torch.tensor([[0.5, -1.0, 0.0]]))
    torch.testing.assert_close(pen, torch.tensor([[-0.05, 0.1, 0.0]]))


def test_gather_token_logprobs_and_loss_gradient():
    logits = torch.tensor([[[0.0, 0.0], [2.0, 0.0]]], requires_grad=True)
    tokens = torch.tensor([[1, 0]])
    lp = gather_token_logprobs(logits, tokens)
    expected = torch.log(torch.tensor([[0.5, torch.e**2 / (torch.e**2 + 1)]]))
    torch.testing.assert_close(lp, expected)
    # positive advantage on token 0 only: gradient raises that token's logit, the masked token gets none
    loss = policy_gradient_loss(lp, torch.tensor([[1.0, 5.0]]), torch.tensor([[1, 0]]))
    loss.backward()
    assert logits.grad[0, 0, 1] < 0 < logits.grad[0, 0, 0]
    torch.testing.assert_close(logits.grad[0, 1], torch.zeros(2))


def test_zero_spread_fraction():
    scores = torch.tensor([0.5, 0.5, 0.1, 0.9, 0.0, 0.0])
    assert zero_spread_fraction(scores, k=2) == pytest.approx(2 / 3)


def test_token_logprobs_follow_the_sampling_temperature():
    # samples drawn at temperature T come from softmax(logits / T): the log-probs REINFORCE differentiates (and the
    # KL to the SFT model) must be taken under that distribution, not the T = 1 one
    logits = torch.tensor([[[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]]])  # (1, 2, 3)
    tokens = torch.tensor([[0, 2]])
    at_half = gather_token_logprobs(logits, tokens, temperature=0.5)
    expected = torch.log_softmax(logits / 0.5, dim=-1)[0, [0, 1], [0, 2]].unsqueeze(0)
    torch.testing.assert_close(at_half, expected)
    assert not torch.allclose(at_half, gather_token_logprobs(logits, tokens))  # T = 1 differs
