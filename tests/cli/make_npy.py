#!/usr/bin/env python3
"""Writes the .npy inputs of the recurrent-predict and recurrent-train CLI tests (tests/cli/*.npy)
from the golden reference.json / train.json files, without NumPy (the format is simple: magic, version, a little-endian header
length, a Python-literal dict padded to a multiple of 64 bytes, then the raw data).

    python3 tests/cli/make_npy.py      # from anywhere; rewrites the files next to this script

Deterministic: a re-run is byte-identical.
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "models")
FIT = os.path.join(HERE, "..", "golden", "fit")

FORMATS = {"<f4": "<f", "<f8": "<d", "<i4": "<i", "<i8": "<q", "|u1": "<B", "|i1": "<b",
           "<u2": "<H", "<i2": "<h", ">f4": ">f"}


def npy_bytes(values, shape, descr, version=1, fortran=False):
    shape_text = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    header = ("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }"
              % (descr, "True" if fortran else "False", shape_text))
    prefix = 10 if version == 1 else 12
    total = prefix + len(header) + 1
    header += " " * ((64 - total % 64) % 64) + "\n"
    length = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    data = b"".join(struct.pack(FORMATS[descr], v) for v in values)
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode("latin1") + data


def first_inputs(source, case):
    with open(os.path.join(MODELS, source, case, "reference.json")) as f:
        return json.load(f)["calls"][0]["inputs"]


def write(name, blob):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(blob)


def main():
    x = first_inputs("keras", "lstm_from_torch")[0]
    write("lstm_from_torch.f4.npy", npy_bytes(x["data"], x["shape"], "<f4", version=1))
    write("lstm_from_torch.f8.v2.npy", npy_bytes(x["data"], x["shape"], "<f8", version=2))
    # Errors: Fortran order, big-endian dtype, data shorter than the shape needs.
    write("fortran_order.npy", npy_bytes(x["data"], x["shape"], "<f4", fortran=True))
    write("big_endian.npy", npy_bytes(x["data"], x["shape"], ">f4"))
    write("truncated.npy", npy_bytes(x["data"], x["shape"], "<f4")[:-6])

    ids = first_inputs("tfjs", "quant_uint8_embedding_gru_dense")[0]
    ints = [int(v) for v in ids["data"]]
    write("embedding_ids.i8.v3.npy", npy_bytes(ints, ids["shape"], "<i8", version=3))
    write("embedding_ids.u1.npy", npy_bytes(ints, ids["shape"], "|u1"))

    x, h0 = first_inputs("tfjs", "functional_gru_initial_state")
    write("gru_initial_state.x.f4.npy", npy_bytes(x["data"], x["shape"], "<f4"))
    write("gru_initial_state.h0.f4.npy", npy_bytes(h0["data"], h0["shape"], "<f4"))

    # recurrent-train: the training inputs of a TF.js fit case (its targets are written as JSON
    # {"outputs": [...]} at configure time).
    with open(os.path.join(FIT, "lstm_softmax_adam_cce", "train.json")) as f:
        x = json.load(f)["data"]["x"][0]
    write("fit_lstm_softmax.x.f4.npy", npy_bytes(x["data"], x["shape"], "<f4"))


if __name__ == "__main__":
    main()
