"""Training speed of ConvScope's engine against PyTorch on the CPU, side by side in one run.

    python bench/speed.py                       # W1-W3, 5 alternating rounds of ~2 s per framework
    python bench/speed.py --workloads W2 --rounds 9 --seconds 3
    python bench/speed.py --no-torch            # the engine alone (PyTorch not installed)

Workloads (issue 3), 28x28x1 inputs, 10 classes:
    W1  LeNet-5: conv 6@5x5 pad 2 relu, maxpool 2, conv 16@5x5 relu, maxpool 2, dense 120 relu,
        dense 84 relu, dense 10; batch 64, SGD (lr 0.01)
    W2  Keras-book convnet: conv 32@3x3 relu, maxpool 2, conv 64@3x3 relu, maxpool 2, conv 64@3x3 relu,
        dense 64 relu, dense 10; batch 64, Adam
    W3  hongong convnet: conv 32@3x3 same relu, maxpool 2, conv 64@3x3 same relu, maxpool 2,
        dense 100 relu, dropout 0.4, dense 10; batch 32, Adam
    W4  TinyVGG (CNN Explainer, the engine's ``tinyvgg`` preset) on 64x64x3 colour images: two blocks of
        two conv 10@3x3 relu and a maxpool 2, dense 10; batch 32, Adam (the colour workload)

``--profile`` adds, per workload, where the time of one step goes (``bench/step_profile.py``): every
layer's forward and backward, the batch gather, the loss and the optimizer, in ms per batch, share of
the step and GFLOP/s, with each convolution's phases (columns, GEMMs, bias + ReLU, col2im) timed in
isolation, next to numpy's sgemm measured in the same run. It also prints the time to classify one
dropped image (decode + preprocess + forward) for the MNIST-sized models.

ConvScope trains through the engine's real ``Trainer.step()`` (the code path the GUI runs): batch
gathered from uint8 pixels and scaled by 1/255, forward, softmax cross-entropy, backward, optimizer
step, accuracy count. PyTorch (``torch.set_num_threads(2)``, the same models, initial weights copied
from ours) does the same per batch: gather uint8, scale, forward, loss, backward, step, ``loss.item()``
and the accuracy count. Rounds alternate between the two so that load from other processes on a
shared machine hits both alike; the table gives the median images/s of each and the ratio of the
medians, with the spread of the per-round ratios.

PyTorch is a benchmark-only dependency (``pip install torch``); the engine never imports it.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import kernels  # noqa: E402
from engine.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D  # noqa: E402
from engine.network import Sequential  # noqa: E402
from engine.optimizers import SGD, Adam  # noqa: E402
from engine.training import Trainer  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import step_profile  # noqa: E402

MNIST_SHAPE = (1, 28, 28)
COLOUR_SHAPE = (3, 64, 64)
NUM_CLASSES = 10


def _w1():
    return [
        Conv2D(6, 5, padding=2, activation="relu"), MaxPooling2D(2),
        Conv2D(16, 5, activation="relu"), MaxPooling2D(2),
        Flatten(), Dense(120, activation="relu"), Dense(84, activation="relu"), Dense(NUM_CLASSES),
    ]


def _w2():
    return [
        Conv2D(32, 3, activation="relu"), MaxPooling2D(2),
        Conv2D(64, 3, activation="relu"), MaxPooling2D(2),
        Conv2D(64, 3, activation="relu"),
        Flatten(), Dense(64, activation="relu"), Dense(NUM_CLASSES),
    ]


def _w3():
    return [
        Conv2D(32, 3, padding="same", activation="relu"), MaxPooling2D(2),
        Conv2D(64, 3, padding="same", activation="relu"), MaxPooling2D(2),
        Flatten(), Dense(100, activation="relu"), Dropout(0.4), Dense(NUM_CLASSES),
    ]


def _w4():
    from engine.presets import PRESETS

    return PRESETS["tinyvgg"].layers(NUM_CLASSES)


# name -> (title, layers, batch size, optimizer name, input shape)
WORKLOADS = {
    "W1": ("LeNet-5, b64, SGD", _w1, 64, "sgd", MNIST_SHAPE),
    "W2": ("Keras-book, b64, Adam", _w2, 64, "adam", MNIST_SHAPE),
    "W3": ("hongong, b32, Adam", _w3, 32, "adam", MNIST_SHAPE),
    "W4": ("TinyVGG 64x64x3, b32, Adam", _w4, 32, "adam", COLOUR_SHAPE),
}


def make_data(batch_size: int, shape=MNIST_SHAPE, batches: int = 100, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = batch_size * batches
    x = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    y = rng.integers(0, NUM_CLASSES, size=n).astype(np.int64)
    return x, y


# ------------------------------------------------------------------------------------------------
# ConvScope
# ------------------------------------------------------------------------------------------------


class EngineRunner:
    def __init__(self, key: str, x, y):
        title, layers, self.batch_size, opt, shape = WORKLOADS[key]
        self.model = Sequential(layers(), name=key).build(shape, seed=0)
        optimizer = SGD(0.01) if opt == "sgd" else Adam(0.001)
        self.trainer = Trainer(self.model, optimizer, x, y, batch_size=self.batch_size, epochs=10**6, seed=0)

    def run(self, seconds: float, clock=time.perf_counter) -> float:
        trainer = self.trainer
        steps = 0
        t0 = clock()
        while True:
            trainer.step()
            steps += 1
            elapsed = clock() - t0
            if elapsed >= seconds and steps >= 5:
                return steps * self.batch_size / elapsed


# ------------------------------------------------------------------------------------------------
# PyTorch
# ------------------------------------------------------------------------------------------------


def _torch_model(key: str, engine_model: Sequential):
    import torch
    from torch import nn

    modules = []
    for layer in engine_model.layers:
        kind = type(layer).__name__
        if kind == "Conv2D":
            w = layer.params["W"]
            top, bottom, left, right = layer.padding_pixels
            if (top, left) != (bottom, right):
                raise SystemExit(f"{key}: asymmetric padding has no nn.Conv2d equivalent")
            conv = nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], stride=layer._stride, padding=(top, left))
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(w))
                conv.bias.copy_(torch.from_numpy(layer.params["b"]))
            modules.append(conv)
        elif kind == "MaxPooling2D":
            modules.append(nn.MaxPool2d(layer._pool, layer._stride))
        elif kind == "Flatten":
            modules.append(nn.Flatten())
        elif kind == "Dense":
            w = layer.params["W"]
            dense = nn.Linear(w.shape[0], w.shape[1])
            with torch.no_grad():
                dense.weight.copy_(torch.from_numpy(w.T.copy()))
                dense.bias.copy_(torch.from_numpy(layer.params["b"]))
            modules.append(dense)
        elif kind == "Dropout":
            modules.append(nn.Dropout(float(layer.rate)))
        else:
            raise SystemExit(f"{key}: no PyTorch twin for {kind}")
        if getattr(layer, "activation", None) == "relu":
            modules.append(nn.ReLU())
    return nn.Sequential(*modules)


class TorchRunner:
    def __init__(self, key: str, x, y, engine_model: Sequential):
        import torch

        self.torch = torch
        _, _, self.batch_size, opt, _ = WORKLOADS[key]
        self.model = _torch_model(key, engine_model)
        self.model.train()
        params = self.model.parameters()
        self.optimizer = torch.optim.SGD(params, lr=0.01) if opt == "sgd" else torch.optim.Adam(params, lr=0.001, eps=1e-7)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.x = torch.from_numpy(x)
        self.y = torch.from_numpy(y)
        self.perm = torch.from_numpy(np.random.default_rng(0).permutation(len(x)))
        self.pos = 0

    def step(self):
        bs = self.batch_size
        if self.pos + bs > len(self.perm):
            self.pos = 0
        idx = self.perm[self.pos:self.pos + bs]
        self.pos += bs
        xb = self.x[idx].float().mul_(1 / 255)
        yb = self.y[idx]
        self.optimizer.zero_grad(set_to_none=True)
        logits = self.model(xb)
        loss = self.loss_fn(logits, yb)
        loss.backward()
        self.optimizer.step()
        loss.item()
        int((logits.argmax(1) == yb).sum())

    def run(self, seconds: float, clock=time.perf_counter) -> float:
        steps = 0
        t0 = clock()
        while True:
            self.step()
            steps += 1
            elapsed = clock() - t0
            if elapsed >= seconds and steps >= 5:
                return steps * self.batch_size / elapsed


# ------------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default="W1,W2,W3,W4", help="comma-separated subset of W1,W2,W3,W4")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per framework (median taken)")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one round")
    parser.add_argument("--threads", type=int, default=2, help="threads for both frameworks (default 2)")
    parser.add_argument("--no-torch", action="store_true", help="measure the engine only")
    parser.add_argument("--profile", action="store_true", help="also print the engine's per-layer times")
    parser.add_argument("--cpu-time", action="store_true",
                        help="images per CPU-second of the process instead of per wall second (use with "
                             "--threads 1 on a busy machine: waiting for a core then costs neither side)")
    args = parser.parse_args(argv)

    keys = [k.strip().upper() for k in args.workloads.split(",") if k.strip()]
    unknown = [k for k in keys if k not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")

    kernels.set_num_threads(args.threads)
    t = time.perf_counter()
    kernels.warmup()
    print(f"kernels ready in {time.perf_counter() - t:.1f} s (engine threads: {kernels.get_num_threads()}, "
          f"sgemm called from numba: {'yes' if kernels._blas_gemm() is not None else 'no, numpy.matmul'})")

    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: measuring the engine only (pip install torch==2.13.0).")
        else:
            torch.set_num_threads(args.threads)
            print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, numpy {np.__version__}")
    try:
        print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    except OSError:
        pass

    rows = []
    profiles = []
    for key in keys:
        title, _, batch_size, _, shape = WORKLOADS[key]
        x, y = make_data(batch_size, shape)
        ours = EngineRunner(key, x, y)
        theirs = TorchRunner(key, x, y, ours.model) if torch is not None else None
        ours.run(0.5)  # warm caches, page in buffers
        if theirs is not None:
            theirs.run(0.5)
        clock = time.process_time if args.cpu_time else time.perf_counter
        ours_rates, torch_rates = [], []
        for _ in range(args.rounds):
            ours_rates.append(ours.run(args.seconds, clock))
            if theirs is not None:
                torch_rates.append(theirs.run(args.seconds, clock))
        ours_med = float(np.median(ours_rates))
        line = f"{key} {title}: ConvScope {', '.join(f'{r:,.0f}' for r in ours_rates)} img/s"
        if torch_rates:
            line += f" | PyTorch {', '.join(f'{r:,.0f}' for r in torch_rates)} img/s"
        print(line, flush=True)
        torch_med = float(np.median(torch_rates)) if torch_rates else None
        round_ratios = [a / b for a, b in zip(ours_rates, torch_rates)] if torch_rates else []
        rows.append((key, title, ours_med, torch_med, round_ratios))
        if args.profile:
            profiles.append((key, title, ours))

    print()
    unit = "CPU-second" if args.cpu_time else "second"
    print(f"Training images per {unit}, median of {args.rounds} alternating rounds of {args.seconds:g} s "
          f"({args.threads} threads each)")
    header = f"{'workload':<28} {'ConvScope':>10} {'PyTorch':>10} {'ratio':>7}  {'per-round ratios (min-max)':>26}"
    print(header)
    print("-" * len(header))
    for key, title, ours_med, torch_med, ratios in rows:
        if torch_med:
            spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
            print(f"{key + ' ' + title:<28} {ours_med:>10,.0f} {torch_med:>10,.0f} {ours_med / torch_med:>6.2f}x  {spread:>26}")
        else:
            print(f"{key + ' ' + title:<28} {ours_med:>10,.0f} {'-':>10} {'-':>7}")
    try:
        print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    except OSError:
        pass
    if profiles:
        sgemm = (step_profile.sgemm_gflops(1), step_profile.sgemm_gflops(args.threads))
        print(f"\nsgemm (numpy float32 1024^3, same run): {sgemm[0]:.0f} GFLOP/s on 1 thread, "
              f"{sgemm[1]:.0f} on {args.threads}")
        for key, title, ours in profiles:
            step_profile.print_profile(key, title, ours.trainer, args.threads, sgemm)
        print_inference_times(keys)
    return 0


def print_inference_times(keys, repeat: int = 30) -> None:
    """Decode + preprocess + forward of one dropped image file, as the classify panel does (median ms)."""
    import tempfile

    from PIL import Image

    from engine.imaging import load_image, preprocess

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        files = {
            "28x28 PNG": Path(tmp, "digit.png"),
            "640x480 JPEG photo": Path(tmp, "photo.jpg"),
        }
        digit = np.zeros((28, 28), np.uint8)
        digit[6:22, 12:16] = 255
        Image.fromarray(digit).save(files["28x28 PNG"])
        Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)).save(files["640x480 JPEG photo"])
        print("\nClassifying one dropped image (decode + preprocess + forward, median of "
              f"{repeat}, ms; target < 20 ms):")
        print(f"  {'model':<28} {'file':<20} {'fit':>7} {'mnist':>7}")
        for key in keys:
            title, layers, _, _, shape = WORKLOADS[key]
            if shape != MNIST_SHAPE:
                continue
            model = Sequential(layers(), name=key).build(shape, seed=0)
            for label, path in files.items():
                cells = []
                for style in ("fit", "mnist"):
                    times = []
                    for _ in range(repeat):
                        t = time.perf_counter()
                        x = preprocess(load_image(path), input_shape=shape, style=style)
                        model.predict_proba(x)
                        times.append(time.perf_counter() - t)
                    cells.append(float(np.median(times)) * 1e3)
                print(f"  {key + ' ' + title:<28} {label:<20} {cells[0]:7.2f} {cells[1]:7.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
