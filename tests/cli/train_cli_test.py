#!/usr/bin/env python3
"""The recurrent-train CLI tests (cli.train.*, tests/cli/CMakeLists.txt): one CASE per run.

    train_cli_test.py CASE --train BIN --predict BIN --work DIR --model DIR --x FILE --y FILE

--model is a TF.js fit case (tests/golden/fit/<case>: model.json, weights.bin, train.json), --x
and --y its training data (.npy and JSON {"outputs": [...]}). Each case runs in a fresh DIR and
exits non-zero with a message on the first failed check. No NumPy needed (make_npy.py writes the
generated data).
"""
import argparse
import csv
import json
import math
import os
import pty
import random
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_npy import npy_bytes  # noqa: E402

A = None  # the parsed arguments


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def run(args, timeout=60):
    """Runs a command (not on a terminal); returns (status, stdout, stderr)."""
    print("$ " + " ".join(args))
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    print(p.stdout + p.stderr)
    return p.returncode, p.stdout, p.stderr


def work(name):
    return os.path.join(A.work, name)


def write_npy(name, values, shape, descr="<f4"):
    with open(work(name), "wb") as f:
        f.write(npy_bytes(values, shape, descr))
    return work(name)


def sequences(n, time_steps, features, seed):
    """Deterministic data: n sequences and, per sample, the sign of its feature-0 sum (class)
    and its mean (regression target)."""
    rng = random.Random(seed)
    x, labels, means = [], [], []
    for _ in range(n):
        sample = [rng.uniform(-1, 1) for _ in range(time_steps * features)]
        x.extend(sample)
        first = sum(sample[0::features])
        labels.append(1 if first > 0 else 0)
        means.append(sum(sample) / len(sample))
    return x, labels, means


def predict_loads(model_dir):
    """recurrent-predict --summary on the saved model."""
    status, out, _ = run([A.predict, "--summary", os.path.join(model_dir, "model.json")])
    check(status == 0, "recurrent-predict cannot load the saved model in " + model_dir)
    return out


def golden_train(extra, history):
    out_dir = work("out")
    args = [A.train, A.model_dir + "/model.json", "--x", A.x, "--y", A.y, "--epochs", "2",
            "--batch-size", "3", "--out", out_dir, "--history", history] + extra
    return run(args) + (out_dir,)


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------

def case_golden_csv():
    """2 epochs of a TF.js golden model, --out + CSV history; the saved model predicts."""
    history = work("history.csv")
    status, out, err, out_dir = golden_train(
        ["--loss", "categoricalCrossentropy", "--metrics", "accuracy", "--validation-split",
         "0.25", "--optimizer", "sgd", "--learning-rate", "0.1"], history)
    check(status == 0, "exit status %d" % status)
    check("\r" not in out + err and "\x1b" not in out + err,
          "control characters in the output to a pipe")
    epoch_lines = [l for l in out.splitlines() if l.startswith("Epoch ")]
    check(len(epoch_lines) == 2, "expected 2 epoch lines, got %r" % epoch_lines)
    check(all(k in epoch_lines[1] for k in ("loss: ", "acc: ", "val_loss: ", "val_acc: ")),
          "the epoch line lacks a log key: " + epoch_lines[1])
    check("SGD(learningRate 0.1)" in out, "the optimizer is not sgd(0.1)")
    with open(history) as f:
        rows = list(csv.reader(f))
    check(rows[0] == ["epoch", "loss", "acc", "val_loss", "val_acc"],
          "CSV header %r" % rows[0])
    check([r[0] for r in rows[1:]] == ["0", "1"], "CSV epochs %r" % rows[1:])
    check(all(math.isfinite(float(v)) for r in rows[1:] for v in r), "CSV values %r" % rows)
    predict_loads(out_dir)
    status, pout, _ = run([A.predict, os.path.join(out_dir, "model.json"), A.x])
    check(status == 0, "recurrent-predict on the saved model: status %d" % status)
    outputs = json.loads(pout)["outputs"]
    check(outputs[0]["shape"] == [9, 3], "prediction shape %r" % outputs[0]["shape"])


def case_golden_json():
    """Same with a JSON history ({"epoch", "history"}) and --float64, --no-shuffle, --quiet."""
    history = work("history.json")
    status, out, err, out_dir = golden_train(
        ["--loss", "categorical_crossentropy", "--float64", "--no-shuffle", "--quiet"], history)
    check(status == 0, "exit status %d" % status)
    check(out == "", "--quiet printed %r" % out)
    with open(history) as f:
        h = json.load(f)
    check(h["epoch"] == [0, 1], "history epoch %r" % h["epoch"])
    check(list(h["history"].keys()) == ["loss"], "history keys %r" % list(h["history"]))
    check(len(h["history"]["loss"]) == 2, "history loss %r" % h["history"]["loss"])
    predict_loads(out_dir)


def case_training_config():
    """A model.json with TF.js's trainingConfig: no --loss needed, its optimizer is used, and
    fit reproduces TF.js's own History of that case (tests/golden/fit, 4 epochs, no shuffle)."""
    model_dir = work("model")
    os.makedirs(model_dir)
    with open(os.path.join(A.model_dir, "model.json")) as f:
        model = json.load(f)
    with open(os.path.join(A.model_dir, "train.json")) as f:
        case = json.load(f)
    model["trainingConfig"] = {"loss": case["compile"]["loss"], "metrics": [],
                               "optimizer_config": {"class_name": "Adam",
                                                    "config": case["compile"]["optimizer"]["config"]}}
    with open(os.path.join(model_dir, "model.json"), "w") as f:
        json.dump(model, f)
    shutil.copy(os.path.join(A.model_dir, "weights.bin"), model_dir)
    history = work("history.json")
    fit = case["fit"]
    status, out, _ = run([A.train, os.path.join(model_dir, "model.json"), "--x", A.x, "--y", A.y,
                          "--epochs", str(fit["epochs"]), "--batch-size", str(fit["batchSize"]),
                          "--no-shuffle", "--history", history])
    check(status == 0, "exit status %d" % status)
    check("optimizer Adam(" in out and "beta1 0.85" in out, "not the trainingConfig's optimizer")
    with open(history) as f:
        got = json.load(f)["history"]["loss"]
    want = case["history"]["loss"]
    check(len(got) == len(want) and all(abs(g - w) <= 1e-4 + 1e-3 * abs(w)
                                        for g, w in zip(got, want)),
          "loss %r, TF.js %r" % (got, want))


def case_recipes():
    """Both recipes train on generated data (sparse labels; a [samples] regression target)."""
    x, labels, means = sequences(24, 5, 3, seed=1)
    xf = write_npy("x.npy", x, [24, 5, 3])
    yl = write_npy("labels.npy", labels, [24], "<i8")
    ym = write_npy("means.npy", means, [24])
    status, out, _ = run([A.train, "recipe:lstm-classifier", "--x", xf, "--y", yl, "--epochs", "2",
                          "--batch-size", "8", "--out", work("classifier")])
    check(status == 0, "lstm-classifier: exit status %d" % status)
    check("sparseCategoricalCrossentropy" in out and " acc: " in out, "lstm-classifier output")
    summary = predict_loads(work("classifier"))
    check("(None, 64)" in summary and "(None, 2)" in summary, "lstm-classifier layers")
    status, out, _ = run([A.train, "recipe:gru-regressor", "--x", xf, "--y", ym, "--epochs", "2",
                          "--batch-size", "8", "--validation-split", "0.25", "--out",
                          work("regressor")])
    check(status == 0, "gru-regressor: exit status %d" % status)
    check("meanSquaredError" in out and " val_mae: " in out, "gru-regressor output")
    summary = predict_loads(work("regressor"))
    check(summary.count("GRU") == 2 and "(None, 1)" in summary, "gru-regressor layers")


def case_tty():
    """On a pseudo-terminal: the progress bar is redrawn with \\r and shows an ETA."""
    x, labels, _ = sequences(40, 4, 2, seed=2)
    xf = write_npy("x.npy", x, [40, 4, 2])
    yl = write_npy("labels.npy", labels, [40, 1])
    args = [A.train, "recipe:lstm-classifier", "--x", xf, "--y", yl, "--epochs", "2",
            "--batch-size", "4"]
    print("$ (pty) " + " ".join(args))
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(args[0], args)
    chunks = []
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    _, wait_status = os.waitpid(pid, 0)
    out = b"".join(chunks).decode("utf-8", "replace")
    print(out.replace("\r", "<CR>\r"))
    check(os.WIFEXITED(wait_status) and os.WEXITSTATUS(wait_status) == 0,
          "status %r" % wait_status)
    check("\r" in out and "ETA: " in out, "no redrawn progress bar")
    check("Epoch 1/2" in out and "Epoch 2/2" in out and "samples/s" in out, "progress lines")
    check("[==============================]" in out and "ms/step" in out, "no epoch summary")


def case_interrupt():
    """SIGINT after the first epoch line: exit 130, 'interrupted', a loadable model in --out."""
    x, _, means = sequences(64, 6, 3, seed=3)
    xf = write_npy("x.npy", x, [64, 6, 3])
    ym = write_npy("means.npy", means, [64, 1])
    out_dir = work("out")
    history = work("history.csv")
    args = [A.train, "recipe:gru-regressor", "--x", xf, "--y", ym, "--epochs", "100000",
            "--batch-size", "8", "--out", out_dir, "--history", history]
    print("$ " + " ".join(args))
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.time() + 60
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Epoch 1/"):
            p.send_signal(signal.SIGINT)
            break
    try:
        rest, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("still running 60 s after SIGINT")
    print("".join(lines) + rest + err)
    check(p.returncode == 130, "exit status %r, expected 130" % p.returncode)
    check("interrupted" in err, "no 'interrupted' message")
    check(os.path.exists(os.path.join(out_dir, "model.json")), "no model.json in --out")
    predict_loads(out_dir)
    with open(history) as f:
        rows = list(csv.reader(f))
    check(rows[0][:2] == ["epoch", "loss"] and len(rows) >= 2, "history %r" % rows)


def expect_error(args, status, text):
    """A failing run: its status, its message and nothing in --out / --history."""
    out_dir = work("out")
    history = work("history.csv")
    got, out, err = run([A.train] + args + ["--out", out_dir, "--history", history])
    check(got == status, "exit status %d, expected %d" % (got, status))
    lines = [l for l in err.splitlines() if l]
    check(lines and lines[0].startswith("recurrent-train: ") and text in lines[0],
          "stderr %r lacks %r" % (err, text))
    check(not os.path.exists(out_dir), "--out was created")
    check(not os.path.exists(history), "--history was written")


def case_error_samples():
    y8 = write_npy("y8.npy", [1, 0, 0] * 8, [8, 3])
    expect_error([A.model_dir + "/model.json", "--x", A.x, "--y", y8, "--loss",
                  "categoricalCrossentropy"], 1,
                 "ValueError: LayersModel 'm'.fit: Input Tensors should have the same number of "
                 "samples as target Tensors. Found 9 input sample(s)")


def case_error_optimizer():
    expect_error([A.model_dir + "/model.json", "--x", A.x, "--y", A.y, "--loss",
                  "categoricalCrossentropy", "--optimizer", "frobnicate"], 1,
                 "ValueError: Unknown Optimizer frobnicate")


def case_error_loss():
    expect_error([A.model_dir + "/model.json", "--x", A.x, "--y", A.y, "--loss", "frobnicate"], 1,
                 "ValueError: Unknown loss frobnicate")


def case_error_no_loss():
    expect_error([A.model_dir + "/model.json", "--x", A.x, "--y", A.y], 2,
                 "--loss is required: '" + A.model_dir + "/model.json' has no trainingConfig")


def case_error_missing_file():
    expect_error([A.model_dir + "/model.json", "--x", work("no_such.npy"), "--y", A.y, "--loss",
                  "categoricalCrossentropy"], 1,
                 "IOError: cannot open --x file '" + work("no_such.npy") + "'")


def case_error_nan():
    """A NaN loss (TrainingError): exit 1 and no model written."""
    x, _, means = sequences(8, 3, 2, seed=4)
    xf = write_npy("x.npy", x, [8, 3, 2])
    ym = write_npy("y.npy", [float("nan")] + means[1:], [8, 1])
    expect_error(["recipe:gru-regressor", "--x", xf, "--y", ym], 1, "TrainingError: ")


def case_usage():
    status, _, err = run([A.train, "recipe:lstm-classifier", "--x", A.x])
    check(status == 2 and "--y is required" in err, "missing --y: %d %r" % (status, err))
    status, _, err = run([A.train, "recipe:lstm-classifier", "--x", A.x, "--y", A.y,
                          "--validation-split", "1"])
    check(status == 2 and "[0, 1)" in err, "--validation-split 1: %d %r" % (status, err))
    status, _, err = run([A.train, "m.json", "--x", A.x, "--y", A.y, "--history", "h.txt"])
    check(status == 2 and ".csv or .json" in err, "--history h.txt: %d %r" % (status, err))
    status, out, _ = run([A.train, "--help"])
    check(status == 0 and out.startswith("usage: recurrent-train MODEL --x FILE"), "--help")


CASES = {name[len("case_"):]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    global A
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--train", required=True)
    parser.add_argument("--predict", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--model", dest="model_dir", required=True)
    parser.add_argument("--x", required=True)
    parser.add_argument("--y", required=True)
    A = parser.parse_args()
    A.work = os.path.join(A.work, A.case)
    shutil.rmtree(A.work, ignore_errors=True)
    os.makedirs(A.work)
    CASES[A.case]()
    print("PASS")


if __name__ == "__main__":
    main()
