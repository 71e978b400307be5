"""A labelled set of single learner sentences for the teach-it-back rubric: the tutor's truth test.

Each sentence is labelled with the key points it states correctly (`covers`) and the key point
it gets wrong (`wrong`, empty when it gets none wrong). Kinds:
- right:    a correct statement of one point, in a learner's words;
- partly:   on topic but too vague to earn the point (crediting it is a false "covered");
- wrong:    a plain false claim about a point;
- negation: a true statement turned false by a "not", "never", "nothing" (or the reverse);
- swap:     the roles swapped (early/later layers, people/model, SFT/pretraining, PPO/reward model).

For the claim grader (studyapp/tutor/grader.py, 2026-11-30 09:00 on) every sentence here is on
the calibration side: the rules were built and checked on them. `split` records their history
under the former embedding grader: "train" (its thresholds were chosen there), "dev" (its first
held-out part, later looked at), "test" (written after that grader was frozen), and "calib2"
(written for the claim grader, to probe passive voice, pronouns and "we"). The held-out parts
are tests/tutor/heldout.py (run once, then spent) and tests/tutor/heldout2.py (the reported one).

`python -m tests.tutor.calibrate --heldout` prints precision and recall of "covered" and of
"misconception"; tests/tutor/test_truth.py holds the held-out part to the issue's targets.
"""
from __future__ import annotations

from dataclasses import dataclass

P = {
    "cont": "pretraining-only-teaches-continuation",
    "doc": "an-instruction-looks-like-the-start-of-a-document",
    "obj": "sft-trains-on-instruction-response-pairs-with-the-same-objective",
    "wts": "what-fine-tuning-changes-in-the-weights-and-what-it-does-not",
    "small": "sft-is-small-and-gentle",
    "obey": "sft-gives-obedience-not-discernment",
    "rank": "rlhf-stage-1-collecting-preferences",
    "rm": "rlhf-stage-2-the-reward-model",
    "ppo": "rlhf-stage-3-ppo",
    "kl": "the-kl-penalty",
    "hhh": "helpful-honest-harmless-and-learned-refusals",
}


@dataclass(frozen=True)
class Example:
    split: str
    kind: str
    text: str
    covers: tuple[str, ...] = ()
    wrong: tuple[str, ...] = ()     # the key points it gets wrong (empty when none)


def _ex(split, kind, text, covers="", wrong=""):
    return Example(split, kind, text, tuple(P[c] for c in covers.split()),
                   tuple(P[w] for w in wrong.split()))


EXAMPLES = [
    # ---------------------------------------------------------------- train: right
    _ex("train", "right", "During pretraining the model only learns to guess the next word of internet text.", "cont"),
    _ex("train", "right", "The base model just keeps writing whatever you typed as if it were the start of a web page.", "cont"),
    _ex("train", "right", "If you ask a base model a question it tends to write more questions, like a quiz sheet.", "doc"),
    _ex("train", "right", "It cannot tell that your words are a request to it and not text to carry on.", "doc"),
    _ex("train", "right", "SFT still predicts the next token, but on examples of instructions with good answers.", "obj"),
    _ex("train", "right", "During SFT only the answer tokens count in the loss.", "obj"),
    _ex("train", "right", "Fine-tuning does not put new facts into the model; it changes how it uses what it knows.", "wts"),
    _ex("train", "right", "Most of the change from fine-tuning is in the later layers; the early layers hardly move.", "wts"),
    _ex("train", "right", "SFT needs far less data than pretraining and a learning rate about ten times smaller.", "small"),
    _ex("train", "right", "After SFT the model obeys any instruction literally, even a harmful one.", "obey"),
    _ex("train", "right", "People look at a few answers to the same prompt and rank them from best to worst.", "rank"),
    _ex("train", "right", "A reward model is trained on those rankings to predict which answer people would prefer.", "rm"),
    _ex("train", "right", "PPO lets the model generate answers, scores them with the reward model and nudges it towards higher scores.", "ppo"),
    _ex("train", "right", "The KL penalty keeps the model close to the frozen SFT model.", "kl"),
    _ex("train", "right", "Without the KL penalty the model learns tricks that fool the reward model, which is reward hacking.", "kl"),
    _ex("train", "right", "The model's refusals were learned because raters preferred polite refusals to dangerous answers.", "hhh"),
    # ---------------------------------------------------------------- train: partly
    _ex("train", "partly", "Then the model is trained some more to make it better."),
    _ex("train", "partly", "Humans give some feedback and the model gets nicer."),
    _ex("train", "partly", "There is a penalty involved in the training."),
    _ex("train", "partly", "The model is trained on a lot of data."),
    _ex("train", "partly", "Fine-tuning makes the model more useful."),
    _ex("train", "partly", "Reinforcement learning is used at the end."),
    _ex("train", "partly", "The model learns from examples."),
    _ex("train", "partly", "Layers in the network have weights."),
    # ---------------------------------------------------------------- train: wrong
    _ex("train", "wrong", "A freshly pretrained model is already a perfect assistant.", wrong="cont"),
    _ex("train", "wrong", "The reward model is trained on random numbers.", wrong="rm"),
    _ex("train", "wrong", "The KL penalty pushes the model away from the SFT model.", wrong="kl"),
    _ex("train", "wrong", "Fine-tuning is where the model learns lots of new facts about the world.", wrong="wts"),
    _ex("train", "wrong", "PPO changes the weights at random until something works.", wrong="ppo"),
    _ex("train", "wrong", "SFT uses a brand new training objective instead of next-token prediction.", wrong="obj"),
    _ex("train", "wrong", "Human raters grade every single answer during PPO.", wrong="rank"),
    _ex("train", "wrong", "Refusals are hard-coded rules that block certain keywords.", wrong="hhh"),
    _ex("train", "wrong", "Fine-tuning uses much more data than pretraining.", wrong="small"),
    _ex("train", "wrong", "The KL penalty caps how big each single update step is.", wrong="kl"),
    # ---------------------------------------------------------------- train: negation
    _ex("train", "negation", "A base model never continues the document you give it.", wrong="cont"),
    _ex("train", "negation", "Fine-tuning does not change how the model uses its knowledge.", wrong="wts"),
    _ex("train", "negation", "The KL penalty does not keep the model close to the SFT model.", wrong="kl"),
    _ex("train", "negation", "SFT does not keep the next-token objective.", wrong="obj"),
    _ex("train", "negation", "The reward model does not learn from people's rankings.", wrong="rm"),
    _ex("train", "negation", "Instruction tuning changes nothing in the model.", wrong="wts"),
    _ex("train", "negation", "The base model does not know the answers to questions.", wrong="doc"),
    # ---------------------------------------------------------------- train: swap
    _ex("train", "swap", "The early layers change the most during fine-tuning, while the later layers barely move.", wrong="wts"),
    _ex("train", "swap", "The model ranks the answers that people write.", wrong="rank"),
    _ex("train", "swap", "Pretraining uses a learning rate ten times lower than fine-tuning.", wrong="small"),
    _ex("train", "swap", "The loss in SFT is counted only on the instruction, not on the answer.", wrong="obj"),
    _ex("train", "swap", "PPO trains the reward model, which then writes the answers.", wrong="rm"),

    # ================================================================ dev (was "test" until 2026-11-30 04:50)
    _ex("dev", "right", "All pretraining does is teach the network to predict which token comes next in web pages.", "cont"),
    _ex("dev", "right", "Give a base model a sentence and it carries on with more text, as if completing an article.", "cont"),
    _ex("dev", "right", "Because questions on the internet usually sit in lists, the base model answers a question with further questions.", "doc"),
    _ex("dev", "right", "The pretrained model does not realise it is being asked something; to it your prompt is just the beginning of a document.", "doc"),
    _ex("dev", "right", "Supervised fine-tuning trains on curated instruction and response pairs with the very same next-token loss.", "obj"),
    _ex("dev", "right", "The training loss in SFT is only computed on the response, not on the prompt.", "obj"),
    _ex("dev", "right", "SFT does not teach the model any new facts about the world.", "wts"),
    _ex("dev", "right", "The weights that change most in fine-tuning are in the top layers of the network.", "wts"),
    _ex("dev", "right", "Compared with pretraining, fine-tuning uses a tiny amount of data and a much lower learning rate.", "small"),
    _ex("dev", "right", "An instruction-tuned model will follow even dangerous instructions because it only learned to obey.", "obey"),
    _ex("dev", "right", "Raters are shown several replies to one prompt and put them in order of preference.", "rank"),
    _ex("dev", "right", "Each ranking is split into pairs of a winning answer and a losing answer.", "rank"),
    _ex("dev", "right", "The reward model learns from human comparisons to give a higher score to answers people like.", "rm"),
    _ex("dev", "right", "A reward model is needed because humans could never judge millions of answers themselves.", "rm"),
    _ex("dev", "right", "With PPO the language model is updated step by step so that its answers earn higher reward scores.", "ppo"),
    _ex("dev", "right", "PPO clips every update so the probabilities only change by a small amount each time.", "ppo"),
    _ex("dev", "right", "The reward is reduced by beta times the KL divergence from the frozen SFT model, so the policy cannot wander off.", "kl"),
    _ex("dev", "right", "If you remove the KL penalty, the model starts repeating phrases that the reward model overrates.", "kl"),
    _ex("dev", "right", "Being helpful, honest and harmless sometimes conflict, so the assistant has to balance them.", "hhh"),
    _ex("dev", "right", "Nobody wrote refusal rules; the model refuses because raters preferred refusals for harmful requests.", "hhh"),
    # ---------------------------------------------------------------- test: partly
    _ex("dev", "partly", "After that there is another stage of training with people involved."),
    _ex("dev", "partly", "The model is improved using feedback."),
    _ex("dev", "partly", "Some kind of scoring happens during training."),
    _ex("dev", "partly", "The AI gets better at chatting over time."),
    _ex("dev", "partly", "Fine-tuning adjusts the weights of the model."),
    _ex("dev", "partly", "There are several steps between the raw model and the chatbot."),
    _ex("dev", "partly", "Companies use a lot of compute to train these models."),
    _ex("dev", "partly", "The model then becomes more like ChatGPT."),
    # ---------------------------------------------------------------- test: wrong
    _ex("dev", "wrong", "Right after pretraining the model is a helpful assistant that answers every question well.", wrong="cont"),
    _ex("dev", "wrong", "The reward model hands out scores at random, without learning anything from people.", wrong="rm"),
    _ex("dev", "wrong", "The KL term encourages the policy to move as far as possible from the SFT model.", wrong="kl"),
    _ex("dev", "wrong", "Supervised fine-tuning is how the model learns new facts it never saw in pretraining.", wrong="wts"),
    _ex("dev", "wrong", "PPO updates the model in random directions.", wrong="ppo"),
    _ex("dev", "wrong", "SFT uses a completely different loss function from pretraining.", wrong="obj"),
    _ex("dev", "wrong", "While PPO runs, a human checks and scores each response it writes.", wrong="rank"),
    _ex("dev", "wrong", "The assistant refuses because programmers wrote a list of banned words into it.", wrong="hhh"),
    _ex("dev", "wrong", "Fine-tuning needs even more text than pretraining did.", wrong="small"),
    _ex("dev", "wrong", "After SFT the model already knows when a request is harmful and refuses it.", wrong="obey"),
    _ex("dev", "wrong", "The KL penalty is what limits the size of one single PPO step.", wrong="kl"),
    # ---------------------------------------------------------------- test: negation
    _ex("dev", "negation", "A pretrained model does not simply continue the text it is given.", wrong="cont"),
    _ex("dev", "negation", "The KL penalty does not keep the policy near the SFT model.", wrong="kl"),
    _ex("dev", "negation", "The reward model is not trained on human preferences.", wrong="rm"),
    _ex("dev", "negation", "SFT does not use next-token prediction.", wrong="obj"),
    _ex("dev", "negation", "The base model has no knowledge of the answers.", wrong="doc"),
    _ex("dev", "negation", "Fine-tuning leaves every weight unchanged.", wrong="wts"),
    _ex("dev", "negation", "PPO does not move the model towards answers with higher reward.", wrong="ppo"),
    # ---------------------------------------------------------------- test: swap
    _ex("dev", "swap", "In fine-tuning the first layers change a lot and the last layers stay almost the same.", wrong="wts"),
    _ex("dev", "swap", "The language model judges and ranks the answers written by humans.", wrong="rank"),
    _ex("dev", "swap", "Fine-tuning uses a learning rate ten times higher than pretraining.", wrong="small"),
    _ex("dev", "swap", "The loss is computed on the prompt tokens, and the answer tokens are ignored.", wrong="obj"),
    _ex("dev", "swap", "The language model gives scores to the reward model's answers.", wrong="rm"),

    # ================================================================ test (held out, written frozen)
    _ex("test", "right", "Pretraining is nothing more than learning to guess the following word across a giant pile of documents.", "cont"),
    _ex("test", "right", "A base model treats whatever you type as the opening of some text and just keeps it going.", "cont"),
    _ex("test", "right", "Type a question into a base model and you may get a list of similar questions back, the way an exam paper looks.", "doc"),
    _ex("test", "right", "For the base model there is no difference between a request and the first line of an article.", "doc"),
    _ex("test", "right", "In SFT the model is shown example prompts with ideal replies and still learns by predicting the next token.", "obj"),
    _ex("test", "right", "Only the reply part of each example contributes to the SFT loss.", "obj"),
    _ex("test", "right", "Instruction tuning teaches behaviour rather than knowledge; the facts were already there from pretraining.", "wts"),
    _ex("test", "right", "SFT is done with a small dataset and a gentle learning rate compared with pretraining.", "small"),
    _ex("test", "right", "A model that has only been instruction-tuned will happily carry out a harmful request.", "obey"),
    _ex("test", "right", "Human labellers order a handful of the model's replies to the same question from best to worst.", "rank"),
    _ex("test", "right", "The reward model is a network trained to predict which of two replies a human would choose.", "rm"),
    _ex("test", "right", "In the PPO stage the reward model's scores are used to push the language model towards better-rated replies.", "ppo"),
    _ex("test", "right", "The KL penalty stops the tuned model from straying too far from the frozen SFT model.", "kl"),
    _ex("test", "right", "The model learned to say no to dangerous requests because raters ranked refusals higher, not because of a rule.", "hhh"),
    # ---------------------------------------------------------------- test: partly
    _ex("test", "partly", "Afterwards the model is polished with some extra training."),
    _ex("test", "partly", "People are involved in making the model better."),
    _ex("test", "partly", "A number is computed for each answer."),
    _ex("test", "partly", "Training changes the numbers inside the network."),
    _ex("test", "partly", "The model reads a lot of text first."),
    _ex("test", "partly", "Safety is also taken into account."),
    # ---------------------------------------------------------------- test: wrong
    _ex("test", "wrong", "A base model is already good at following instructions straight out of pretraining.", wrong="cont"),
    _ex("test", "wrong", "The reward model's scores are just random and do not come from any human judgement.", wrong="rm"),
    _ex("test", "wrong", "The KL penalty is there to make the new model as different from the SFT model as it can be.", wrong="kl"),
    _ex("test", "wrong", "Instruction tuning fills the model with fresh facts about the world.", wrong="wts"),
    _ex("test", "wrong", "SFT is trained with more data than the whole of pretraining.", wrong="small"),
    _ex("test", "wrong", "Every answer the model writes during PPO is graded by a person in real time.", wrong="rank"),
    _ex("test", "wrong", "Refusals are produced by a hard-coded filter of forbidden words.", wrong="hhh"),
    _ex("test", "wrong", "SFT throws away next-token prediction and trains the model with a new kind of objective.", wrong="obj"),
    # ---------------------------------------------------------------- test: negation
    _ex("test", "negation", "The base model never just continues your text.", wrong="cont"),
    _ex("test", "negation", "The KL penalty does not keep the policy close to the SFT model.", wrong="kl"),
    _ex("test", "negation", "The reward model is not trained on the rankings people gave.", wrong="rm"),
    _ex("test", "negation", "SFT does not predict the next token at all.", wrong="obj"),
    _ex("test", "negation", "PPO does not use the reward model's scores.", wrong="ppo"),
    _ex("test", "negation", "The base model does not know the facts it would need to answer.", wrong="doc"),
    # ---------------------------------------------------------------- test: swap
    _ex("test", "swap", "The bottom layers change the most during fine-tuning and the top layers hardly change.", wrong="wts"),
    _ex("test", "swap", "The model ranks the replies written by the human labellers.", wrong="rank"),
    _ex("test", "swap", "Pretraining uses a smaller learning rate than fine-tuning.", wrong="small"),
    _ex("test", "swap", "The SFT loss is computed on the user's prompt rather than on the reply.", wrong="obj"),
    _ex("test", "swap", "PPO is what trains the reward model, and the reward model then generates the replies.", wrong="rm"),
    # ================================================================ calib2: written 2026-11-30 09:20 to probe
    # the claim matcher's reach on the calibration side (passive voice, pronouns, "we", hedges)
    _ex("calib2", "right", "What a base model learns in pretraining is simply to predict the next word.", "cont"),
    _ex("calib2", "right", "You type the start of a story and the base model just keeps writing it.", "cont"),
    _ex("calib2", "right", "A question is treated by the base model as the beginning of a document to continue.", "doc"),
    _ex("calib2", "right", "The base model does not understand that it is being asked to do something.", "doc"),
    _ex("calib2", "right", "We fine-tune on pairs of prompts and ideal answers, still with next-token prediction.", "obj"),
    _ex("calib2", "right", "Only the answer part is counted in the loss during fine-tuning.", "obj"),
    _ex("calib2", "right", "No new knowledge is added by fine-tuning; it mainly changes behaviour.", "wts"),
    _ex("calib2", "right", "In fine-tuning the last layers change much more than the first ones.", "wts"),
    _ex("calib2", "right", "Much less data is needed for SFT than for pretraining.", "small"),
    _ex("calib2", "right", "A smaller learning rate is used for SFT than for pretraining.", "small"),
    _ex("calib2", "right", "An SFT model will carry out dangerous requests, because it was only taught to follow instructions.", "obey"),
    _ex("calib2", "right", "Several answers to one prompt are ranked by humans from best to worst.", "rank"),
    _ex("calib2", "right", "We train a reward model on the human preference data so that it predicts what people prefer.", "rm"),
    _ex("calib2", "right", "The policy is then optimised with PPO to maximise the reward model's score.", "ppo"),
    _ex("calib2", "right", "The model is kept close to the SFT model by the KL penalty.", "kl"),
    _ex("calib2", "right", "Refusing harmful requests is something the model learned from human preferences.", "hhh"),
    _ex("calib2", "partly", "The model goes through several training phases."),
    _ex("calib2", "partly", "Humans are involved in RLHF."),
    _ex("calib2", "partly", "The KL penalty has something to do with the SFT model."),
    _ex("calib2", "partly", "Layers matter in fine-tuning."),
    _ex("calib2", "partly", "The reward model and the policy are both neural networks."),
    _ex("calib2", "wrong", "The base model is already able to follow instructions like an assistant.", wrong="cont"),
    _ex("calib2", "wrong", "The reward model is trained to give random scores.", wrong="rm"),
    _ex("calib2", "wrong", "The KL penalty rewards the model for moving away from the SFT model.", wrong="kl"),
    _ex("calib2", "wrong", "New facts are added to the model during fine-tuning.", wrong="wts"),
    _ex("calib2", "wrong", "SFT is trained on far more data than pretraining.", wrong="small"),
    _ex("calib2", "wrong", "PPO moves the model towards answers with a lower reward.", wrong="ppo"),
    _ex("calib2", "wrong", "Refusals are hard-coded by the developers.", wrong="hhh"),
    _ex("calib2", "negation", "Pretraining does not teach the model to predict the next word.", wrong="cont"),
    _ex("calib2", "negation", "The KL penalty does not pull the model back toward the SFT model.", wrong="kl"),
    _ex("calib2", "negation", "Humans never rank the model's answers.", wrong="rank"),
    _ex("calib2", "negation", "The reward model is never trained on rankings from people.", wrong="rm"),
    _ex("calib2", "negation", "After SFT the model won't follow harmful instructions.", wrong="obey"),
    _ex("calib2", "swap", "The first layers change the most in fine-tuning.", wrong="wts"),
    _ex("calib2", "swap", "The answers written by people are ranked by the model.", wrong="rank"),
    _ex("calib2", "swap", "The reward model is trained by PPO.", wrong="rm"),
    _ex("calib2", "swap", "The SFT model is pushed towards the policy by the KL penalty.", wrong="kl"),
]


def split(name: str) -> list[Example]:
    return [e for e in EXAMPLES if e.split == name]


# The false explanation a tester wrote (issue 15): every point it gets wrong must earn nothing.
FALSE_EXPLANATION = (
    "A freshly pretrained model is already a perfect assistant. It never continues the document "
    "you give it. Then RLHF has three stages. The reward model is trained on random numbers. "
    "PPO changes the model at random. The KL penalty pushes the model away from the SFT model.")
FALSE_POINTS = ("cont", "rm", "ppo", "kl")
