"""How much one mark moves the verdicts on articles it has nothing to do with.

    python bench/churn.py [--shared ../shared] [--trials 40]

In each trial, 40 of the judged development articles are drawn: one is the mark, the
other 39 are watched. The relevance forest is fitted on the remaining articles, then
again with the mark added (weighing what a mark weighs); prints how many of the 39
watched verdicts went the other way, and the mean change of their scores, over the
trials. A refit should move what a mark bears on: every verdict it turns elsewhere is
one an analyst sees change for no reason they can find. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from _shared import add_shared_option

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from train_relevance import labelled_folder, samples

from watcher.relevance.teach import MARK_WEIGHT
from watcher.relevance.training import relevance_learner

_WATCHED = 39


def main() -> None:
    parser = argparse.ArgumentParser()
    add_shared_option(parser)
    parser.add_argument("--trials", type=int, default=40)
    args = parser.parse_args()
    data = samples(labelled_folder(parser, args.shared))
    xs = np.array([values for _id, values, _label in data.articles])
    ys = np.array([label for _id, _values, label in data.articles])
    draw = np.random.default_rng(1)
    flips, moves = [], []
    for _ in range(args.trials):
        picked = draw.choice(len(ys), _WATCHED + 1, replace=False)
        mark, watched = picked[0], picked[1:]
        base = np.setdiff1d(np.arange(len(ys)), picked)
        with_mark = np.append(base, mark)
        weights = np.append(np.ones(len(base)), MARK_WEIGHT)
        before = relevance_learner().fit(xs[base], ys[base]).predict_proba(xs[watched])[:, 1]
        after = relevance_learner().fit(xs[with_mark], ys[with_mark], weights)
        now = after.predict_proba(xs[watched])[:, 1]
        flips.append(int(((before >= 0.5) != (now >= 0.5)).sum()))
        moves.append(float(np.abs(now - before).mean()))
    print(
        f"{args.trials} marks, each refit beside the model without it, {_WATCHED} unseen "
        f"articles watched: {np.mean(flips):.3f} verdicts turned a mark "
        f"({max(flips)} at most), scores moved {np.mean(moves):.4f} on average"
    )


if __name__ == "__main__":
    main()
