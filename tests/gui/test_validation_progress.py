"""An epoch end's validation reaches the window batch by batch: progress signals and a status message."""

from __future__ import annotations

from tests.gui.conftest import make_bars_dataset

TIMEOUT = 60_000


def test_validation_progress_arrives_batch_by_batch_before_the_epoch_metrics(qtbot, warm_kernels):
    from engine.training import VALIDATION_BATCH
    from gui.controller import TrainingController
    from gui.i18n import set_language

    set_language("en")
    ds = make_bars_dataset(n_train=128, n_val=2 * VALIDATION_BATCH + 100)
    c = TrainingController()
    try:
        c.use_dataset(ds)
        c.kernels_warm = True
        c.set_options(optimizer="adam", learning_rate=0.003, batch_size=32, epochs=2, seed=0)
        events = []
        c.validation_progressed.connect(lambda done, total: events.append(("validating", done, total)))
        c.epoch_metrics_ready.connect(lambda m: events.append(("epoch", m.epoch)))
        messages = []
        c.status_message.connect(messages.append)
        with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "finished"):
            assert c.start()
        n = len(ds.y_test)
        one_epoch = [("validating", VALIDATION_BATCH, n), ("validating", 2 * VALIDATION_BATCH, n),
                     ("validating", n, n)]
        assert events == one_epoch + [("epoch", 0)] + one_epoch + [("epoch", 1)]
        shown = [m for m in messages if m.startswith("Validating")]
        assert shown[:2] == [f"Validating the epoch on {n} images: {int(100 * VALIDATION_BATCH / n)} %",
                             f"Validating the epoch on {n} images: {int(100 * 2 * VALIDATION_BATCH / n)} %"]
        after = messages[messages.index(shown[1]) + 1]
        assert after == "Training..."                   # the usual message once the validation is done
    finally:
        assert c.shutdown(timeout=10)
