"""The first held-out part of the tutor's labelled set, now on the calibration side.

Status: it was run once on the frozen rules at 09:23 UTC (commit e96ce16): covered P 0.935
(29/31) R 0.935, misconception P 0.977 (42/43) R 0.977 (42/43). A second held-out part
(tests/tutor/heldout2.py) was then written before its mistakes were looked at; after that its
five mistakes were looked at and the rules changed (tie-break by span, one word states one thing,
two claims), so this part is calibration from then on. What follows is its original header.

Provenance (so a reader can check it): this file was written on 2026-11-30 and committed at
09:05 UTC, BEFORE the claim matcher (studyapp/tutor/claims.py) or the claims of the rubric
existed, and committed on its own ("tutor: held-out labelled part, written before the claim
matcher") ahead of every grader change. Its sentences were written in fresh words, not as
paraphrases of the rubric. After that commit it was run through the grader for the reported
numbers only: no lexicon entry, claim, rule or threshold was added or changed because of what
the grader did on it, and no label was changed after seeing the grader's output. The
calibration part (tests/tutor/labelled.py, all three of its old splits) is what the rules were
built on.

Each example is labelled with the key points it states correctly (`covers`) and the points it
gets wrong (`wrong`). Kinds: right, partly (on topic but too vague to earn a point), wrong,
negation (a true statement turned false by not/never/no..., or a true statement that carries a
"not" itself), swap (roles or directions exchanged), quantifier (every/always/only/never made
false), explanation (several sentences, some right and some wrong).

    PYTHONPATH=$PWD python -m tests.tutor.calibrate     # prints the numbers of both parts
"""
from __future__ import annotations

from tests.tutor.labelled import Example, P


def _h(kind: str, text: str, covers: str = "", wrong: str = "") -> Example:
    return Example("heldout", kind, text, tuple(P[c] for c in covers.split()),
                   tuple(P[w] for w in wrong.split()))


HELDOUT = [
    # ---------------------------------------------------------------- right
    _h("right", "A pretrained model has learned one thing: to guess the next token of the text it was trained on.", "cont"),
    _h("right", "Straight out of pretraining, the model just extends whatever text you hand it.", "cont"),
    _h("right", "Pretraining never rewarded helpfulness, only producing text that resembles its training data.", "cont"),
    _h("right", "Ask a base model a question and it may reply with a list of further questions, because that is how quizzes look online.", "doc"),
    _h("right", "To the base model, your request looks just like the opening line of some web document.", "doc"),
    _h("right", "Instruction tuning uses the same next-word prediction loss as pretraining, only on example conversations.", "obj"),
    _h("right", "In SFT the loss is measured only on the tokens of the assistant's reply.", "obj"),
    _h("right", "The SFT data are pairs of an instruction and a good response, written by people or by a stronger model.", "obj"),
    _h("right", "SFT doesn't give the model new knowledge; it changes how the model uses the knowledge it already has.", "wts"),
    _h("right", "The top layers of the network move the most during fine-tuning and the lower layers stay nearly the same.", "wts"),
    _h("right", "Fine-tuning uses a far smaller dataset than pretraining.", "small"),
    _h("right", "The learning rate for SFT is roughly ten times lower than the one used in pretraining.", "small"),
    _h("right", "After SFT alone the model does whatever it is asked, including harmful things.", "obey"),
    _h("right", "An instruction-tuned model doesn't yet know when it should refuse a request.", "obey"),
    _h("right", "Annotators are shown several answers from the model to one prompt and order them by preference.", "rank"),
    _h("right", "A ranking of four replies becomes six pairs of a preferred and a rejected reply.", "rank"),
    _h("right", "The reward model learns from those human rankings to predict which reply people would prefer.", "rm"),
    _h("right", "Because humans cannot rate millions of outputs, a reward model is trained on their comparisons to stand in for them.", "rm"),
    _h("right", "During PPO the policy writes answers, the reward model scores them, and the policy is updated towards higher scores.", "ppo"),
    _h("right", "PPO's clipping keeps each update small, so the model changes gradually.", "ppo"),
    _h("right", "A KL penalty is subtracted from the reward to keep the policy near the frozen SFT model.", "kl"),
    _h("right", "The KL term penalises the model for drifting away from the SFT model.", "kl"),
    _h("right", "Without the KL penalty the policy would exploit the reward model with tricks like repeating a phrase, which is reward hacking.", "kl"),
    _h("right", "Refusals are not programmed rules; they were learned because raters preferred safe refusals.", "hhh"),
    _h("right", "Helpfulness, honesty and harmlessness can conflict: a complete answer might be harmful.", "hhh"),
    # ---------------------------------------------------------------- partly
    _h("partly", "Then the model gets some more training on better data."),
    _h("partly", "RLHF uses humans somehow to make the model better."),
    _h("partly", "The KL penalty is an important part of the process."),
    _h("partly", "The reward model is part of RLHF."),
    _h("partly", "PPO is a reinforcement learning algorithm."),
    _h("partly", "Pretraining uses huge amounts of text."),
    _h("partly", "There are three stages in RLHF."),
    _h("partly", "The layers of the model are affected differently."),
    _h("partly", "The assistant should be safe and useful."),
    _h("partly", "SFT is a kind of supervised learning."),
    # ---------------------------------------------------------------- wrong
    _h("wrong", "A model straight out of pretraining already behaves like a helpful chatbot.", wrong="cont"),
    _h("wrong", "Pretraining teaches the model to answer questions helpfully.", wrong="cont"),
    _h("wrong", "The reward model is trained on randomly generated scores.", wrong="rm"),
    _h("wrong", "The reward model is trained on the raw internet text used for pretraining.", wrong="rm"),
    _h("wrong", "The KL penalty drives the policy far away from the SFT model.", wrong="kl"),
    _h("wrong", "The KL penalty encourages the model to move as far from the SFT model as possible.", wrong="kl"),
    _h("wrong", "Fine-tuning is how the model picks up new facts it never saw in pretraining.", wrong="wts"),
    _h("wrong", "SFT requires more data than pretraining.", wrong="small"),
    _h("wrong", "SFT uses a much higher learning rate than pretraining.", wrong="small"),
    _h("wrong", "Refusals are programmed in by hand as a list of banned words.", wrong="hhh"),
    _h("wrong", "PPO updates the model in random directions.", wrong="ppo"),
    _h("wrong", "PPO takes huge steps so that the model changes as fast as possible.", wrong="ppo"),
    _h("wrong", "After SFT the model already refuses harmful requests on its own.", wrong="obey"),
    _h("wrong", "SFT switches to a completely different loss from the one used in pretraining.", wrong="obj"),
    # ---------------------------------------------------------------- negation
    _h("negation", "A base model does not just continue text.", wrong="cont"),
    _h("negation", "The KL penalty doesn't keep the policy near the SFT model.", wrong="kl"),
    _h("negation", "Fine-tuning never changes how a model uses its knowledge.", wrong="wts"),
    _h("negation", "The reward model isn't trained on human preferences.", wrong="rm"),
    _h("negation", "SFT doesn't use next-token prediction.", wrong="obj"),
    _h("negation", "People do not rank the model's answers.", wrong="rank"),
    _h("negation", "PPO doesn't move the model towards higher reward.", wrong="ppo"),
    _h("negation", "Refusals are not learned from preferences.", wrong="hhh"),
    _h("negation", "The SFT loss is not computed on the response.", wrong="obj"),
    _h("negation", "SFT does not use less data than pretraining.", wrong="small"),
    # ---------------------------------------------------------------- swap
    _h("swap", "The model ranks the responses that human raters write.", wrong="rank"),
    _h("swap", "The lower layers change most in fine-tuning, and the upper layers barely change.", wrong="wts"),
    _h("swap", "Pretraining has a lower learning rate than SFT.", wrong="small"),
    _h("swap", "Pretraining uses less data than fine-tuning.", wrong="small"),
    _h("swap", "The SFT loss is counted only on the instruction tokens, not on the answer.", wrong="obj"),
    _h("swap", "PPO is used to train the reward model.", wrong="rm"),
    _h("swap", "The KL penalty pulls the SFT model towards the policy.", wrong="kl"),
    _h("swap", "The language model scores the answers that the reward model writes.", wrong="rm"),
    _h("swap", "Preferences are collected by having the model pick the best human-written answer.", wrong="rank"),
    _h("swap", "During SFT the model learns to predict the instruction rather than the response.", wrong="obj"),
    # ---------------------------------------------------------------- quantifier
    _h("quantifier", "Humans score every single reply during reinforcement learning.", wrong="rank"),
    _h("quantifier", "Helpful, honest and harmless never conflict.", wrong="hhh"),
    _h("quantifier", "SFT changes all layers of the network equally.", wrong="wts"),
    _h("quantifier", "The base model always answers questions correctly.", wrong="cont"),
    # ---------------------------------------------------------------- explanation
    _h("explanation", "Pretraining only teaches the model to predict the next token, so it continues your text. "
       "SFT then trains it on instruction and answer pairs with the same loss.", "cont obj"),
    _h("explanation", "People rank several answers from the model. The reward model is then trained on random labels. "
       "PPO optimises the model against the reward model's scores.", "rank ppo", "rm"),
    _h("explanation", "The base model is already an assistant. Fine-tuning adds lots of new facts. "
       "The KL penalty makes the model drift from the SFT model.", wrong="cont wts kl"),
    _h("explanation", "The KL penalty stops the model wandering too far from the SFT version. "
       "Without it the model would game the reward model.", "kl"),
    _h("explanation", "SFT does not add facts to the model. Refusals are hard-coded keyword filters.", "wts", "hhh"),
    _h("explanation", "RLHF has three stages. First people do something with the answers, then there is a "
       "reward model, then PPO."),
]
