"""Training options: their defaults, the optimizer and trainer they make, the preset for a dataset."""

from __future__ import annotations

from engine import optimizers
from engine.training import Trainer

STATES = ("idle", "compiling", "training", "paused", "finished", "diverged")

DEFAULT_OPTIONS = {
    "optimizer": "adam",
    "learning_rate": 0.001,
    "momentum": 0.9,
    "batch_size": 64,
    "epochs": 5,
    "seed": 0,
}


def default_preset_for(dataset) -> str:
    """The preset made for ``dataset`` (the book's model for MNIST/Fashion-MNIST), else a small one."""
    if dataset.name == "mnist":
        return "keras_mnist"
    if dataset.name == "fashion_mnist":
        return "hongong"
    shape = tuple(dataset.input_shape)
    return "tinyvgg" if shape[0] == 3 and min(shape[1:]) >= 32 else "shapes_small"


def make_optimizer(options: dict):
    """The optimizer the options name, with their learning rate (and momentum for SGD)."""
    name = str(options["optimizer"]).lower()
    lr = float(options["learning_rate"])
    if name == "sgd":
        return optimizers.SGD(learning_rate=lr, momentum=float(options["momentum"]))
    if name == "rmsprop":
        return optimizers.RMSprop(learning_rate=lr)
    return optimizers.Adam(learning_rate=lr)


def make_trainer(model, dataset, options: dict) -> Trainer:
    """A fresh :class:`~engine.training.Trainer` of ``model`` on ``dataset`` (validation = its test part)."""
    return Trainer(model, make_optimizer(options), dataset.x_train, dataset.y_train, dataset.x_test,
                   dataset.y_test, batch_size=int(options["batch_size"]), epochs=int(options["epochs"]),
                   seed=int(options["seed"]))


def format_learning_rate(lr: float) -> str:
    return f"{lr:.0e}" if lr < 1e-3 else f"{lr:g}"
