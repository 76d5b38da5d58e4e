"""Run the generated PyTorch (and Keras, when installed) code with ConvScope's exported weights and
compare it with the engine: same parameter count, same outputs (max abs difference < 1e-4).

    python bench/codegen_check.py                 # needs torch (and optionally keras) importable
    python bench/codegen_check.py --images 256

torch is not a dependency of ConvScope: run this from a separate environment that has it, e.g.
``python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy numba Pillow`` and
``/tmp/torchenv/bin/python bench/codegen_check.py``; add ``keras`` to that venv to check the Keras code
too (it runs on the torch backend). Rows: the lenet5, keras_mnist and hongong
presets, plus a model that uses every other layer class and option the code generator handles
(convolution mode, 'same' padding with stride 2, padded pooling, LeakyReLU, Tanh, Sigmoid, Softmax).
The images are the first MNIST/Fashion-MNIST test images when the files are found, else seeded noise.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.codegen import export_weights, keras_code, pytorch_code  # noqa: E402
from engine.layers import (  # noqa: E402
    AveragePooling2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    LeakyReLU,
    MaxPooling2D,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from engine.network import Sequential  # noqa: E402
from engine.presets import PRESETS, build_preset  # noqa: E402

TOLERANCE = 1e-4


def every_layer_model() -> Sequential:
    model = Sequential([
        Conv2D(4, 3, padding="same", strides=2, activation="leaky_relu", mode="convolution"),
        MaxPooling2D(3, strides=2, padding="same"),
        Conv2D(6, 3, padding=1, activation="tanh"),
        ReLU(),
        AveragePooling2D(3, strides=2, padding="same"),
        Conv2D(5, 2, activation="sigmoid", use_bias=False),
        LeakyReLU(0.1),
        Flatten(),
        Dropout(0.3),
        Dense(12, activation="relu"),
        Tanh(),
        Sigmoid(),
        Dense(10),
        Softmax(),
    ], name="every_layer")
    return model.build((1, 28, 28), seed=3)


def images(dataset: str, n: int, data_dir: Path | None) -> np.ndarray:
    from engine.datasets import load_dataset
    from engine.errors import DatasetError

    folder = {"mnist": "mnist", "fashion_mnist": "fashion-mnist"}[dataset]
    for base in (data_dir, ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data"):
        if base is not None and (base / folder).is_dir():
            try:
                return load_dataset(dataset, data_dir=base / folder, download=False).x_test[:n].astype(np.float32) / 255
            except DatasetError:
                break
    return np.random.default_rng(0).random((n, 1, 28, 28), dtype=np.float32)


def run_torch(model: Sequential, x: np.ndarray, workdir: Path):
    import torch

    source = pytorch_code(model)
    namespace = {"__name__": "generated_pytorch"}
    exec(compile(source, f"{model.name}_pytorch.py", "exec"), namespace)  # noqa: S102 - our own generated code
    net = namespace["model"]
    path = export_weights(model, workdir / f"{model.name}_weights_pytorch.npz", "pytorch")
    namespace["load_convscope_weights"](net, str(path))
    net.eval()
    with torch.no_grad():
        out = net(torch.from_numpy(x)).numpy()
    return sum(p.numel() for p in net.parameters()), out


def run_keras(model: Sequential, x: np.ndarray, workdir: Path):
    import keras

    source = keras_code(model)
    namespace = {"__name__": "generated_keras"}
    exec(compile(source, f"{model.name}_keras.py", "exec"), namespace)  # noqa: S102 - our own generated code
    net = namespace["model"]
    path = export_weights(model, workdir / f"{model.name}_weights_keras.npz", "keras")
    namespace["load_convscope_weights"](net, str(path))
    out = keras.ops.convert_to_numpy(net(np.transpose(x, (0, 2, 3, 1)), training=False))
    return int(net.count_params()), out


def main(argv=None) -> int:
    # Keras 3 runs on whichever backend is installed; torch is the one this check needs anyway
    if importlib.util.find_spec("torch") is not None:
        os.environ.setdefault("KERAS_BACKEND", "torch")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=128)
    p.add_argument("--data-dir", type=Path, default=None, help="folder holding mnist/ and fashion-mnist/")
    args = p.parse_args(argv)
    frameworks = [name for name, module in (("pytorch", "torch"), ("keras", "keras"))
                  if importlib.util.find_spec(module) is not None]
    if not frameworks:
        print("neither torch nor keras is importable: nothing to check (see the docstring for a venv)")
        return 0
    runners = {"pytorch": run_torch, "keras": run_keras}
    cases = [(key, build_preset(key, seed=1), PRESETS[key].dataset) for key in ("lenet5", "keras_mnist", "hongong")]
    cases.append(("every_layer", every_layer_model(), "mnist"))
    failures = 0
    print(f"{'model':<12} {'framework':<9} {'params engine':>13} {'params code':>11} {'max |diff|':>11}  result")
    with tempfile.TemporaryDirectory() as tmp:
        for key, model, dataset in cases:
            x = images(dataset, args.images, args.data_dir)
            expected = model.forward(x, training=False)
            for framework in frameworks:
                params, out = runners[framework](model, x, Path(tmp))
                diff = float(np.max(np.abs(out - expected)))
                ok = params == model.total_params and diff < TOLERANCE
                failures += not ok
                print(f"{key:<12} {framework:<9} {model.total_params:>13,} {params:>11,} {diff:>11.2e}  "
                      f"{'ok' if ok else 'MISMATCH'}")
    print(f"{len(cases)} models x {len(frameworks)} framework(s), {args.images} images each, "
          f"tolerance {TOLERANCE:g}: {'all match' if not failures else f'{failures} mismatch(es)'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
