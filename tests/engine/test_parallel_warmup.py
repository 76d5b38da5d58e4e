"""The warm-up compiles the backward kernels in a helper process when the cache is cold."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from engine import kernels


def test_a_warm_cache_starts_no_helper():
    kernels.warmup()                                   # this process: compiled or loaded, so cached
    assert kernels._backward_cached()
    assert kernels._start_backward_helper() is None


def test_the_helper_can_be_turned_off(monkeypatch):
    monkeypatch.setattr(kernels, "_backward_cached", lambda: False)
    monkeypatch.setenv("CONVSCOPE_PARALLEL_WARMUP", "0")
    assert kernels._start_backward_helper() is None


def test_a_cold_cache_starts_a_helper_that_compiles_the_backward_and_exits(monkeypatch):
    kernels.warmup()
    monkeypatch.setattr(kernels, "_backward_cached", lambda: False)   # as if the cache were cold
    proc = kernels._start_backward_helper()
    assert proc is not None and proc in kernels._helpers
    kernels._wait_for_helper(proc, timeout=300)
    assert proc.returncode == 0 and proc not in kernels._helpers


def test_warmup_with_a_helper_leaves_working_kernels(monkeypatch):
    monkeypatch.setattr(kernels, "_backward_cached", lambda: False)
    kernels.warmup(parallel=True)
    assert not kernels._helpers
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 1, 6, 6)).astype(np.float32)
    w = rng.standard_normal((2, 1, 3, 3)).astype(np.float32)
    dy = rng.standard_normal((2, 2, 4, 4)).astype(np.float32)
    dx, dw, db = kernels.conv2d_backward(x, w, dy, 1, (0, 0, 0, 0))
    assert np.allclose(db, dy.sum(axis=(0, 2, 3)), atol=1e-4)


def test_the_helper_script_runs_on_its_own():
    """The exact script the app starts, in a fresh interpreter (a warm cache: it only loads)."""
    kernels.warmup()
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(kernels.__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    done = subprocess.run([sys.executable, "-c", kernels._HELPER], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
