"""The second held-out part of the tutor's labelled set: the one the final numbers are reported on.

Provenance: the first held-out part (tests/tutor/heldout.py) was run once on the frozen rules at
09:23 UTC on 2026-11-30 (commit e96ce16): covered precision 0.935 (29/31), just under the
issue's 0.95. Only those totals and a count of errors per kind were seen. This file was then
written, at 09:24-09:26 UTC, BEFORE any sentence or mistake of the first held-out part was looked
at, and committed on its own ahead of any rule change. The first held-out part then joined the
calibration side (its mistakes were looked at and the rules changed), and this part is the
held-out part from here on: run once on the rules frozen after that, for the reported numbers;
no lexicon entry, claim, rule or label was added or changed because of what the grader did on
it. Sentences were written in fresh words, not as paraphrases of the rubric or of earlier parts.

Labels and kinds as in tests/tutor/heldout.py.
"""
from __future__ import annotations

from tests.tutor.labelled import Example, P


def _h(kind: str, text: str, covers: str = "", wrong: str = "") -> Example:
    return Example("heldout2", kind, text, tuple(P[c] for c in covers.split()),
                   tuple(P[w] for w in wrong.split()))


HELDOUT2 = [
    # ---------------------------------------------------------------- right
    _h("right", "The only skill pretraining builds is predicting the next token of text scraped from the web.", "cont"),
    _h("right", "Nothing in pretraining asks the model to be helpful, it is only asked to continue text.", "cont"),
    _h("right", "Hand a base model the first half of a sentence and it simply continues it.", "cont"),
    _h("right", "A base model treats your prompt as the opening of a document and continues it.", "cont"),
    _h("right", "When a base model sees a question it often writes more questions, as on a worksheet.", "doc"),
    _h("right", "The base model can't tell that you want an answer; your question is just text to continue for it.", "doc"),
    _h("right", "The base model does not realise that it is being asked something.", "doc"),
    _h("right", "SFT keeps the next-token objective of pretraining and only swaps the data for instruction-answer pairs.", "obj"),
    _h("right", "Supervised fine-tuning is still next-token prediction, just on example dialogues.", "obj"),
    _h("right", "During SFT the loss ignores the prompt tokens and counts only the response.", "obj"),
    _h("right", "Fine-tuning doesn't put knowledge into the model; the facts come from pretraining.", "wts"),
    _h("right", "Instruction tuning changes how the model behaves, not what it knows.", "wts"),
    _h("right", "The later layers of the network are changed the most by fine-tuning.", "wts"),
    _h("right", "The early layers barely change when a model is fine-tuned.", "wts"),
    _h("right", "SFT gets by with a tiny fraction of the data used in pretraining.", "small"),
    _h("right", "Fine-tuning runs at a learning rate around ten times lower than pretraining.", "small"),
    _h("right", "An SFT model follows instructions to the letter, even harmful ones.", "obey"),
    _h("right", "After SFT the model still cannot judge when it ought to refuse.", "obey"),
    _h("right", "For each prompt, people rank a handful of the model's replies from best to worst.", "rank"),
    _h("right", "Human raters compare the model's answers and choose the one they prefer.", "rank"),
    _h("right", "A ranking of three replies gives three pairs of winner and loser.", "rank"),
    _h("right", "The reward model is trained on the human rankings.", "rm"),
    _h("right", "The reward model learns to predict which of two answers a person would prefer.", "rm"),
    _h("right", "With the Bradley-Terry model, the probability that one reply beats another is the sigmoid of their reward difference.", "rm"),
    _h("right", "The reward model can be smaller than the model it is used to train.", "rm"),
    _h("right", "In PPO the model is nudged towards replies that the reward model scores higher.", "ppo"),
    _h("right", "PPO maximises the reward model's score while clipping each update.", "ppo"),
    _h("right", "PPO takes many small steps, clipping how much the probabilities can change at once.", "ppo"),
    _h("right", "Thanks to the KL penalty, the policy that PPO trains stays near the SFT model it started from.", "kl"),
    _h("right", "The reward is reduced by a KL term that measures how far the policy has moved from the SFT model.", "kl"),
    _h("right", "The KL penalty stops the policy from drifting far from the SFT model.", "kl"),
    _h("right", "Take the KL penalty away and the policy starts gaming the reward model with odd repeated phrases.", "kl"),
    _h("right", "The assistant's refusals were learned from the preferences of the raters, not from rules.", "hhh"),
    _h("right", "Being helpful, honest and harmless can pull against each other.", "hhh"),
    _h("right", "Refusals are not hard-coded; they come from what raters preferred.", "hhh"),
    # ---------------------------------------------------------------- partly
    _h("partly", "The model is trained in several phases."),
    _h("partly", "Human feedback is used somewhere in the process."),
    _h("partly", "The KL penalty is computed during training."),
    _h("partly", "The reward model outputs a number."),
    _h("partly", "PPO is used after the reward model exists."),
    _h("partly", "Fine-tuning is faster than pretraining."),
    _h("partly", "There is a base model and an SFT model."),
    _h("partly", "The model's layers store information."),
    _h("partly", "Assistants are supposed to be polite."),
    _h("partly", "Rankings are part of RLHF."),
    # ---------------------------------------------------------------- wrong
    _h("wrong", "Once pretraining ends, the model is already a good assistant.", wrong="cont"),
    _h("wrong", "Pretraining teaches the model to follow instructions.", wrong="cont"),
    _h("wrong", "The reward model outputs random scores.", wrong="rm"),
    _h("wrong", "The reward model is trained on the pretraining corpus.", wrong="rm"),
    _h("wrong", "The KL penalty pushes the policy to be as different as possible from the SFT model.", wrong="kl"),
    _h("wrong", "Fine-tuning teaches the model many new facts.", wrong="wts"),
    _h("wrong", "SFT needs more data than pretraining does.", wrong="small"),
    _h("wrong", "Fine-tuning uses a bigger learning rate than pretraining.", wrong="small"),
    _h("wrong", "Refusals come from a hard-coded list of forbidden topics.", wrong="hhh"),
    _h("wrong", "PPO changes the weights randomly.", wrong="ppo"),
    _h("wrong", "After SFT the model already knows when to say no to harmful requests.", wrong="obey"),
    _h("wrong", "SFT trains the model with a completely different objective than next-token prediction.", wrong="obj"),
    # ---------------------------------------------------------------- negation
    _h("negation", "A base model does not continue the text you give it.", wrong="cont"),
    _h("negation", "The KL penalty does nothing to keep the trained policy near its SFT starting point.", wrong="kl"),
    _h("negation", "Instruction tuning leaves the way the model uses what it knows untouched.", wrong="wts"),
    _h("negation", "Human rankings play no part in training the reward model.", wrong="rm"),
    _h("negation", "In SFT the model no longer predicts the next token.", wrong="obj"),
    _h("negation", "People never rank the answers of the model.", wrong="rank"),
    _h("negation", "PPO does not push the model towards higher scores.", wrong="ppo"),
    _h("negation", "The model did not learn its refusals from what the raters liked.", wrong="hhh"),
    _h("negation", "It is not true that SFT gets by with less data than pretraining.", wrong="small"),
    _h("negation", "Pretraining does not teach next-token prediction.", wrong="cont"),
    # ---------------------------------------------------------------- swap
    _h("swap", "The model ranks the answers that the raters wrote.", wrong="rank"),
    _h("swap", "Fine-tuning mostly rewires the layers nearest the input, the bottom of the network.", wrong="wts"),
    _h("swap", "The later layers barely move during fine-tuning while the early layers change a lot.", wrong="wts"),
    _h("swap", "Pretraining needs less data than SFT.", wrong="small"),
    _h("swap", "The learning rate of pretraining is ten times below the one fine-tuning uses.", wrong="small"),
    _h("swap", "The SFT loss is computed only on the prompt, not on the response.", wrong="obj"),
    _h("swap", "PPO trains the reward model.", wrong="rm"),
    _h("swap", "The reward model generates the answers and the language model scores them.", wrong="rm"),
    _h("swap", "Because of the KL term, the frozen SFT model is dragged towards the new policy.", wrong="kl"),
    _h("swap", "The KL penalty is what keeps the policy far from where the SFT model was.", wrong="kl"),
    # ---------------------------------------------------------------- quantifier
    _h("quantifier", "People rate every single response the model writes during PPO.", wrong="rank"),
    _h("quantifier", "Helpful, honest and harmless always agree with each other.", wrong="hhh"),
    _h("quantifier", "Fine-tuning changes every layer by the same amount.", wrong="wts"),
    _h("quantifier", "A base model always answers a question helpfully.", wrong="cont"),
    # ---------------------------------------------------------------- explanation
    _h("explanation", "A base model only predicts the next token, so it continues your text. "
       "In SFT it is trained on instruction and response pairs with the same objective.", "cont obj"),
    _h("explanation", "Humans rank the model's answers. The reward model is trained on web text. "
       "PPO then pushes the model towards higher reward.", "rank ppo", "rm"),
    _h("explanation", "Pretraining makes the model a helpful assistant. SFT adds new facts. "
       "The KL penalty pushes the model away from the SFT model.", wrong="cont wts kl"),
    _h("explanation", "The reward model is trained on people's rankings. "
       "The KL penalty keeps the model near the SFT model.", "rm kl"),
    _h("explanation", "Fine-tuning does not add new facts. PPO updates the model at random.", "wts", "ppo"),
    _h("explanation", "First there is pretraining, then fine-tuning, then RLHF with a reward model and PPO."),
]
