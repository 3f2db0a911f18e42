#!/usr/bin/env python3
"""Regenerates the README's performance section from the side-by-side runners' results.

    python3 tools/bench/update_readme.py --results build/bench/side_by_side.json \
        --streaming build/bench/streaming.json --build-dir build/bench [--readme README.md] [--print]

Rewrites only what lies between `<!-- perf-table:begin -->` and `<!-- perf-table:end -->`, and the
training-step table (the results' "train_rows") between `<!-- perf-train:begin -->` and
`<!-- perf-train:end -->`, and the fit table (an epoch of model.fit: "fit_rows") between
`<!-- perf-fit:begin -->` and `<!-- perf-fit:end -->`. When the first markers are missing they are
added: into the body of an existing "## Performance" section, else as a new "## Performance"
section before "## Documentation" (or at the end); missing training markers go right after
`<!-- perf-table:end -->`, missing fit markers right after `<!-- perf-train:end -->` (else
`<!-- perf-table:end -->`). Results without training rows (side_by_side --no-train) leave the
training block as it is, results without inference rows (--train-only, --fit-only) the first one,
results without fit rows (--no-fit) the fit block. The fit block carries its own machine line
(it may come from a --fit-only run). Python 3 standard library only. The machine facts come from
lscpu, /etc/os-release and the build's CMakeCache.txt.
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys

BEGIN = "<!-- perf-table:begin -->"
END = "<!-- perf-table:end -->"
TRAIN_BEGIN = "<!-- perf-train:begin -->"
TRAIN_END = "<!-- perf-train:end -->"
FIT_BEGIN = "<!-- perf-fit:begin -->"
FIT_END = "<!-- perf-fit:end -->"
CELLS = {
    "LSTM": "LSTM",
    "GRU": "GRU (reset before, TF.js)",
    "GRU-ra": "GRU (reset after)",
    "SimpleRNN": "SimpleRNN",
}


def run(cmd):
    try:
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""


def cpu_description():
    fields = {}
    for line in run(["lscpu"]).splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            fields.setdefault(k.strip(), v.strip())
    model = fields.get("Model name", "unknown CPU")
    cpus = fields.get("CPU(s)", str(os.cpu_count()))
    threads_per_core = fields.get("Thread(s) per core", "?")
    hypervisor = fields.get("Hypervisor vendor")
    text = f"{model}, {cpus} logical CPUs ({threads_per_core} thread(s) per core)"
    if hypervisor:
        text += f", virtual machine ({hypervisor})"
    flags = fields.get("Flags", "").split()
    isa = [f for f in ("avx2", "avx512f", "amx_tile") if f in flags]
    if isa:
        text += "; " + ", ".join(isa)
    return text


def os_description():
    name = "unknown OS"
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    name = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return f"{name}, Linux {os.uname().release}"


def cmake_cache(build_dir):
    cache = {}
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            for line in f:
                m = re.match(r"^([A-Za-z0-9_]+):[A-Z]+=(.*)$", line.rstrip("\n"))
                if m:
                    cache[m.group(1)] = m.group(2)
    except OSError:
        pass
    return cache


def us(v):
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def ratio(other, ours):
    if other is None or ours is None or ours <= 0:
        return "–"
    return f"{other / ours:.2f}"


def render_streaming(streaming, add):
    """The streaming table: this library's stateful step() against RTNeural, one process."""
    rows = streaming.get("rows", [])

    def ns(cell, scalar, h, i, impl):
        for r in rows:
            if (r["cell"], r["scalar"], r["units"], r["input"], r["impl"]) == (cell, scalar, h, i, impl):
                return r["ns"]
        return None

    have_rtneural = streaming.get("rtneural", False)
    add("")
    add(f"Streaming: a stateful layer fed one time step per call (`step()`, B = 1), ns per sample, "
        f"median of {streaming.get('reps')} interleaved repetitions of {streaming.get('samples'):,} "
        "samples each; `benchmarks/streaming` (same compiler and flags). Ours: compile-time sizes "
        "(`LSTM<S, H, I>`, `GRU<S, H, I>` with `resetAfter`), sigmoid gates, outputs checked equal "
        "to one `call` bitwise. " +
        ("RTNeural (commit 1fb1f075, Eigen backend, its own flags: `LSTMLayerT<S, I, H>`, "
         "`GRULayerT<S, I, H>`, the reset-after GRU) built into the same process with the same "
         "weights and inputs, outputs checked to agree (1e-4 float, 1e-9 double); "
         "**RTNeural / rec. > 1 means this library is faster**. "
         if have_rtneural else "RTNeural was not found at build time: its columns are empty. ") +
        "Beside it, TF.js's defaults (hardSigmoid gates; GRU reset-before, which RTNeural does not "
        "have) and the run-time-size `LSTM<S>`.")
    add("")
    add("| scalar | I | H | LSTM rec. | LSTM RTNeural | RTNeural / rec. | GRU rec. | GRU RTNeural | "
        "RTNeural / rec. | LSTM, TF.js defaults | GRU reset-before, TF.js defaults | "
        "LSTM run-time sizes |")
    add("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    keys = sorted({(r["scalar"] != "float", r["input"], r["units"], r["scalar"]) for r in rows})
    for _, i, h, scalar in keys:
        lstm, lstm_rt = ns("LSTM", scalar, h, i, "recurrent"), ns("LSTM", scalar, h, i, "RTNeural")
        gru, gru_rt = ns("GRU-ra", scalar, h, i, "recurrent"), ns("GRU-ra", scalar, h, i, "RTNeural")
        add(f"| {scalar} | {i} | {h} | {us(lstm)} | {us(lstm_rt)} | {ratio(lstm_rt, lstm)} | "
            f"{us(gru)} | {us(gru_rt)} | {ratio(gru_rt, gru)} | "
            f"{us(ns('LSTM (TF.js defaults)', scalar, h, i, 'recurrent'))} | "
            f"{us(ns('GRU (TF.js defaults)', scalar, h, i, 'recurrent'))} | "
            f"{us(ns('LSTM', scalar, h, i, 'recurrent-dynamic'))} |")


def median_of(row, impl):
    entry = row.get(impl) or {}
    return entry.get("median_us")


def compiler_and_flags(build_dir):
    """The compiler's first --version line and the code generation flags of the build."""
    cache = cmake_cache(build_dir)
    compiler = cache.get("CMAKE_CXX_COMPILER", "c++")
    version = run([compiler, "--version"]).splitlines()
    compiler_text = version[0] if version else compiler
    flags = []
    for flag in (cache.get("CMAKE_CXX_FLAGS", "") + " " + cache.get("CMAKE_CXX_FLAGS_RELEASE", "")
                 + " -O3").split():
        if not flag.startswith("-W") and flag not in flags:  # code generation flags only
            flags.append(flag)
    return compiler_text, " ".join(flags)


def render(results, build_dir, streaming=None):
    info = results.get("info", {})
    compiler_text, flags = compiler_and_flags(build_dir)
    threads = results.get("threads", [1, 2])
    t1 = "t1."
    lines = []
    add = lines.append
    add(f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d} with "
        "`bash scripts/bench.sh` (regenerates this section).")
    add("")
    add(f"- **Machine**: {cpu_description()}; {os_description()}.")
    add(f"- **Compiler**: {compiler_text}; flags `{flags}` for this library and the Eigen "
        f"baseline (Eigen {info.get(t1 + 'eigen_version', '3.4')}).")
    impls = sorted({v for k, v in info.items() if ".onednn_impl." in k})
    by_impl = {}
    for k, v in info.items():
        if ".onednn_impl." in k:
            cell = k.split(".onednn_impl.", 1)[1].split("-", 1)[1]
            by_impl.setdefault(v, set()).add(CELLS.get(cell, cell))
    impl_text = "; ".join(f"`{i}` for {', '.join(sorted(by_impl[i]))}" for i in sorted(by_impl))
    formats = sorted({v for k, v in info.items() if ".onednn_weights." in k})
    add(f"- **oneDNN** {info.get(t1 + 'onednn_version', '?')} (Debian `libdnnl-dev`, "
        f"{info.get(t1 + 'onednn_runtime', '?')} runtime; ISA detected: "
        f"{info.get(t1 + 'onednn_isa', '?')}); `forward_inference`; implementations oneDNN chose: "
        f"{impl_text or '?'}; weights given as `ldigo` and reordered "
        f"once, outside the timed region, to the layouts the primitive asked for "
        f"({', '.join(f'`{x}`' for x in formats) or '?'}; input / recurrent); timed: `execute` "
        f"+ `stream::wait`."
        + (" (`ref` is the name oneDNN gives its GEMM-based RNN driver — its own sgemm or packed "
           "sgemm plus JIT cell kernels —, `brgemm` its newer driver; oneDNN picks one per cell.)"
           if "ref" in impls else ""))
    provider = info.get(t1 + "torch_sgemm_from", "?")
    provider_short = "/".join(provider.split("/")[-2:])
    config = info.get(t1 + "openblas_config") or info.get(t1 + "torch_blas", "?")
    add(f"- **PyTorch** {info.get(t1 + 'torch_version', '?')} (Debian `python3-torch`, "
        f"`nn.LSTM`/`nn.GRU`/`nn.RNN` under `torch.no_grad()`); BLAS: {config}. Checked in the "
        f"process: `sgemm_` as bound by libtorch_cpu comes from `{provider_short}` (dlsym + "
        f"dladdr), {info.get(t1 + 'torch_sgemm_gflops', '?')} GFLOP/s on a 1024×512×2048 "
        f"product with 1 thread.")
    ort_version = info.get(t1 + "ort_version")
    if ort_version:
        add(f"- **onnxruntime** (ORT) {ort_version} (npm `onnxruntime-node`, Node.js "
            f"{info.get(t1 + 'node_version', '?')}; CPU execution provider): one-node ONNX models "
            f"(opset 14: `LSTM`, `GRU` with `linear_before_reset` 0 for the reset-before and 1 for "
            f"the reset-after GRU, `RNN` tanh; weights as initializers), `intraOpNumThreads` = "
            f"threads, `interOpNumThreads` 1, sequential execution, default graph optimizations; "
            f"ONNX's time-major input and output transposed outside the timed region; timed: "
            f"`await session.run(feeds)`, whose floor here is one `setImmediate` turn "
            f"({info.get(t1 + 'ort_async_floor_us', '?')} µs).")
    thread_checks = []
    for n in threads:
        p = f"t{n}."
        check = (f"{n}: oneDNN nthr {info.get(p + 'onednn_nthr', '?')}, PyTorch "
                 f"{info.get(p + 'torch_threads', '?')}, OpenBLAS "
                 f"{info.get(p + 'openblas_threads', '?')}")
        if ort_version:
            check += f", onnxruntime {info.get(p + 'ort_threads', '?')}"
        thread_checks.append(check)
    add(f"- **Method**: float32, full output sequence, inference, zero initial state; the same "
        f"inputs and weights (uniform, ±1/√H weights, ±1 inputs) for every implementation; gate "
        f"activations sigmoid/tanh everywhere. Wall time per call, **median of N timed calls** "
        f"after a warm-up (≥ 2 calls and ≥ 0.1 s), N = clamp({results.get('budget_seconds')} s / "
        f"time of one call, {results.get('min_runs')}, {results.get('max_runs')}); per case this "
        f"library, oneDNN and Eigen run one after the other in one process, PyTorch in another"
        f"{', onnxruntime in a third' if ort_version else ''}. "
        f"Threads: {', '.join(str(n) for n in threads)}, one process per count with "
        f"`OMP_NUM_THREADS` set (in effect — {'; '.join(thread_checks)}); this library uses its "
        f"`threads` option, Eigen its OpenMP GEMM, PyTorch `torch.set_num_threads`"
        + (", onnxruntime `intraOpNumThreads` (threads counted in /proc/self/task: the session's "
           "pool + the calling thread)" if ort_version else "") + ".")
    load = [info.get("loadavg_start"), info.get("loadavg_end")]
    if all(load):
        add(f"- **Machine load** (1-minute load average, /proc/loadavg) at the start and the end "
            f"of the run: {load[0]} / {load[1]} on {os.cpu_count()} CPUs. Other work on the "
            f"machine slows the 2-thread rows most (a descheduled thread stalls the others).")
    diffs = {}
    for row in results.get("rows", []):
        for impl in ("onednn", "torch", "ort", "eigen"):
            d = (row.get(impl) or {}).get("max_abs_diff")
            if d is not None:
                diffs[impl] = max(diffs.get(impl, 0.0), d)
    add(f"- **Agreement**: largest |difference| of any output sequence from this library's: "
        f"oneDNN {diffs.get('onednn', float('nan')):.1e}, PyTorch "
        f"{diffs.get('torch', float('nan')):.1e}, onnxruntime "
        f"{diffs.get('ort', float('nan')):.1e}, Eigen {diffs.get('eigen', float('nan')):.1e} "
        f"(limit {results.get('tolerance', 1e-4):g}).")
    add("")
    add("Ratios are other / recurrent: **> 1 means this library is faster**. "
        "PyTorch has no reset-before GRU (–).")
    add("")
    add("| workload (B, T, I, H) | cell | threads | recurrent µs | oneDNN µs | PyTorch µs | "
        "ORT µs | Eigen µs | oneDNN / rec. | PyTorch / rec. | ORT / rec. | Eigen / rec. |")
    add("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for row in results.get("rows", []):
        rec = median_of(row, "recurrent")
        one, tor, ort, eig = (median_of(row, k) for k in ("onednn", "torch", "ort", "eigen"))
        add(f"| {row['workload']} ({row['batch']}, {row['time']}, {row['input']}, {row['units']}) "
            f"| {CELLS.get(row['cell'], row['cell'])} | {row['threads']} | {us(rec)} | {us(one)} | "
            f"{us(tor)} | {us(ort)} | {us(eig)} | {ratio(one, rec)} | {ratio(tor, rec)} | "
            f"{ratio(ort, rec)} | {ratio(eig, rec)} |")
    if streaming:
        render_streaming(streaming, add)
    return "\n".join(lines) + "\n"


def per_step(v):
    return "–" if v is None else f"{v:,.0f}"


def render_train(results):
    """The training-step table: forward (training, recording) + backward, this library against
    oneDNN and PyTorch autograd, or None when the results have no training rows."""
    rows = results.get("train_rows") or []
    if not rows:
        return None
    info = results.get("info", {})
    by_impl = {}
    for k, v in info.items():
        if ".onednn_train_impl." in k:
            cell = k.split(".onednn_train_impl.", 1)[1].split("-", 1)[1]
            by_impl.setdefault(v, set()).add(CELLS.get(cell, cell))
    impl_text = "; ".join(f"`{i}` for {', '.join(sorted(by_impl[i]))}" for i in sorted(by_impl))
    formats = sorted({v for k, v in info.items() if ".onednn_train_weights." in k})
    diffs = {}
    for row in rows:
        for impl in ("onednn", "torch", "eigen", "recurrent"):
            d = (row.get(impl) or {}).get("max_rel_diff")
            if d is not None:
                diffs[impl] = max(diffs.get(impl, 0.0), d)
    have_eigen = any(median_of(r, "eigen") is not None for r in rows)
    lines = []
    add = lines.append
    add("Training step: one layer's training forward (full output sequence, zero initial state, no "
        "dropout; this library: `call` with `training` and `record`) and its backward for an "
        "upstream gradient dY [B, T, H] (uniform ±1, the same for every implementation), giving dX "
        "and the gradients of the kernel, the recurrent kernel and the bias; workloads W2–W4, "
        "float32, the same machine, build, timing method (median of N timed steps) and threads as "
        "above. This library: `backward` into reused `RNNGradients`. "
        f"**oneDNN**: `forward_training` + `lstm_backward` / `gru_backward` / `lbr_gru_backward` / "
        f"`vanilla_rnn_backward` with the forward's workspace; implementations (forward / backward) "
        f"{impl_text or '?'}; weights reordered once, outside the timed region, to the layouts each "
        f"primitive asked for ({', '.join(f'`{x}`' for x in formats) or '?'}); timed: zeroing the "
        "weight gradients (oneDNN accumulates into them) + forward `execute` + backward `execute` + "
        "`stream::wait`. **PyTorch** autograd: `x.requires_grad_()`, `out, _ = rnn(x)`, "
        "`out.backward(dY)` in train mode; timed: `zero_grad(set_to_none=True)` + forward + "
        "backward (no reset-before GRU: –)."
        + (" Eigen: the baseline above with a hand-written BPTT in Eigen GEMMs." if have_eigen else ""))
    add("")
    add(f"Agreement: every peer's output sequence, dX and weight gradients, mapped to TF.js layout, "
        f"against this library's, as max |diff| / max(1, max |ours|) per tensor; largest: oneDNN "
        f"{diffs.get('onednn', float('nan')):.1e}, PyTorch {diffs.get('torch', float('nan')):.1e}"
        + (f", Eigen {diffs.get('eigen', float('nan')):.1e}" if have_eigen else "")
        + (f", this library with 2 threads against 1 {diffs['recurrent']:.1e}"
           if "recurrent" in diffs else "")
        + f" (limit {results.get('train_tolerance', 1e-3):g}). Bytes per (sample, step) kept for the "
        "backward: this library's `recordedBytes()` (its inputs included) and oneDNN's workspace "
        "(`workspace_desc().get_size()`, the inputs not included: the backward reads the caller's "
        "x), each / (B·T).")
    add("")
    add("Ratios are other / recurrent: **> 1 means this library is faster**.")
    add("")
    head = ("| workload (B, T, I, H) | cell | threads | recurrent µs | oneDNN µs | PyTorch µs | "
            + ("Eigen µs | " if have_eigen else "") + "oneDNN / rec. | PyTorch / rec. | "
            + ("Eigen / rec. | " if have_eigen else "")
            + "recorded B / (sample·step) | oneDNN workspace B / (sample·step) |")
    add(head)
    add("|---|---|" + "--:|" * (head.count("|") - 3))
    for row in rows:
        rec = median_of(row, "recurrent")
        one, tor, eig = (median_of(row, k) for k in ("onednn", "torch", "eigen"))
        add(f"| {row['workload']} ({row['batch']}, {row['time']}, {row['input']}, {row['units']}) "
            f"| {CELLS.get(row['cell'], row['cell'])} | {row['threads']} | {us(rec)} | {us(one)} | "
            f"{us(tor)} | " + (f"{us(eig)} | " if have_eigen else "")
            + f"{ratio(one, rec)} | {ratio(tor, rec)} | "
            + (f"{ratio(eig, rec)} | " if have_eigen else "")
            + f"{per_step(row.get('recorded_bytes_per_step'))} | "
            f"{per_step(row.get('onednn_workspace_bytes_per_step'))} |")
    return "\n".join(lines) + "\n"


FIT_CELLS = {
    "LSTM": "LSTM",
    "GRU": "GRU (reset before, TF.js)",
    "GRU-ra": "GRU (reset after)",
}
LOSSES = {"categoricalCrossentropy": "softmax + CCE", "meanSquaredError": "linear + MSE"}


def rate(v):
    if v is None:
        return "–"
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def render_fit(results, build_dir):
    """The fit table: samples per second of an epoch of model.fit, this library against PyTorch
    and TF.js's cpu backend, or None when the results have no fit rows."""
    rows = results.get("fit_rows") or []
    if not rows:
        return None
    info = results.get("info", {})
    compiler_text, flags = compiler_and_flags(build_dir)
    threads = results.get("threads", [1, 2])
    diffs = {}
    for row in rows:
        for impl in ("torch", "tfjs", "recurrent"):
            d = (row.get(impl) or {}).get("loss_rel_diff")
            if d is not None:
                diffs[impl] = max(diffs.get(impl, 0.0), d)
    ft1 = "fit.t1."
    provider = info.get(ft1 + "torch_sgemm_from", "?")
    torch_threads = ", ".join(f"{n}: {info.get(f'fit.t{n}.torch_fit_threads', '?')} / OpenBLAS "
                              f"{info.get(f'fit.t{n}.openblas_threads', '?')}" for n in threads)
    lines = []
    add = lines.append
    add(f"Training: an epoch (`model.fit`). Measured "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d} with `side_by_side` (`bash "
        "scripts/bench.sh`, or `side_by_side --fit-only`); every peer in the same run, on the same "
        "data and initial weights (written once by the runner, read by each peer).")
    add("")
    add(f"- **Machine**: {cpu_description()}; {os_description()}. Load (1-minute average) at the "
        f"start / end of the run: {info.get('loadavg_start', '?')} / {info.get('loadavg_end', '?')} "
        f"on {os.cpu_count()} CPUs: other work on the machine slows the 2-thread rows most (a "
        "descheduled thread stalls the others; PyTorch's OpenMP and this library's thread team "
        "alike).")
    add(f"- **This library**: {compiler_text}, `{flags}`; `sequential` (io/layers.hpp) of the "
        "recurrent layer (`recurrentActivation` sigmoid) and Dense, `compile` with "
        "`train::adam<float>(1e-3)` and the loss, `fit` with `FitArgs{epochs = 1, batchSize, "
        "shuffle = false}`; threads: the recurrent layer's, `LoadOptions::threads` (Dense, loss and "
        "optimizer on the calling thread).")
    add(f"- **PyTorch** {info.get(ft1 + 'torch_version', '?')} (`torch_fit.py`): `nn.LSTM` / "
        "`nn.GRU` (batch_first; the LSTM's `b_hh` zero and frozen, as TF.js has one bias) + "
        "`nn.Linear` on the last step; softmax, then TF.js's clipped log (−Σ y·log(clip(p, 1e-7, "
        "1 − 1e-7)), not log_softmax + NLL: the same maths up to the ε clip) or MSE; "
        "`torch.optim.Adam(lr=1e-3, eps=1e-7)`; per batch `zero_grad(set_to_none=True)`, forward, "
        f"loss, `backward`, `step`. BLAS: {info.get(ft1 + 'openblas_config', '?')} (`sgemm_` from "
        f"`{'/'.join(provider.split('/')[-2:])}`, {info.get(ft1 + 'torch_sgemm_gflops', '?')} "
        f"GFLOP/s on one thread); `torch.set_num_threads` / OpenBLAS threads in effect — "
        f"{torch_threads}.")
    add(f"- **TF.js** {info.get('t1.tfjs_version', '?')} (`@tensorflow/tfjs`, Node.js "
        f"{info.get('t1.tfjs_node_version', '?')}, `tf.setBackend('cpu')`: the pure-JS kernels, "
        "**one thread**, so only in the 1-thread rows) (`tfjs_fit.js`): the same "
        "`tf.sequential`, `tf.train.adam(1e-3)`, `model.fit(x, y, {epochs: 1, batchSize, "
        "shuffle: false})`.")
    add(f"- **Method**: float32; one untimed warm-up epoch, then {results.get('fit_epochs', 5)} "
        "timed epochs (one `fit` call each); **median** wall time per epoch → samples/s. Checked: "
        "every epoch's loss of each peer against this library's (relative): PyTorch "
        f"{diffs.get('torch', float('nan')):.1e}, TF.js {diffs.get('tfjs', float('nan')):.1e}, "
        f"this library with 2 threads against 1 {diffs.get('recurrent', float('nan')):.1e} (limit "
        f"{results.get('fit_tolerance', 1e-3):g}). PyTorch has no reset-before GRU, TF.js no "
        "reset-after GRU (–).")
    add("")
    add("Samples per second; ratios are recurrent / other: **> 1 means this library is faster**.")
    add("")
    add("| model | cell | samples, batch | T, I, H → out | threads | recurrent samples/s | "
        "PyTorch samples/s | TF.js samples/s | rec. / PyTorch | rec. / TF.js |")
    add("|---|---|--:|---|--:|--:|--:|--:|--:|--:|")
    subsets = set()
    for row in rows:
        rec = (row.get("recurrent") or {}).get("samples_per_s")
        tor = (row.get("torch") or {}).get("samples_per_s")
        tfj = (row.get("tfjs") or {}).get("samples_per_s")
        tfjs_samples = (row.get("tfjs") or {}).get("epoch_samples", row["samples"])
        mark = ""
        if tfj is not None and tfjs_samples < row["samples"]:
            mark = " *"
            subsets.add(tfjs_samples)
        add(f"| {row['model']} | {FIT_CELLS.get(row['cell'], row['cell'])} | {row['samples']}, "
            f"{row['batch']} | {row['time']}, {row['input']}, {row['units']} → {row['outputs']} "
            f"{LOSSES.get(row['loss'], row['loss'])} | {row['threads']} | {rate(rec)} | "
            f"{rate(tor)} | {rate(tfj)}{mark} | {ratio(rec, tor)} | {ratio(rec, tfj)} |")
    if subsets:
        add("")
        add(f"\\* TF.js's cpu backend takes minutes per W3 epoch: its epochs there are the first "
            f"{', '.join(str(n) for n in sorted(subsets))} samples (whole batches, so the rate per "
            "sample is the full epoch's); its losses are checked against this library's on the "
            "same subset.")
    return "\n".join(lines) + "\n"


def rewrite_fit(readme_text, body):
    """Puts `body` between the fit markers (added after the training block if missing)."""
    block = f"{FIT_BEGIN}\n{body}{FIT_END}"
    if FIT_BEGIN in readme_text and FIT_END in readme_text:
        start = readme_text.index(FIT_BEGIN)
        end = readme_text.index(FIT_END, start) + len(FIT_END)
        return readme_text[:start] + block + readme_text[end:]
    anchor = TRAIN_END if TRAIN_END in readme_text else END
    at = readme_text.index(anchor) + len(anchor)
    return readme_text[:at] + "\n\n" + block + readme_text[at:]


def rewrite_train(readme_text, body):
    """Puts `body` between the training markers (added after the perf-table block if missing)."""
    block = f"{TRAIN_BEGIN}\n{body}{TRAIN_END}"
    if TRAIN_BEGIN in readme_text and TRAIN_END in readme_text:
        start = readme_text.index(TRAIN_BEGIN)
        end = readme_text.index(TRAIN_END, start) + len(TRAIN_END)
        return readme_text[:start] + block + readme_text[end:]
    at = readme_text.index(END) + len(END)  # rewrite() has put the perf-table block in
    return readme_text[:at] + "\n\n" + block + readme_text[at:]


def rewrite(readme_text, body):
    block = f"{BEGIN}\n{body}{END}"
    if BEGIN in readme_text and END in readme_text:
        start = readme_text.index(BEGIN)
        end = readme_text.index(END, start) + len(END)
        return readme_text[:start] + block + readme_text[end:]
    m = re.search(r"^## Performance[^\n]*\n", readme_text, flags=re.M)
    if m:
        nxt = re.search(r"^## ", readme_text[m.end():], flags=re.M)
        stop = m.end() + nxt.start() if nxt else len(readme_text)
        return readme_text[:m.end()] + "\n" + block + "\n\n" + readme_text[stop:]
    section = f"## Performance\n\n{block}\n\n"
    m = re.search(r"^## Documentation", readme_text, flags=re.M)
    if m:
        return readme_text[:m.start()] + section + readme_text[m.start():]
    return readme_text.rstrip("\n") + "\n\n" + section


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", required=True, help="side_by_side --json output")
    parser.add_argument("--build-dir", required=True, help="the benchmark build (CMakeCache.txt)")
    parser.add_argument("--streaming", help="benchmarks/streaming --json output (optional)")
    parser.add_argument("--readme", default="README.md")
    parser.add_argument("--print", action="store_true", help="print the section, write nothing")
    args = parser.parse_args()
    with open(args.results) as f:
        results = json.load(f)
    streaming = None
    if args.streaming:
        with open(args.streaming) as f:
            streaming = json.load(f)
    # Results without inference rows (side_by_side --train-only) leave the perf-table block alone.
    body = render(results, args.build_dir, streaming) if results.get("rows") else None
    train_body = render_train(results)
    fit_body = render_fit(results, args.build_dir)
    if args.print:
        sys.stdout.write((body or "") + ("\n" + train_body if train_body else "")
                         + ("\n" + fit_body if fit_body else ""))
        return
    with open(args.readme, encoding="utf-8") as f:
        text = f.read()
    new = rewrite(text, body) if body else text
    if (train_body or fit_body) and END not in new:
        new = rewrite(new, "")  # the other blocks go after the (here empty) perf-table block
    if train_body:
        new = rewrite_train(new, train_body)
    if fit_body:
        new = rewrite_fit(new, fit_body)
    with open(args.readme, "w", encoding="utf-8") as f:
        f.write(new)
    print(f"update_readme: {args.readme} performance section regenerated "
          f"({'changed' if new != text else 'unchanged'})")


if __name__ == "__main__":
    main()
