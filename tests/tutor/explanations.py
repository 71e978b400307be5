"""Example learner explanations for the course's teach-it-back prompt: the calibration set.

Written for studyapp, in a learner's words (never copied from the rubric's reference sentences),
in three classes:
- GOOD: covers most of the core points, the way a learner who understood the course would;
- PARTIAL: right about some of it, silent or vague about the rest;
- OFF_TOPIC: about something else, including other machine-learning topics, which share words
  ("model", "training", "data") with the rubric and are the hard case for an embedding grader.

The grader's thresholds (studyapp/tutor/grader.py) were chosen on these; tests/tutor/test_grader.py
checks that they still rank good > partial > off-topic and that off-topic covers almost nothing.
`python -m tests.tutor.calibrate` prints the similarity of every key point for every example.
"""

GOOD = {
    "good-structured": """
A freshly pretrained model is only a text predictor. During pretraining it read an enormous amount
of internet text and was trained to guess the next token, nothing else. Nobody ever rewarded it for
being useful, so when you type something it just keeps going as if your words were the beginning
of some web page. If you ask it a question, it often produces more questions, because on the web
questions usually come in lists, like in a quiz or a worksheet. It knows a lot of facts, but it
does not understand that you are asking it something.

The first fix is supervised fine-tuning. We keep exactly the same next-token prediction objective,
but we train on a curated set of instructions paired with good answers, and the loss only counts
the answer tokens. These examples are written by people or produced by a bigger model. Fine-tuning
does not put new facts into the model; it changes how it uses what it already knows. Most of the
change happens in the later layers, while the early layers barely move. It uses far less data than
pretraining and a learning rate about ten times smaller. After this the model is obedient, but it
will follow any request literally, even a harmful one.

Then comes RLHF in three stages. First, the model writes a few answers to the same prompt and human
raters rank them from best to worst; each ranking becomes pairs of winner and loser. Second, we
train a reward model on those pairs with the Bradley-Terry formula, so it learns to give a higher
score to the answer people would prefer; this way we do not need humans to judge millions of
outputs. Third, PPO: the model generates answers, the reward model scores them, and PPO updates the
model a little at a time towards higher scores, with clipping so no single step goes too far.

The KL penalty subtracts from the reward an amount proportional to how far the new model's
probabilities drift from the frozen SFT model. It keeps the model close to the SFT model, so it
does not forget how to write well and does not exploit the reward model by repeating a phrase the
reward model happens to like, which is called reward hacking.
""",
    "good-conversational": """
Imagine someone who has read the whole internet but was only ever practising guessing the next word.
That is a base model. It was never trained to help anyone, so when you give it a request it treats
it as the start of a document and carries on writing. A question often gets followed by more
questions because that is what happens on quiz pages online. It is not that it lacks knowledge, it
just cannot see that you are talking to it.

Instruction tuning, also called SFT, shows the model lots of examples of a request followed by a
good response. The training objective is still predicting the next token, but now only on the
response part of each example. It does not learn new facts this way. What changes is mostly in the
top layers of the network, which learn how to use the knowledge the lower layers already hold.
The catch is that the tuned model is too obedient: it will do whatever it is asked.

RLHF fixes that. People look at several answers to one prompt and put them in order of preference.
Those rankings train a reward model, which learns to predict which answer people would pick, so it
can score answers automatically. Then reinforcement learning with PPO makes the model generate
answers, gets them scored by the reward model, and pushes the model towards the high-scoring ones
in small careful steps. To stop the model from drifting too far and gaming the reward model, there
is a KL penalty that punishes the model for moving away from the SFT version. Without it the model
can learn silly tricks that the reward model overrates. In the end the model balances being
helpful, honest and harmless, and its refusals are learned from what the raters preferred.
""",
    "good-compact": """
Pretraining only teaches next-token prediction on web text, so a base model continues your prompt
like a document instead of answering it, for example by writing more quiz questions. It cannot tell
an instruction apart from text to complete. Supervised fine-tuning uses the same objective on pairs
of instructions and ideal responses, with the loss on the response only. It changes behaviour, not
knowledge: no new facts are learned, and the later layers change the most. RLHF has three stages.
Humans rank several responses to a prompt. A reward model is trained on these comparisons to score
responses the way people would. PPO then optimises the model to get high reward scores from the
reward model, clipping each update. A KL penalty against the SFT model keeps the policy from drifting
away and from reward hacking.
""",
    "good-bullets": """
- Base model: trained to predict the next token on internet text, so it continues text rather than answering.
- A question looks like the start of a worksheet to it, so it answers a question with more questions.
- SFT: same next-token training, but on example instructions with good answers written by people.
- SFT does not teach new facts; it mostly adjusts the later layers so the model uses what it already knows.
- After SFT the model obeys every instruction, including harmful ones.
- RLHF step 1: people rank a handful of answers to the same prompt from best to worst.
- RLHF step 2: a reward model learns from those rankings to predict which answer a person would prefer.
- RLHF step 3: PPO generates answers, scores them with the reward model and updates the model in small clipped steps.
- The KL penalty keeps the model near the SFT model so it does not game the reward model.
""",
}

PARTIAL = {
    "partial-pretraining-only": """
A model that has just been pretrained has only learned to predict the next word of internet text.
Nobody taught it to be helpful, so it just continues what you write like a document. When you ask
a question it may write more questions. Then people fine-tune it to make it better at answering,
and after that there is some extra training with human feedback that makes it nicer.
""",
    "partial-sft-only": """
Instruction tuning means training the model on examples of instructions followed by good
responses. It is still next-token prediction, but only the answers count in the loss. This makes
the model follow instructions. I am not sure what happens after that; I think there is another
round of training to make it safer.
""",
    "partial-rlhf-vague": """
The base model is not very useful. To make it into an assistant, companies use reinforcement
learning from human feedback. Humans compare answers and say which one they like best, and the
model is trained to give the answers humans like. That is how ChatGPT became helpful.
""",
    "partial-short": """
Base models just autocomplete text. Fine-tuning and RLHF teach them to behave like an assistant.
""",
}

OFF_TOPIC = {
    "off-cooking": """
To make a good risotto you first toast the rice in butter with a chopped onion. Then you add warm
stock one ladle at a time and keep stirring so the starch comes out. After about eighteen minutes
you take the pan off the heat and stir in parmesan and a little more butter. Serve it right away.
""",
    "off-history": """
The Roman Empire grew from a small city state into a huge territory around the Mediterranean Sea.
Its army built roads and forts, and Latin spread across Europe. The western half fell in the fifth
century after years of invasions and economic trouble, while the eastern half lasted until 1453.
""",
    "off-cnn": """
A convolutional neural network classifies images by sliding small filters over the pixels. The
early layers detect edges and colours, and deeper layers combine them into shapes and objects.
Pooling layers shrink the feature maps, and a final softmax layer outputs the probability of each
class. The network is trained with labelled photos and backpropagation.
""",
    "off-gardening": """
Tomatoes need plenty of sun and regular watering. Plant them after the last frost, tie the stems
to a stake as they grow, and pinch out the side shoots. Feed them with a potash-rich fertiliser once
the first flowers appear, and pick the fruit when it is fully red.
""",
}

# One sentence per misconception of the rubric, in a learner's words, keyed by the misconception's
# id: each must be flagged, while no GOOD explanation may raise any flag.
MISCONCEPTIONS = {
    "fine-tuning-adds-new-facts":
        "Fine-tuning is where the model learns lots of new facts about the world.",
    "the-base-model-does-not-know-the-answer":
        "The base model cannot answer questions because it never learned the facts.",
    "the-kl-penalty-limits-the-size-of-each-update":
        "The KL penalty makes sure that each single update step of the model stays small.",
    "people-score-every-response-during-training":
        "During PPO, human raters grade every single answer the model produces.",
    "refusals-are-hard-coded":
        "Refusals are programmed into the model as rules that block bad keywords.",
    "sft-uses-a-new-objective":
        "SFT trains with a totally new objective instead of next-token prediction.",
}
