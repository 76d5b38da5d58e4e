"""The timeline's memory bound: a 10-epoch hongong run on Fashion-MNIST keeps at most 200 MB.

The recorder is driven exactly as the worker drives it (``on_batch_end`` per step, ``on_epoch_end``
per epoch) on the real preset, without training: what is kept depends on the step schedule and on
the shapes, not on the weights' values.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from engine.presets import build_preset
from engine.runs import RunHistory
from gui.controller.runs import TimelineRecorder
from gui.controller.values import Sample

STEPS_PER_EPOCH = 1875          # 60,000 Fashion-MNIST images, batch 32 (the hongong preset)
EPOCHS = 10


def test_a_ten_epoch_hongong_timeline_stays_under_200_mb():
    model = build_preset("hongong", (1, 28, 28), 10)
    trainer = SimpleNamespace(model=model, diverged=False, step_count=0, batches_per_epoch=STEPS_PER_EPOCH,
                              optimizer=None)
    probe = Sample(x=np.random.default_rng(0).random((1, 28, 28), dtype=np.float32))
    recorder = TimelineRecorder(trainer, probe, RunHistory())
    recorder.start()
    confusion = np.zeros((10, 10), np.int64)
    for step in range(EPOCHS * STEPS_PER_EPOCH):
        recorder.on_batch_end(SimpleNamespace(step=step, epoch_progress=(step + 1) / STEPS_PER_EPOCH, loss=1.0,
                                              accuracy=0.5))
        if (step + 1) % STEPS_PER_EPOCH == 0:
            trainer.step_count = step + 1
            recorder.on_epoch_end(SimpleNamespace(epoch=step // STEPS_PER_EPOCH, confusion=confusion))
    history = recorder.history
    assert history.epochs() == list(range(1, EPOCHS + 1))
    assert len(history) < 100
    # every kept moment can be shown in full
    assert all(recorder.inspection_at(s) is not None for s in history.steps)
    weights = sum(a.nbytes for layer in model.layers for a in layer.params.values())
    assert recorder.nbytes > len(history) * weights        # the full weights of every moment are counted
    print(f"\n{len(history)} moments, {recorder.nbytes / 1e6:.1f} MB (history {history.nbytes / 1e6:.1f} MB)")
    assert recorder.nbytes <= 200e6


def test_only_the_newest_epochs_keep_their_weights_in_memory_but_every_confusion_stays():
    from gui.controller.runs import MAX_EPOCH_WEIGHTS

    model = build_preset("shapes_small", (1, 28, 28), 8)
    trainer = SimpleNamespace(model=model, diverged=False, step_count=0, batches_per_epoch=4, optimizer=None)
    recorder = TimelineRecorder(trainer, Sample(x=np.zeros((1, 28, 28), np.float32)), RunHistory())
    recorder.start()
    epochs = MAX_EPOCH_WEIGHTS + 5
    for epoch in range(epochs):
        trainer.step_count = 4 * (epoch + 1)
        recorder.on_epoch_end(SimpleNamespace(epoch=epoch, confusion=np.full((8, 8), epoch, np.int64)))
    history = recorder.history
    with_weights = [e for e in history.epochs() if history.epoch_record(e).weights]
    assert with_weights == list(range(epochs - MAX_EPOCH_WEIGHTS + 1, epochs + 1))
    assert [int(history.epoch_confusion(e)[0, 0]) for e in history.epochs()] == list(range(epochs))
    per_epoch = sum(a.nbytes for layer in model.layers for a in layer.params.values())
    assert history.nbytes < (MAX_EPOCH_WEIGHTS + 1) * per_epoch + sum(m.nbytes for m in history.moments())
