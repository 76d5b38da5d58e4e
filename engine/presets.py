"""Textbook architectures, ready to build.

Each preset records where it comes from, the input it was designed for, and the training settings
that reach the book's accuracy (``bench/accuracy.py`` measures them). Descriptions are English; the
GUI translates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.errors import ArchitectureError
from engine.layers import AveragePooling2D, Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from engine.network import Sequential
from engine.optimizers import optimizer_from_config

__all__ = ["Preset", "PRESETS", "build_preset", "preset_optimizer"]


@dataclass(frozen=True)
class Preset:
    """A named architecture and its default training settings.

    ``input_shape`` is the preset's natural input ``(C, H, W)`` (what :func:`build_preset` builds for when
    no shape is given) and ``dataset`` the key of the dataset it is meant for (``"image_folder"`` when the
    model's own data is a folder of pictures, like CNN Explainer's TinyVGG).
    """

    key: str
    display_name: str
    description: str
    input_shape: tuple[int, int, int]
    num_classes: int
    dataset: str
    optimizer: str
    learning_rate: float
    batch_size: int
    epochs: int
    expected_params: int | None  # Keras's total for the book models (None: not from a book)
    optimizer_options: dict = field(default_factory=dict)

    def layers(self, num_classes: int | None = None):
        """Fresh, unbuilt layers of the architecture (the last Dense has ``num_classes`` units)."""
        return _LAYERS[self.key](self.num_classes if num_classes is None else int(num_classes))

    @property
    def title(self) -> str:
        return self.display_name

    @property
    def natural_input_shape(self) -> tuple[int, int, int]:
        """The input the architecture was designed for, ``(C, H, W)`` (the same as ``input_shape``)."""
        return tuple(self.input_shape)


def _lenet5(k):
    # LeCun et al. 1998 with today's usual choices: ReLU instead of the scaled tanh, and the
    # 32x32 input replaced by a 28x28 one padded with 2 pixels (same size out: 28x28x6).
    return [
        Conv2D(6, 5, padding=2, activation="relu"),
        AveragePooling2D(2),
        Conv2D(16, 5, activation="relu"),
        AveragePooling2D(2),
        Flatten(),
        Dense(120, activation="relu"),
        Dense(84, activation="relu"),
        Dense(k),
    ]


def _keras_mnist(k):
    # Chollet, "Deep Learning with Python", 5.1 / 8.1: the first convnet of the book.
    return [
        Conv2D(32, 3, activation="relu"),
        MaxPooling2D(2),
        Conv2D(64, 3, activation="relu"),
        MaxPooling2D(2),
        Conv2D(64, 3, activation="relu"),
        Flatten(),
        Dense(64, activation="relu"),
        Dense(k),
    ]


def _hongong(k):
    # Park Haesun, "혼자 공부하는 머신러닝+딥러닝" (hongong), chapter 8-2: Fashion-MNIST convnet.
    return [
        Conv2D(32, 3, padding="same", activation="relu"),
        MaxPooling2D(2),
        Conv2D(64, 3, padding="same", activation="relu"),
        MaxPooling2D(2),
        Flatten(),
        Dense(100, activation="relu"),
        Dropout(0.4),
        Dense(k),
    ]


def _tinyvgg(k):
    # CNN Explainer's TinyVGG (Wang et al. 2020): 64x64 RGB, two blocks of two convs and a pool.
    return [
        Conv2D(10, 3, activation="relu"),
        Conv2D(10, 3, activation="relu"),
        MaxPooling2D(2),
        Conv2D(10, 3, activation="relu"),
        Conv2D(10, 3, activation="relu"),
        MaxPooling2D(2),
        Flatten(),
        Dense(k),
    ]


def _shapes_small(k):
    # Small enough to train on the generated shapes in seconds, deep enough to show two levels of
    # features (edges, then corners/curves).
    return [
        Conv2D(8, 3, padding="same", activation="relu"),
        MaxPooling2D(2),
        Conv2D(16, 3, padding="same", activation="relu"),
        MaxPooling2D(2),
        Flatten(),
        Dense(32, activation="relu"),
        Dense(k),
    ]


_LAYERS = {
    "lenet5": _lenet5,
    "keras_mnist": _keras_mnist,
    "hongong": _hongong,
    "tinyvgg": _tinyvgg,
    "tinyvgg_colour": _tinyvgg,
    "shapes_small": _shapes_small,
}

PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            "shapes_small", "Small CNN (shapes)",
            "Two small convolution blocks and a dense layer. Trains on the generated shapes in a few seconds, "
            "so you can watch the filters turn into edge detectors.",
            (1, 28, 28), 8, "shapes", "Adam", 0.003, 32, 5, None,
        ),
        Preset(
            "lenet5", "LeNet-5",
            "LeCun's 1998 digit reader: two 5x5 convolutions with average pooling, then three dense layers. "
            "The first convolution pads the 28x28 image by 2 pixels so its output stays 28x28.",
            (1, 28, 28), 10, "mnist", "Adam", 0.001, 64, 10, 61_706,
        ),
        Preset(
            "keras_mnist", "Keras book MNIST convnet",
            "The first convnet of Chollet's 'Deep Learning with Python': three 3x3 convolutions "
            "(32, 64, 64 filters) with max pooling, then Dense(64) and Dense(10). About 99% on MNIST in 5 epochs.",
            (1, 28, 28), 10, "mnist", "RMSprop", 0.001, 64, 5, 93_322,
        ),
        Preset(
            "hongong", "Hongong Fashion-MNIST convnet",
            "The convnet of '혼자 공부하는 머신러닝+딥러닝' chapter 8: two 'same' 3x3 convolutions (32, 64) "
            "with max pooling, Dense(100), Dropout(0.4) and Dense(10). About 92% on Fashion-MNIST.",
            (1, 28, 28), 10, "fashion_mnist", "Adam", 0.001, 32, 10, 333_526,
        ),
        Preset(
            "tinyvgg", "TinyVGG (CNN Explainer)",
            "The model of CNN Explainer: 64x64 color images, two blocks of two 3x3 convolutions with 10 filters "
            "and a max pooling, then one dense layer.",
            (3, 64, 64), 10, "image_folder", "Adam", 0.001, 32, 10, 19_920,
        ),
        Preset(
            "tinyvgg_colour", "TinyVGG on colour shapes",
            "CNN Explainer's TinyVGG on the built-in colour shapes (32x32 RGB, 9 classes): colour and shape together "
            "decide the class. About 99% in 3 epochs, well under a minute.",
            (3, 32, 32), 9, "colour_shapes", "Adam", 0.004, 32, 3, None,
        ),
    )
}


def build_preset(name: str, input_shape: tuple | None = None, num_classes: int | None = None,
                 seed: int = 0) -> Sequential:
    """Build preset ``name`` for ``input_shape`` ``(C, H, W)`` and ``num_classes`` (defaults: the preset's)."""
    preset = PRESETS.get(name)
    if preset is None:
        raise ArchitectureError("unknown_preset", name=name, choices=", ".join(PRESETS))
    shape = tuple(input_shape) if input_shape is not None else preset.input_shape
    k = int(num_classes) if num_classes is not None else preset.num_classes
    model = Sequential(preset.layers(k), name=name)
    model.build(shape, seed=seed)
    return model


def preset_optimizer(name: str):
    """The preset's default optimizer (a new object)."""
    preset = PRESETS[name]
    return optimizer_from_config({"class_name": preset.optimizer,
                                  "config": {"learning_rate": preset.learning_rate, **preset.optimizer_options}})



# Two presets to watch gradients vanish (the gradient panel): the same 8-layer stack with sigmoid or ReLU.
def _deep_dense(activation):
    def layers(k):
        return [Flatten(), *(Dense(32, activation=activation) for _ in range(7)), Dense(k)]
    return layers


_LAYERS.update(deep_sigmoid=_deep_dense("sigmoid"), deep_relu=_deep_dense("relu"))
PRESETS.update(
    deep_sigmoid=Preset(
        "deep_sigmoid", "Deep sigmoid network (vanishing gradients)",
        "Seven Dense(32) layers with sigmoid, then Dense(10). Each sigmoid passes back at most a quarter of the "
        "gradient, so the first layers barely learn: compare the gradient sizes per layer with the ReLU twin.",
        (1, 28, 28), 10, "mnist", "SGD", 0.1, 64, 5, None,
    ),
    deep_relu=Preset(
        "deep_relu", "Deep ReLU network",
        "The same seven Dense(32) layers with ReLU, then Dense(10). ReLU passes the gradient unchanged where "
        "a unit is active, so every layer learns: the twin of the deep sigmoid network.",
        (1, 28, 28), 10, "mnist", "SGD", 0.1, 64, 5, None,
    ),
)
