#!/usr/bin/python3
"""PyTorch's side of the side-by-side runner's fit table (run by side_by_side; needs Debian's
python3-torch, i.e. the system interpreter, and numpy).

    torch_fit.py --dir DIR --threads N [--any-blas]

Reads DIR/fit.json and each case's files (raw little-endian float32, TF.js layout) that
side_by_side wrote: x [N, T, I], y [N, O], the recurrent layer's kernel, recurrent kernel and bias,
the Dense layer's kernel [H, O] and bias [O]. For each case the manifest gives to "torch":
nn.LSTM / nn.GRU (reset after: PyTorch's only GRU), batch_first, with those weights (LSTM: TF.js's
single bias is b_ih, b_hh is zero and frozen, so that Adam updates one bias as TF.js does), the
last time step into nn.Linear, then the case's loss as TF.js computes it:
  - categoricalCrossentropy: softmax, then -Σ y·log(clip(p, 1e-7, 1 − 1e-7)) per sample (TF.js's
    softmax-then-clipped-log, not log_softmax + NLL; the same maths up to the ε clip), mean over
    the batch;
  - meanSquaredError: mean over every element (TF.js: mean over the last axis, then the batch).
torch.optim.Adam(lr, betas (0.9, 0.999), eps=1e-7): TF.js's Adam. One epoch = the batches of
`batch` consecutive samples (no shuffling), each: zero_grad(set_to_none=True), forward, loss,
backward, step. One untimed warm-up epoch, then timed_epochs timed ones; torch.set_num_threads(N)
(OpenBLAS via LD_PRELOAD as for torch_bench.py, checked the same way).
Writes on stdout, tab-separated: `info <key> <value>` (each epoch's mean batch loss, weighted by
batch size as TF.js logs it) and `time torch.fit <case> <N> <median_us> <min_us> <epochs>
<cpu_per_wall>` (wall time per epoch). Exit status 5 when torch cannot be imported (side_by_side
then leaves PyTorch out of the fit table).
"""
import argparse
import json
import os
import sys
import time

try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"torch_fit: PyTorch is not available ({e})", file=sys.stderr)
    sys.exit(5)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_bench  # noqa: E402  (check_blas, cpu_seconds, info)

EPSILON = 1e-7  # TF.js's backend epsilon: the CCE clip and Adam's epsilon


def load(directory, name, what, shape):
    data = np.fromfile(os.path.join(directory, f"{name}.fit.{what}.bin"), dtype="<f4")
    count = int(np.prod(shape))
    if data.size != count:
        raise RuntimeError(f"{name}.fit.{what}.bin: {data.size} floats, expected {count}")
    return torch.from_numpy(data.astype(np.float32)).reshape(shape)


class Model(torch.nn.Module):
    """The recurrent layer (last step only) and Dense, with the case's TF.js-layout weights."""

    def __init__(self, case, directory):
        super().__init__()
        name, cell = case["name"], case["cell"]
        i, h, g, o = case["input"], case["units"], case["gates"], case["outputs"]
        kernel = load(directory, name, "kernel", (i, g * h))
        recurrent = load(directory, name, "recurrent_kernel", (h, g * h))
        bias = load(directory, name, "bias", (case["bias_rows"], g * h))
        if cell == "LSTM":  # gates i, f, c(g), o in both
            self.rnn = torch.nn.LSTM(i, h, batch_first=True)
            w_ih, w_hh, b_ih, b_hh = kernel.T, recurrent.T, bias[0], torch.zeros(g * h)
        elif cell == "GRU-ra":  # TF.js z, r, h -> PyTorch r, z, n; bias rows: input, recurrent
            self.rnn = torch.nn.GRU(i, h, batch_first=True)
            w_ih, w_hh = torch_bench.reorder_gru(kernel, h).T, torch_bench.reorder_gru(recurrent, h).T
            b_ih, b_hh = torch_bench.reorder_gru(bias[0], h), torch_bench.reorder_gru(bias[1], h)
        else:
            raise RuntimeError(f"{name}: no PyTorch counterpart for {cell}")
        self.dense = torch.nn.Linear(h, o)
        with torch.no_grad():
            self.rnn.weight_ih_l0.copy_(w_ih.contiguous())
            self.rnn.weight_hh_l0.copy_(w_hh.contiguous())
            self.rnn.bias_ih_l0.copy_(b_ih.contiguous())
            self.rnn.bias_hh_l0.copy_(b_hh.contiguous())
            self.dense.weight.copy_(load(directory, name, "dense_kernel", (h, o)).T.contiguous())
            self.dense.bias.copy_(load(directory, name, "dense_bias", (o,)))
        if cell == "LSTM":  # TF.js has one bias: b_hh stays zero
            self.rnn.bias_hh_l0.requires_grad_(False)
        self.activation = case["activation"]

    def forward(self, x):
        out, _ = self.rnn(x)
        z = self.dense(out[:, -1, :])
        return torch.softmax(z, dim=-1) if self.activation == "softmax" else z


def loss_function(case):
    if case["loss"] == "categoricalCrossentropy":
        def cce(p, y):  # TF.js: p / Σp (a no-op after softmax), clip, log
            p = p / p.sum(dim=-1, keepdim=True)
            return -(y * torch.log(torch.clamp(p, EPSILON, 1 - EPSILON))).sum(dim=-1).mean()
        return cce
    if case["loss"] == "meanSquaredError":
        return lambda p, y: torch.mean((p - y) ** 2)
    raise RuntimeError(f"{case['name']}: unknown loss {case['loss']}")


def run_case(case, args, manifest):
    name = case["name"]
    n, t, i, o, b = case["samples"], case["time"], case["input"], case["outputs"], case["batch"]
    x = load(args.dir, name, "x", (n, t, i))
    y = load(args.dir, name, "y", (n, o))
    model = Model(case, args.dir)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=case["lr"], betas=(0.9, 0.999), eps=EPSILON)
    loss_fn = loss_function(case)
    batches = [(x[s:s + b], y[s:s + b]) for s in range(0, n, b)]

    def epoch():
        total = 0.0
        for xb, yb in batches:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += float(loss) * xb.shape[0]
        return total / n

    losses, walls, cpu = [], [], 0.0
    for e in range(manifest["timed_epochs"] + 1):
        c0, t0 = torch_bench.cpu_seconds(), time.perf_counter()
        losses.append(epoch())
        t1, c1 = time.perf_counter(), torch_bench.cpu_seconds()
        if e > 0:  # epoch 0: the warm-up
            walls.append(t1 - t0)
            cpu += c1 - c0
        print(f"  [{args.threads} thread{'s' if args.threads != 1 else ''}] {name} epoch {e} "
              f"(PyTorch): {t1 - t0:.2f} s", file=sys.stderr, flush=True)
    total = sum(walls)
    walls.sort()
    m = len(walls)
    med = walls[m // 2] if m % 2 else 0.5 * (walls[m // 2 - 1] + walls[m // 2])
    torch_bench.info(f"fit_losses.torch.{name}", " ".join(f"{v:.7g}" for v in losses))
    print(f"time\ttorch.fit\t{name}\t{args.threads}\t{med * 1e6:.3f}\t{walls[0] * 1e6:.3f}\t{m}"
          f"\t{cpu / total:.2f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--any-blas", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch_bench.info("torch_version", torch.__version__)
    torch_bench.info("torch_fit_threads", torch.get_num_threads())
    torch_bench.check_blas(args.any_blas)
    with open(os.path.join(args.dir, "fit.json")) as f:
        manifest = json.load(f)
    for case in manifest["cases"]:
        if "torch" in case["peers"]:
            run_case(case, args, manifest)
    torch_bench.info("torch_fit_threads_end", torch.get_num_threads())


if __name__ == "__main__":
    main()
