"""Optimizers with Keras's update rules and defaults.

An optimizer updates a list of parameter arrays in place from a list of gradient arrays of the same
shapes. A :class:`~engine.network.Sequential` hands over one flat buffer holding every parameter,
so a step is one pass of a numba kernel (:mod:`engine.update_kernels`) whatever the number of layers;
the numpy code in each ``_apply`` is the same rule for other dtypes and the reference the kernels are
tested against (bit for bit). Scratch arrays are allocated on the first step and reused.
"""

from __future__ import annotations

import numpy as np

from engine import update_kernels as uk
from engine.errors import ConvScopeError

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "OPTIMIZERS", "optimizer_from_config"]


class Optimizer:
    """Base class. ``learning_rate`` may be changed between steps (e.g. from a GUI slider)."""

    def __init__(self, learning_rate: float):
        self.learning_rate = float(learning_rate)
        self.iterations = 0
        self._state: list[dict[str, np.ndarray]] | None = None

    # Keras spelling and the short one both work
    @property
    def lr(self) -> float:
        return self.learning_rate

    @lr.setter
    def lr(self, value: float) -> None:
        self.learning_rate = float(value)

    def reset(self) -> None:
        """Forget the moment estimates (after a divergence or when the weights are replaced)."""
        self._state = None
        self.iterations = 0

    def _slots(self) -> tuple[str, ...]:
        return ()

    def update(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Apply one step: ``params[i]`` is updated in place from ``grads[i]``."""
        if self._state is None or len(self._state) != len(params) or any(
            s["tmp"].shape != p.shape or s["tmp"].dtype != p.dtype for s, p in zip(self._state, params)
        ):
            self._state = [
                {name: np.zeros_like(p) for name in (*self._slots(), "tmp")} for p in params
            ]
        self.iterations += 1
        for p, g, s in zip(params, grads, self._state):
            self._apply(p, g, s)

    def _apply(self, p, g, s) -> None:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"class_name": type(self).__name__, "config": self._hyper()}

    def _hyper(self) -> dict:
        return {"learning_rate": self.learning_rate}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._hyper().items())})"


class SGD(Optimizer):
    """Stochastic gradient descent (Keras: ``learning_rate=0.01, momentum=0.0, nesterov=False``).

    ``v = momentum * v - lr * g``; ``w += v`` (or ``w += momentum * v - lr * g`` with Nesterov).
    """

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False):
        super().__init__(learning_rate)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _slots(self):
        return ("velocity",)

    def _apply(self, p, g, s):
        lr = p.dtype.type(self.learning_rate)
        if uk.usable(p, g, s["velocity"]):
            uk.sgd_update(p, g, s["velocity"], lr, np.float32(self.momentum), bool(self.nesterov))
            return
        tmp = s["tmp"]
        np.multiply(g, lr, out=tmp)
        if self.momentum == 0.0:
            p -= tmp
            return
        v = s["velocity"]
        m = p.dtype.type(self.momentum)
        v *= m
        v -= tmp
        if self.nesterov:
            p -= tmp
            np.multiply(v, m, out=tmp)
            p += tmp
        else:
            p += v

    def _hyper(self):
        return {"learning_rate": self.learning_rate, "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Keras: ``learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7``).

    ``m += (1 - b1) (g - m)``; ``v += (1 - b2) (g^2 - v)``;
    ``w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``.
    """

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7):
        super().__init__(learning_rate)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)

    def _slots(self):
        return ("m", "v")

    def update(self, params, grads):
        t = self.iterations + 1
        self._alpha = self.learning_rate * np.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        super().update(params, grads)

    def _apply(self, p, g, s):
        f = p.dtype.type
        m, v, tmp = s["m"], s["v"], s["tmp"]
        if uk.usable(p, g, m, v):
            uk.adam_update(p, g, m, v, f(1 - self.beta_1), f(1 - self.beta_2), f(self.epsilon),
                   f(self._alpha))
            return
        np.subtract(g, m, out=tmp)
        tmp *= f(1 - self.beta_1)
        m += tmp
        np.multiply(g, g, out=tmp)
        tmp -= v
        tmp *= f(1 - self.beta_2)
        v += tmp
        np.sqrt(v, out=tmp)
        tmp += f(self.epsilon)
        np.divide(m, tmp, out=tmp)
        tmp *= f(self._alpha)
        p -= tmp

    def _hyper(self):
        return {"learning_rate": self.learning_rate, "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class RMSprop(Optimizer):
    """RMSprop (Keras: ``learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7``), the optimizer of
    Chollet's book: ``v = rho v + (1 - rho) g^2``; ``w -= lr * g / sqrt(v + eps)``.

    Epsilon sits inside the square root as in Keras 3 (and TensorFlow's ``ApplyRMSProp``), not added to
    ``sqrt(v)`` as in Adam: with a tiny gradient the two differ by orders of magnitude (``g = 1e-5``:
    a step of ``0.03 lr`` here, ``3 lr`` with ``sqrt(v) + eps``), and a student comparing with Keras
    must see the same numbers. With ``momentum``: ``mom = momentum mom + step``; ``w -= mom``."""

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, epsilon: float = 1e-7, momentum: float = 0.0):
        super().__init__(learning_rate)
        self.rho = float(rho)
        self.epsilon = float(epsilon)
        self.momentum = float(momentum)

    def _slots(self):
        return ("v", "velocity")

    def _apply(self, p, g, s):
        f = p.dtype.type
        v, tmp = s["v"], s["tmp"]
        if uk.usable(p, g, v, s["velocity"]):
            uk.rmsprop_update(p, g, v, s["velocity"], f(self.learning_rate), f(self.rho), f(1 - self.rho),
                   f(self.epsilon), f(self.momentum), bool(self.momentum))
            return
        v *= f(self.rho)
        np.multiply(g, g, out=tmp)
        tmp *= f(1 - self.rho)
        v += tmp
        np.add(v, f(self.epsilon), out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(g, tmp, out=tmp)
        tmp *= f(self.learning_rate)
        if self.momentum:
            vel = s["velocity"]
            vel *= f(self.momentum)
            vel += tmp
            p -= vel
        else:
            p -= tmp

    def _hyper(self):
        return {"learning_rate": self.learning_rate, "rho": self.rho, "epsilon": self.epsilon,
                "momentum": self.momentum}


OPTIMIZERS: dict[str, type[Optimizer]] = {"SGD": SGD, "Adam": Adam, "RMSprop": RMSprop}


def optimizer_from_config(config) -> Optimizer:
    """``{"class_name": "Adam", "config": {"learning_rate": 0.001}}`` or just ``"adam"`` -> optimizer."""
    if isinstance(config, str):
        config = {"class_name": config, "config": {}}
    if not isinstance(config, dict) or "class_name" not in config:
        raise ConvScopeError("optimizer_config_malformed", config=config)
    by_lower = {k.lower(): v for k, v in OPTIMIZERS.items()}
    cls = by_lower.get(str(config["class_name"]).lower())
    if cls is None:
        raise ConvScopeError("unknown_optimizer", name=config["class_name"], choices=", ".join(OPTIMIZERS))
    kwargs = dict(config.get("config") or {})
    if "lr" in kwargs:
        kwargs["learning_rate"] = kwargs.pop("lr")
    try:
        opt = cls(**kwargs)
    except TypeError as exc:
        raise ConvScopeError("optimizer_bad_argument", optimizer=cls.__name__, detail=str(exc)) from None
    if not np.isfinite(opt.learning_rate) or opt.learning_rate <= 0:
        raise ConvScopeError("learning_rate_not_positive", value=opt.learning_rate)
    return opt
