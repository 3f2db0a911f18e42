#!/usr/bin/python3
"""PyTorch's side of the side-by-side benchmark (run by side_by_side; needs Debian's python3-torch,
i.e. the system interpreter, and numpy).

Reads the cases that side_by_side wrote into --dir (manifest.json, raw little-endian float32 .bin
files in TF.js layout), runs each with nn.LSTM / nn.GRU (reset-after; TF.js's reset-before GRU has
no PyTorch counterpart and is skipped) / nn.RNN(tanh) under torch.no_grad() with
torch.set_num_threads(--threads), batch_first, and writes:
  - <case>.torch-t<threads>.bin: the full output sequence [B, T, H] (side_by_side compares it),
  - on stdout, tab-separated lines: `info <key> <value>` and
    `time torch <case> <threads> <median_us> <min_us> <runs> <cpu_per_wall>`.
Timing: wall clock per call, warm-up (>= 2 calls and >= 0.1 s), then N calls with
N = clamp(budget / time of one call, min_runs, max_runs) from the manifest; median.
(Inference only when the manifest says "inference": true.)

Training step, for the cases the manifest marks "train" (the module in train mode, no dropout):
x.requires_grad_(), `out, _ = rnn(x)`, `out.backward(dY)` with dY from <case>.dy.bin; timed: the
gradients set to None (`zero_grad(set_to_none=True)`, x.grad = None: each step allocates fresh
ones, as a training loop does) + forward + backward. Writes <case>.train.torch-t<threads>.<tensor>.bin
in TF.js layout (side_by_side compares them): y [B, T, H], dx [B, T, I], dkernel [I, G·H],
drecurrent_kernel [H, G·H], dbias [G·H] (reset-after GRU: [2, 3H]); for LSTM and RNN, whose two
biases b_ih + b_hh enter as their sum, dbias is b_ih's gradient, checked here to equal b_hh's
(exit status 4 if not); and `time torch.train <case> ...`.

It also checks which BLAS PyTorch uses: the file defining the sgemm_ that libtorch_cpu binds to
(dlsym + dladdr), the BLAS libraries mapped (/proc/self/maps), and the GFLOP/s of a 1024x512x2048
product; it exits with status 3 unless sgemm_ comes from OpenBLAS (--any-blas to allow another).
"""
import argparse
import ctypes
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch


def info(key, value):
    print(f"info\t{key}\t{value}", flush=True)


def mapped_libraries(pattern_words):
    found = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            parts = line.split()
            if len(parts) >= 6:
                path = parts[5]
                name = os.path.basename(path)
                if any(word in name for word in pattern_words):
                    found.add(path)
    return sorted(found)


class DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


def sgemm_provider():
    """The file that defines the sgemm_ PyTorch's CPU library binds to (dlsym from libtorch_cpu
    follows its dependencies, LD_PRELOAD included, then dladdr names the file)."""
    torch_cpu = [p for p in mapped_libraries(("libtorch_cpu",))]
    if not torch_cpu:
        return None
    try:
        address = ctypes.cast(ctypes.CDLL(torch_cpu[0]).sgemm_, ctypes.c_void_p)
        found = DlInfo()
        if ctypes.CDLL(None).dladdr(address, ctypes.byref(found)) == 0:
            return None
        return os.path.realpath(found.dli_fname.decode())
    except (OSError, AttributeError):
        return None


def check_blas(allow_any):
    a, b = torch.randn(1024, 512), torch.randn(512, 2048)
    for _ in range(3):
        a @ b  # loads and warms up the BLAS
    start, calls = time.perf_counter(), 10
    for _ in range(calls):
        a @ b
    gflops = 2 * 1024 * 512 * 2048 * calls / (time.perf_counter() - start) / 1e9
    info("torch_sgemm_gflops", f"{gflops:.1f}")  # reference BLAS: ~5; OpenBLAS: ~100+ per core
    blas = mapped_libraries(("blas", "mkl", "lapack"))
    info("torch_blas_mapped", " ".join(blas) if blas else "none")
    provider = sgemm_provider()
    info("torch_sgemm_from", provider or "unknown")
    is_openblas = provider is not None and "openblas" in provider
    openblas = [p for p in blas if "openblas" in os.path.basename(p)]
    info("torch_blas", f"OpenBLAS ({provider})" if is_openblas else f"not OpenBLAS ({provider})")
    if openblas:
        try:
            lib = ctypes.CDLL(openblas[0])  # already mapped: same handle
            lib.openblas_get_config.restype = ctypes.c_char_p
            info("openblas_config", lib.openblas_get_config().decode())
            info("openblas_threads", lib.openblas_get_num_threads())
        except (OSError, AttributeError) as e:
            info("openblas_config", f"unavailable ({e})")
    if not is_openblas and not allow_any:
        print(f"torch_bench: PyTorch's sgemm_ is not OpenBLAS's (from {provider}; mapped: {blas}); "
              "install libopenblas0-openmp or run with LD_PRELOAD=<openblas-openmp libblas.so.3>",
              file=sys.stderr)
        sys.exit(3)


def load(directory, name, what, count):
    data = np.fromfile(os.path.join(directory, f"{name}.{what}.bin"), dtype="<f4")
    if data.size != count:
        raise RuntimeError(f"{name}.{what}.bin: {data.size} floats, expected {count}")
    return torch.from_numpy(data.astype(np.float32))


def build(case, directory):
    """The PyTorch module with the case's TF.js-layout weights, or None (no counterpart)."""
    cell, name = case["cell"], case["name"]
    i, h, g = case["input"], case["units"], case["gates"]
    kernel = load(directory, name, "kernel", i * g * h).reshape(i, g * h)
    recurrent = load(directory, name, "recurrent_kernel", h * g * h).reshape(h, g * h)
    bias = load(directory, name, "bias", case["bias_rows"] * g * h).reshape(case["bias_rows"], g * h)
    if cell == "LSTM":  # gates i, f, c(g), o: the same order in both
        module = torch.nn.LSTM(i, h, batch_first=True)
        w_ih, w_hh, b_ih, b_hh = kernel.T, recurrent.T, bias[0], torch.zeros(g * h)
    elif cell == "GRU-ra":  # TF.js z, r, h -> PyTorch r, z, n; bias rows: input, recurrent
        module = torch.nn.GRU(i, h, batch_first=True)

        def reorder(m):  # [.., 3H] blocks z, r, h -> r, z, h
            return torch.cat([m[..., h:2 * h], m[..., :h], m[..., 2 * h:]], dim=-1)

        w_ih, w_hh = reorder(kernel).T, reorder(recurrent).T
        b_ih, b_hh = reorder(bias[0]), reorder(bias[1])
    elif cell == "SimpleRNN":
        module = torch.nn.RNN(i, h, nonlinearity="tanh", batch_first=True)
        w_ih, w_hh, b_ih, b_hh = kernel.T, recurrent.T, bias[0], torch.zeros(h)
    else:
        return None  # "GRU": reset gate before the product, not in PyTorch
    with torch.no_grad():
        module.weight_ih_l0.copy_(w_ih.contiguous())
        module.weight_hh_l0.copy_(w_hh.contiguous())
        module.bias_ih_l0.copy_(b_ih.contiguous())
        module.bias_hh_l0.copy_(b_hh.contiguous())
    module.eval()
    return module


def reorder_gru(m, h):
    """[.., 3H] gate blocks z, r, h <-> r, z, n (the swap of the first two is its own inverse)."""
    return torch.cat([m[..., h:2 * h], m[..., :h], m[..., 2 * h:]], dim=-1)


def train_tensors(case, module, x, dy):
    """One training step's tensors in TF.js layout (see the module docstring)."""
    h = case["units"]
    module.zero_grad(set_to_none=True)
    x.grad = None
    out, _ = module(x)
    out.backward(dy)
    g_ih, g_hh = module.weight_ih_l0.grad, module.weight_hh_l0.grad
    gb_ih, gb_hh = module.bias_ih_l0.grad, module.bias_hh_l0.grad
    if case["cell"] == "GRU-ra":  # rows r, z, n -> TF.js z, r, h; bias rows input, recurrent
        kernel, recurrent = reorder_gru(g_ih.T, h), reorder_gru(g_hh.T, h)
        bias = torch.stack([reorder_gru(gb_ih, h), reorder_gru(gb_hh, h)])
        bias_gap = 0.0  # both rows are compared
    else:  # LSTM (i, f, g, o = TF.js i, f, c, o) and RNN: one TF.js bias, b_ih + b_hh
        kernel, recurrent, bias = g_ih.T, g_hh.T, gb_ih
        bias_gap = float((gb_ih - gb_hh).abs().max())
    tensors = {"y": out.detach(), "dx": x.grad, "dkernel": kernel, "drecurrent_kernel": recurrent,
               "dbias": bias}
    return tensors, bias_gap


def run_train(case, module, args, manifest):
    name = case["name"]
    b, t, i, h = case["batch"], case["time"], case["input"], case["units"]
    x = load(args.dir, name, "x", b * t * i).reshape(b, t, i).clone().requires_grad_()
    dy = load(args.dir, name, "dy", b * t * h).reshape(b, t, h)
    module.train()
    tensors, bias_gap = train_tensors(case, module, x, dy)
    for what, tensor in tensors.items():
        tensor.detach().contiguous().numpy().astype("<f4").tofile(
            os.path.join(args.dir, f"{name}.train.torch-t{args.threads}.{what}.bin"))
    # b_ih and b_hh enter as their sum: equal gradients (up to the order of the sums over B·T,
    # which autograd may take differently for the two); within the runner's relative tolerance.
    bias_gap /= max(1.0, float(tensors["dbias"].abs().max()))
    info(f"torch_bias_grad_gap.{name}", f"{bias_gap:.3g}")
    if bias_gap > 1e-3:
        print(f"torch_bench: {name}: the gradients of b_ih and b_hh differ by {bias_gap}",
              file=sys.stderr)
        sys.exit(4)

    def step():
        module.zero_grad(set_to_none=True)
        x.grad = None
        out, _ = module(x)
        out.backward(dy)

    med, best, runs, util = measure(step, manifest["budget_seconds"], manifest["min_runs"],
                                    manifest["max_runs"])
    print(f"time\ttorch.train\t{name}\t{args.threads}\t{med * 1e6:.3f}\t{best * 1e6:.3f}\t{runs}"
          f"\t{util:.2f}", flush=True)
    print(f"  [{args.threads} thread{'s' if args.threads != 1 else ''}] {name} training step done "
          "(PyTorch)", file=sys.stderr, flush=True)


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(fn, budget, min_runs, max_runs):
    start = time.perf_counter()
    best = math.inf
    calls = 0
    while calls < 2 or time.perf_counter() - start < 0.1:
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        calls += 1
    runs = int(min(max(math.ceil(budget / best), min_runs), max_runs))
    walls, cpu = [], 0.0
    for _ in range(runs):
        c0, t0 = cpu_seconds(), time.perf_counter()
        fn()
        t1, c1 = time.perf_counter(), cpu_seconds()
        walls.append(t1 - t0)
        cpu += c1 - c0
    walls.sort()
    n = len(walls)
    med = walls[n // 2] if n % 2 else 0.5 * (walls[n // 2 - 1] + walls[n // 2])
    return med, walls[0], runs, cpu / sum(walls)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--any-blas", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    info("torch_version", torch.__version__)
    info("torch_threads", torch.get_num_threads())
    parallel = torch.__config__.parallel_info().splitlines()
    info("torch_parallel", "; ".join(line.strip() for line in parallel if "threads()" in line))
    check_blas(args.any_blas)

    with open(os.path.join(args.dir, "manifest.json")) as f:
        manifest = json.load(f)
    ops_reported = False
    for case in manifest["cases"] if manifest.get("inference", True) else []:
        if args.threads != 1 and not case["multi_threaded"]:
            continue
        module = build(case, args.dir)
        if module is None:
            continue
        name = case["name"]
        b, t, i, h = case["batch"], case["time"], case["input"], case["units"]
        x = load(args.dir, name, "x", b * t * i).reshape(b, t, i)
        with torch.no_grad():
            if not ops_reported:  # which ATen ops run (BLAS addmm/mm, or a oneDNN RNN)
                with torch.autograd.profiler.profile() as prof:
                    module(x)
                info("torch_ops", " ".join(sorted({e.key for e in prof.key_averages()})))
                ops_reported = True
            out = module(x)[0]
            out.contiguous().numpy().astype("<f4").tofile(
                os.path.join(args.dir, f"{name}.torch-t{args.threads}.bin"))
            med, best, runs, util = measure(lambda: module(x), manifest["budget_seconds"],
                                            manifest["min_runs"], manifest["max_runs"])
        print(f"time\ttorch\t{name}\t{args.threads}\t{med * 1e6:.3f}\t{best * 1e6:.3f}\t{runs}"
              f"\t{util:.2f}", flush=True)
        print(f"  [{args.threads} thread{'s' if args.threads != 1 else ''}] {name} done (PyTorch)",
              file=sys.stderr, flush=True)
    train_ops_reported = False
    for case in manifest["cases"]:
        if not case.get("train") or (args.threads != 1 and not case["multi_threaded"]):
            continue
        module = build(case, args.dir)
        if module is None:
            continue
        if not train_ops_reported:  # which ATen ops the training step runs
            b, t, i, h = case["batch"], case["time"], case["input"], case["units"]
            x = load(args.dir, case["name"], "x", b * t * i).reshape(b, t, i).requires_grad_()
            with torch.autograd.profiler.profile() as prof:
                module.train()
                module(x)[0].sum().backward()
            info("torch_train_ops", " ".join(sorted({e.key for e in prof.key_averages()})))
            train_ops_reported = True
        run_train(case, module, args, manifest)
    info("torch_threads_end", torch.get_num_threads())


if __name__ == "__main__":
    main()
