"""Each RLHF formula in studyapp.lab.losses against numbers worked out by hand (shown in comments)."""

import math

import pytest
import torch

from studyapp.lab import losses as L


def close(a, b, tol=1e-5):
    return torch.allclose(torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32), atol=tol)


def test_bradley_terry_loss_by_hand():
    # pair 1: diff 1 -> -log sigmoid(1) = log(1 + e^-1) = 0.3132617
    # pair 2: diff 0 -> log 2 = 0.6931472 ; mean = 0.5032044
    loss = L.bradley_terry_loss(torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.0]))
    assert close(loss, 0.5032044)
    # Adding a constant to every reward changes neither the loss nor the probabilities (claim 9).
    loss_shifted = L.bradley_terry_loss(torch.tensor([12.0, 10.0]), torch.tensor([11.0, 10.0]))
    assert close(loss, loss_shifted)
    assert close(L.bt_probability(torch.tensor(1.0), torch.tensor(0.0)), 1 / (1 + math.exp(-1)))


def test_bradley_terry_loss_is_large_when_ranking_is_wrong():
    assert L.bradley_terry_loss(torch.tensor([0.0]), torch.tensor([5.0])) > 4.9  # log(1+e^5) = 5.0067


def test_last_real_index_right_and_left_padding():
    mask = torch.tensor([[1, 1, 0, 0], [0, 1, 1, 1], [1, 1, 1, 1], [0, 0, 1, 1]])
    assert L.last_real_index(mask).tolist() == [1, 3, 3, 3]


def test_response_mask_stops_after_first_stop_token():
    responses = torch.tensor([[5, 6, 2, 7, 2], [5, 5, 5, 5, 5], [2, 9, 9, 9, 9]])
    assert L.response_mask(responses, stop_id=2).tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]]
    assert L.truncate_response(responses, 2, 0).tolist() == [[5, 6, 2, 0, 0], [5, 5, 5, 5, 5], [2, 0, 0, 0, 0]]
    # several stop ids (<|end|> and end-of-text): whichever comes first ends the response
    assert L.response_mask(responses, [6, 2]).tolist() == [[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]]


def test_kl_estimators_by_hand():
    logp, ref = torch.tensor([-1.0, -2.0]), torch.tensor([-2.0, -1.0])
    # logr = ref - logp = [-1, 1]; k1 = -logr; k3 = e^logr - 1 - logr
    assert close(L.kl_estimate(logp, ref, "k1"), [1.0, -1.0])
    assert close(L.kl_estimate(logp, ref, "k3"), [math.exp(-1), math.e - 2])
    assert close(L.kl_estimate(logp, logp, "k3"), [0.0, 0.0])
    with pytest.raises(ValueError):
        L.kl_estimate(logp, ref, "k2")


def test_per_token_rewards_put_score_on_last_real_token():
    kl = torch.tensor([[0.1, 0.2, 0.3, 0.4]])
    rewards, non_score = L.per_token_rewards(torch.tensor([2.0]), kl, torch.tensor([[1, 1, 1, 0]]), beta=0.5)
    assert close(non_score, [[-0.05, -0.1, -0.15, 0.0]])
    assert close(rewards, [[-0.05, -0.1, 1.85, 0.0]])


def test_gae_by_hand():
    rewards = torch.tensor([[0.0, 0.0, 1.0], [0.0, 2.0, 0.0]])
    values = torch.tensor([[0.5, 0.6, 0.7], [0.5, 1.0, 9.0]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    adv, ret = L.gae(rewards, values, mask, gamma=1.0, lam=0.5)
    # row 0: d2 = 1 - .7 = .3 ; d1 = .7 - .6 = .1, A1 = .1 + .5*.3 = .25 ; d0 = .1, A0 = .1 + .5*.25 = .225
    # row 1: value 9 is padding (-> 0): A2 = 0 ; d1 = 2 - 1 = 1, A1 = 1 ; d0 = 1 - .5, A0 = .5 + .5 = 1
    assert close(adv, [[0.225, 0.25, 0.3], [1.0, 1.0, 0.0]])
    assert close(ret, [[0.725, 0.85, 1.0], [1.5, 2.0, 0.0]])
    # lam = 1: the return is the discounted sum of rewards, 0.9^2, 0.9, 1
    _, ret = L.gae(rewards[:1], values[:1], mask[:1], gamma=0.9, lam=1.0)
    assert close(ret, [[0.81, 0.9, 1.0]])


def test_whiten_by_hand():
    x = torch.tensor([1.0, 2.0, 3.0, 100.0])
    mask = torch.tensor([1, 1, 1, 0])
    # mean 2, unbiased variance (1 + 0 + 1) / 2 = 1
    assert close(L.masked_whiten(x, mask)[:3], [-1.0, 0.0, 1.0], tol=1e-4)
    assert close(L.masked_whiten(x, mask, shift_mean=False)[:3], [1.0, 2.0, 3.0], tol=1e-4)


def test_clipped_policy_loss_by_hand():
    new = torch.log(torch.tensor([1.5, 0.5, 1.1, 50.0]))
    old = torch.zeros(4)
    adv = torch.tensor([1.0, -1.0, 2.0, 100.0])
    mask = torch.tensor([1, 1, 1, 0])  # the 4th token is padding and must not count
    loss, st = L.policy_loss(new, old, adv, mask, cliprange=0.2)
    # r=1.5,A=1: max(-1.5, -1.2) = -1.2 (clipped) ; r=.5,A=-1: max(.5, .8) = .8 (clipped)
    # r=1.1,A=2: max(-2.2, -2.2) = -2.2 ; mean = -2.6/3
    assert close(loss, -2.6 / 3)
    assert close(st["clipfrac"], 2 / 3)
    assert close(st["ratio"], (1.5 + 0.5 + 1.1) / 3)
    # approxkl = 0.5 * mean(log(r)^2) = 0.5 * (0.164402 + 0.480453 + 0.009084) / 3
    assert close(st["approxkl"], 0.108990)


def test_clipping_removes_the_gradient_beyond_the_clip():
    new = torch.log(torch.tensor([1.5])).requires_grad_()
    loss, _ = L.policy_loss(new, torch.zeros(1), torch.tensor([1.0]), torch.tensor([1]), cliprange=0.2)
    loss.backward()
    assert new.grad.abs().item() == 0.0  # already 50% more likely with A>0: no further push


def test_clipped_value_loss_by_hand():
    vpred, old, ret = torch.tensor([1.0, 0.0]), torch.tensor([0.5, 0.0]), torch.tensor([2.0, 1.0])
    loss, st = L.value_loss(vpred, old, ret, torch.tensor([1, 1]), cliprange_value=0.2)
    # t0: (1-2)^2 = 1, clipped V = 0.7 -> 1.69, max 1.69 ; t1: 1 and 1 ; 0.5 * (2.69 / 2)
    assert close(loss, 0.6725)
    assert close(st["clipfrac"], 0.5)


def test_entropy_and_token_logprobs():
    assert close(L.entropy_from_logits(torch.zeros(1, 2)), [math.log(2)])
    logits = torch.tensor([[0.0, math.log(3.0)]])  # probabilities 1/4, 3/4
    assert close(L.token_logprobs(logits, torch.tensor([1])), [math.log(0.75)])
