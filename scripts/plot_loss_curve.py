#!/usr/bin/env python3
"""Draws the loss curve that examples/train_sine writes (CSV: epoch,loss,val_loss) as a small PNG.

Usage: scripts/plot_loss_curve.py [loss_curve.csv] [docs/images/loss_curve.png]

Needs matplotlib (Debian: apt-get install python3-matplotlib). Run by hand; the PNG is committed
and shown in the README's "Training" section.
"""
import csv
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after choosing the backend)
from matplotlib.ticker import MaxNLocator  # noqa: E402


def main() -> int:
    root = pathlib.Path(__file__).resolve().parent.parent
    source = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path("loss_curve.csv")
    target = (pathlib.Path(sys.argv[2]) if len(sys.argv) > 2
              else root / "docs" / "images" / "loss_curve.png")

    with source.open(newline="") as f:
        rows = list(csv.DictReader(f))
    epochs = [int(r["epoch"]) for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3), dpi=100)  # 600 x 300 pixels
    ax.plot(epochs, [float(r["loss"]) for r in rows], "o-", ms=3, label="loss (training, with dropout)")
    ax.plot(epochs, [float(r["val_loss"]) for r in rows], "s--", ms=3, label="val_loss (validation, no dropout)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error")
    ax.set_title("train_sine: stacked GRU (dropout 0.2), next value of a sine", fontsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
