"""Loss functions. The classifier's last layer returns logits; the loss applies the softmax."""

from __future__ import annotations

import numpy as np

from engine.errors import ShapeError

__all__ = ["softmax_cross_entropy", "softmax"]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(N, K)`` logits, computed as ``exp(z - max z) / sum`` so it never overflows."""
    z = logits - logits.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of ``softmax(logits)`` against integer ``labels`` and its gradient.

    ``loss = mean_n( logsumexp(z_n) - z_n[y_n] )`` (the log-sum-exp is shifted by the row maximum, so
    large logits neither overflow nor lose precision). The fused gradient is
    ``dL/dz = (softmax(z) - onehot(y)) / N``.

    Parameters
    ----------
    logits : (N, K) float array
    labels : (N,) integer class ids in ``0..K-1``

    Returns
    -------
    loss : float (nan/inf when the logits are not finite; the trainer checks it)
    dlogits : (N, K) array of the logits' dtype
    """
    if logits.ndim != 2:
        raise ShapeError("loss_needs_scores", shape=logits.shape[1:])
    n, k = logits.shape
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ShapeError("label_count", count=n, shape=labels.shape)
    if n and (labels.min() < 0 or labels.max() >= k):
        raise ShapeError("label_range", last=k - 1, classes=k, low=int(labels.min()), high=int(labels.max()))
    rows = np.arange(n)
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    log_z = np.log(total[:, 0])
    loss = float(np.mean(log_z - shifted[rows, labels])) if n else 0.0
    grad = exp
    grad /= total
    grad[rows, labels] -= 1
    grad /= max(n, 1)
    return loss, grad
