"""A training process killed with SIGKILL: its run reopens as interrupted and continues from its checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from engine.network import Sequential
from engine.optimizers import optimizer_from_config
from engine.runs import RunRecorder, RunStore, resume_trainer
from engine.training import Trainer

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    from engine.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from engine.network import Sequential
    from engine.optimizers import Adam
    from engine.runs import RunHistory, RunRecorder, RunStore
    from engine.training import Trainer

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 1, 8, 8), dtype=np.uint8)
    y = rng.integers(0, 3, 40)
    model = Sequential([Conv2D(2, 3, activation="relu"), MaxPooling2D(2), Flatten(), Dense(3)], name="tiny")
    model.build((1, 8, 8), seed=0)
    trainer = Trainer(model, Adam(0.01), x[:32], y[:32], x[32:], y[32:], batch_size=8, epochs=100_000)
    store = RunStore(sys.argv[1])
    writer = store.start_run("doomed", "tiny", model.get_config(),
                             {"optimizer": "Adam", "learning_rate": 0.01, "batch_size": 8}, commit_interval=0.2)
    recorder = RunRecorder(trainer, history=RunHistory(), writer=writer)
    recorder.start()

    def slow_batch(metrics):
        recorder.on_batch_end(metrics)
        time.sleep(0.01)  # gentle on a shared machine; the kill comes long before the end

    print("started", flush=True)
    trainer.run(on_batch_end=slow_batch, on_epoch_end=recorder.on_epoch_end)
""")


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_killed_run_reopens_as_interrupted_and_continues_from_its_last_checkpoint(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    runs = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, str(script), str(runs)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        def checkpoints():
            if proc.poll() is not None:
                pytest.fail(f"the child ended early: {proc.stderr.read().decode()[-2000:]}")
            if not (runs / "runs.db").exists():
                return None
            store = RunStore(runs)
            try:
                ids = [r.id for r in store.runs()]
                return ids and len(store.checkpoint_epochs(ids[0])) >= 4
            finally:
                store.close()

        # generous: a cold numba cache compiles the kernels in the child first (tens of seconds when shared)
        _wait_for(checkpoints, 180, "the child to write three epoch checkpoints")
        assert proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    store = RunStore(runs)
    (info,) = store.runs()
    assert info.status == "interrupted" and info.name == "doomed"
    epochs_done = store.checkpoint_epochs(info.id)[-1]
    assert epochs_done >= 3
    # what reached the disk: every batch up to the last checkpoint, every epoch row with its checkpoint
    steps = store.batch_metrics(info.id)["step"]
    assert set(range(1, 4 * epochs_done + 1)) <= set(steps.tolist())
    assert [e["epoch"] for e in store.epoch_metrics(info.id)][:epochs_done] == list(range(1, epochs_done + 1))

    writer, checkpoint = store.continue_run(info.id)
    assert store.run(info.id).status == "running"
    assert (checkpoint.epoch, checkpoint.step) == (epochs_done, 4 * epochs_done)
    assert store.batch_metrics(info.id)["step"].max() == checkpoint.step  # the lost part is discarded
    model = Sequential.from_config(info.architecture)
    optimizer = optimizer_from_config({"class_name": "Adam", "config": {"learning_rate": 0.01}})
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 1, 8, 8), dtype=np.uint8)
    y = rng.integers(0, 3, 40)
    trainer = Trainer(model, optimizer, x[:32], y[:32], x[32:], y[32:], batch_size=8, epochs=epochs_done + 2)
    resume_trainer(trainer, checkpoint)
    for got, want in zip(model.get_weights(), checkpoint.weights):
        for key in want:
            assert got[key].tobytes() == want[key].tobytes()
    assert optimizer.iterations == checkpoint.step
    recorder = RunRecorder(trainer, writer=writer)
    status = trainer.run(on_batch_end=recorder.on_batch_end, on_epoch_end=recorder.on_epoch_end)
    assert recorder.finish(status)
    store.close()

    store = RunStore(runs)
    assert store.run(info.id).status == "finished"
    assert [e["epoch"] for e in store.epoch_metrics(info.id)] == list(range(1, epochs_done + 3))
    np.testing.assert_array_equal(store.batch_metrics(info.id)["step"], np.arange(1, 4 * (epochs_done + 2) + 1))
    assert store.checkpoint(info.id).epoch == epochs_done + 2
    store.close()
