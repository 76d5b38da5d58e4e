"""The run store: runs survive a restart, branch from the past, and a broken database never loses runs."""

from __future__ import annotations

import json
import sqlite3
import time

import numpy as np
import pytest

from engine.errors import ConvScopeError
from engine.layers import Conv2D, Dense, Flatten, MaxPooling2D
from engine.network import Sequential
from engine.optimizers import Adam, optimizer_from_config
from engine.runs import (
    RunHistory,
    RunRecorder,
    RunStore,
    RunStoreError,
    default_runs_dir,
    resume_trainer,
)
from engine.training import Trainer


def tiny_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (40, 1, 8, 8), dtype=np.uint8)
    y = rng.integers(0, 3, 40)
    return x[:32], y[:32], x[32:], y[32:]


def tiny_model(seed=0):
    model = Sequential([Conv2D(2, 3, activation="relu"), MaxPooling2D(2), Flatten(), Dense(3)], name="tiny")
    model.build((1, 8, 8), seed=seed)
    return model


def train_run(store, epochs=3, name="tiny run", lr=0.01):
    """A real recorded run: 4 steps per epoch."""
    model = tiny_model()
    settings = {"optimizer": "Adam", "learning_rate": lr, "batch_size": 8, "epochs": epochs}
    trainer = Trainer(model, Adam(lr), *tiny_data(), batch_size=8, epochs=epochs)
    writer = store.start_run(name, "tiny", model.get_config(), settings)
    recorder = RunRecorder(trainer, history=RunHistory(per_octave=2), writer=writer)
    recorder.start()
    status = trainer.run(on_batch_end=recorder.on_batch_end, on_epoch_end=recorder.on_epoch_end)
    assert recorder.finish(status)
    return writer.run_id, trainer, recorder.history


def test_the_default_folder_follows_the_environment(tmp_path, monkeypatch):
    assert default_runs_dir({"CONVSCOPE_RUNS_DIR": str(tmp_path / "a"), "XDG_DATA_HOME": "/x"}) == tmp_path / "a"
    assert str(default_runs_dir({"XDG_DATA_HOME": "/data"})) == "/data/convscope/runs"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_runs_dir({}) == tmp_path / ".local" / "share" / "convscope" / "runs"
    monkeypatch.setenv("CONVSCOPE_RUNS_DIR", str(tmp_path / "env"))
    store = RunStore()
    assert store.root == tmp_path / "env" and (tmp_path / "env" / "runs.db").exists()
    store.close()


def test_a_run_written_while_training_reads_back_after_a_restart(tmp_path):
    store = RunStore(tmp_path)
    run_id, trainer, history = train_run(store)
    store.close()

    store = RunStore(tmp_path)  # a new process would see the same
    (info,) = store.runs()
    assert (info.id, info.name, info.status, info.dataset) == (run_id, "tiny run", "finished", "tiny")
    assert info.settings["learning_rate"] == 0.01
    assert info.architecture["layers"][0]["class_name"] == "Conv2D"
    assert store.db_path.exists() and store.run(run_id).folder.is_dir()
    assert store.problem is None
    journal = store._conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert journal == "wal"

    batches = store.batch_metrics(run_id)
    np.testing.assert_array_equal(batches["step"], np.arange(1, 13))
    assert np.all(np.diff(batches["elapsed"]) >= 0)
    epochs = store.epoch_metrics(run_id)
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    for row, metrics in zip(epochs, trainer.history):
        assert row["loss"] == pytest.approx(metrics.loss) and row["val_accuracy"] == pytest.approx(metrics.val_accuracy)

    assert store.moment_steps(run_id) == history.steps
    loaded = store.load_history(run_id)
    for a, b in zip(history.moments(), loaded.moments()):
        assert (a.step, a.epoch, a.layer_names) == (b.step, b.epoch, b.layer_names)
        np.testing.assert_array_equal(a.filters["conv2d"], b.filters["conv2d"])
        for x, y in zip(a.activations, b.activations):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(a.probabilities, b.probabilities)
    assert store.checkpoint_epochs(run_id) == [0, 1, 2, 3]
    final = store.checkpoint(run_id)
    assert (final.epoch, final.step) == (3, 12)
    for got, want in zip(final.weights, trainer.model.get_weights()):
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])
    np.testing.assert_array_equal(loaded.epoch_confusion(3), trainer.history[-1].confusion)
    assert final.optimizer["class_name"] == "Adam" and final.optimizer["iterations"] == 12
    store.close()


def test_run_files_never_hold_pickles(tmp_path):
    store = RunStore(tmp_path)
    run_id, _, _ = train_run(store, epochs=1)
    for path in store.run(run_id).folder.glob("*.npz"):
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                assert data[key].dtype != object
    store.close()


def test_a_branch_starts_from_the_parents_epoch_weights_exactly(tmp_path):
    store = RunStore(tmp_path)
    parent, _, _ = train_run(store, epochs=3)
    child = store.branch(parent, 2, {"learning_rate": 0.001})
    info = store.run(child)
    assert (info.parent_id, info.parent_epoch, info.status) == (parent, 2, "created")
    assert info.settings["learning_rate"] == 0.001 and info.settings["batch_size"] == 8
    assert [r.id for r in store.lineage(child)] == [child, parent]
    assert store.children(parent) == [child]

    start = store.checkpoint(child)
    source = store.checkpoint(parent, 2)
    assert start.epoch == 2 and start.step == source.step
    for a, b in zip(start.weights, source.weights):
        for key in b:
            assert a[key].dtype == b[key].dtype and a[key].tobytes() == b[key].tobytes()

    # training the branch continues from there with its own settings
    model = Sequential.from_config(info.architecture)
    trainer = Trainer(model, optimizer_from_config({"class_name": "Adam", "config": {"learning_rate": 0.001}}),
                      *tiny_data(), batch_size=8, epochs=4)
    resume_trainer(trainer, start)
    for got, want in zip(model.get_weights(), source.weights):
        for key in want:
            assert got[key].tobytes() == want[key].tobytes()
    writer = store.open_writer(child)
    recorder = RunRecorder(trainer, writer=writer)
    assert recorder.finish(trainer.run(on_batch_end=recorder.on_batch_end, on_epoch_end=recorder.on_epoch_end))
    assert [e["epoch"] for e in store.epoch_metrics(child)] == [3, 4]
    assert store.run(child).status == "finished"
    with pytest.raises(RunStoreError, match="no weights saved for epoch 7"):
        store.branch(parent, 7)
    # the optimizer's moments are kept for the latest checkpoint only (one file per run)
    assert start.optimizer is None and store.checkpoint(parent, 3).optimizer["iterations"] == 12
    assert len(list(store.run(parent).folder.glob("optimizer*.npz"))) == 1
    latest = store.checkpoint(store.branch(parent, 3))
    assert latest.optimizer["iterations"] == 12 and latest.step == 12
    store.close()


def test_deleting_a_run_removes_its_rows_and_files_and_reports_the_bytes(tmp_path):
    store = RunStore(tmp_path)
    first, _, _ = train_run(store, epochs=1, name="first")
    second, _, _ = train_run(store, epochs=1, name="second")
    used = store.disk_usage(first)
    assert used > 0 and store.total_disk_usage() > used + store.disk_usage(second)
    folder = store.run(first).folder
    assert store.delete(first) == used
    assert not folder.exists()
    assert [r.name for r in store.runs()] == ["second"]
    assert store.epoch_metrics(first) == [] and len(store.batch_metrics(first)["step"]) == 0
    with pytest.raises(RunStoreError, match="no run"):
        store.run(first)
    store.close()


def test_a_run_being_written_cannot_be_deleted_or_opened_twice(tmp_path):
    store = RunStore(tmp_path)
    writer = store.start_run("live", "tiny", {}, {})
    try:
        assert store.run(writer.run_id).status == "running"
        with pytest.raises(RunStoreError, match="still training"):
            store.delete(writer.run_id)
        with pytest.raises(RunStoreError):
            store.open_writer(writer.run_id)
        assert store.recover_interrupted() == []
    finally:
        assert writer.close("stopped")
    assert store.run(writer.run_id).status == "stopped"
    store.close()


def test_the_writer_commits_while_the_run_goes_on(tmp_path):
    store = RunStore(tmp_path)
    writer = store.start_run("slow", "tiny", {}, {}, commit_interval=0.2)
    try:
        writer.batch(1, 0.1, 2.0, 0.5)
        writer.batch(2, 0.2, 1.9, 0.5)
        other = RunStore(tmp_path)  # another reader sees the rows without the writer closing
        deadline = time.monotonic() + 5
        while len(other.batch_metrics(writer.run_id)["step"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(other.batch_metrics(writer.run_id)["step"]) == [1, 2]
        assert other.run(writer.run_id).status == "running"
        other.close()
    finally:
        writer.close("stopped")
    store.close()


def _seed_two_runs(tmp_path):
    store = RunStore(tmp_path)
    a, _, _ = train_run(store, epochs=2, name="a")
    store.branch(a, 1, {"learning_rate": 0.002})
    files = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.npz"))
    store.close()
    return files


def test_a_corrupt_database_is_set_aside_and_the_runs_are_found_again(tmp_path):
    files = _seed_two_runs(tmp_path)
    for suffix in ("-wal", "-shm"):
        (tmp_path / ("runs.db" + suffix)).unlink(missing_ok=True)
    (tmp_path / "runs.db").write_bytes(b"this is not a database at all" * 100)

    store = RunStore(tmp_path)
    assert isinstance(store.problem, RunStoreError) and isinstance(store.problem, ConvScopeError)
    message = str(store.problem)
    assert "set aside" in message and store.set_aside.name in message
    assert store.set_aside.name.startswith("runs.db.corrupt-") and store.set_aside.exists()
    # no run file was lost, and the runs are listed again with their lineage and epoch figures
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.npz")) == files
    runs = {r.name: r for r in store.runs()}
    assert set(runs) == {"a", "a @ epoch 1 (learning_rate=0.002)"}
    child = runs["a @ epoch 1 (learning_rate=0.002)"]
    assert child.parent_id == runs["a"].id and child.parent_epoch == 1
    assert [e["epoch"] for e in store.epoch_metrics(runs["a"].id)] == [1, 2]
    assert store.checkpoint_epochs(runs["a"].id) == [0, 1, 2]
    assert store.checkpoint(child.id).epoch == 1
    # the new database works
    train_run(store, epochs=1, name="after")
    store.close()
    assert RunStore(tmp_path).problem is None


def test_a_foreign_sqlite_file_is_set_aside_untouched(tmp_path):
    conn = sqlite3.connect(tmp_path / "runs.db")
    conn.execute("CREATE TABLE photos(id INTEGER, path TEXT)")
    conn.execute("INSERT INTO photos VALUES (1, 'cat.png')")
    conn.commit()
    conn.close()
    store = RunStore(tmp_path)
    assert "another program" in str(store.problem)
    kept = sqlite3.connect(store.set_aside)
    assert kept.execute("SELECT path FROM photos").fetchone()[0] == "cat.png"
    assert kept.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not converted to WAL
    kept.close()
    assert store.runs() == []
    store.close()


def test_an_empty_sqlite_file_becomes_the_store(tmp_path):
    conn = sqlite3.connect(tmp_path / "runs.db")
    conn.execute("PRAGMA journal_mode=WAL")  # what a store being created elsewhere can look like for a moment
    conn.close()
    store = RunStore(tmp_path)
    assert store.problem is None and store.set_aside is None
    store.create_run("first")
    assert [r.name for r in store.runs()] == ["first"]
    store.close()


def test_run_json_describes_each_run(tmp_path):
    store = RunStore(tmp_path)
    run_id, _, _ = train_run(store, epochs=2)
    desc = json.loads((store.run(run_id).folder / "run.json").read_text())
    assert desc["status"] == "finished" and [e["epoch"] for e in desc["epochs"]] == [1, 2]
    assert not (store.run(run_id).folder / "writer.lock").exists()
    store.close()


def test_a_live_run_cannot_be_continued_and_a_damaged_file_is_a_teaching_error(tmp_path):
    store = RunStore(tmp_path)
    run_id, _, _ = train_run(store, epochs=1)
    writer = store.open_writer(run_id)
    try:
        with pytest.raises(RunStoreError, match="still training"):
            store.continue_run(run_id)
        assert store.checkpoint_epochs(run_id) == [0, 1]  # nothing was discarded
    finally:
        writer.close("stopped")
    (store.run(run_id).folder / "checkpoint-0001.npz").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(RunStoreError, match="damaged"):
        store.checkpoint(run_id, 1)
    store.close()


def test_a_copied_run_folder_is_adopted_once(tmp_path):
    import shutil

    store = RunStore(tmp_path)
    run_id, _, _ = train_run(store, epochs=1)
    folder = store.run(run_id).folder
    store.close()
    shutil.copytree(folder, tmp_path / "copy-of-run")  # same uid in run.json
    (tmp_path / "runs.db").write_bytes(b"\x00" * 4096)
    for suffix in ("-wal", "-shm"):
        (tmp_path / ("runs.db" + suffix)).unlink(missing_ok=True)
    store = RunStore(tmp_path)
    assert store.problem is not None and len(store.runs()) == 1
    assert (tmp_path / "copy-of-run" / "checkpoint-0001.npz").exists()
    store.close()


def test_stores_opened_at_the_same_moment_share_one_database(tmp_path):
    import threading

    stores, errors = [], []
    gate = threading.Barrier(6)

    def open_store():
        gate.wait()
        try:
            store = RunStore(tmp_path)
            stores.append((store.problem, store.create_run("r", settings={"t": threading.get_ident()})))
            store.close()
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and [p for p, _ in stores] == [None] * 6
    store = RunStore(tmp_path)
    assert len(store.runs()) == 6 and store.set_aside is None
    assert not list(tmp_path.glob("runs.db.corrupt-*")) and not list(tmp_path.glob(".runs.db.new-*"))
    store.close()


def test_a_running_run_is_interrupted_when_its_writer_process_is_gone_or_silent(tmp_path):
    import os
    import socket
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    store = RunStore(tmp_path)
    cases = {"live and fresh": (os.getppid(), 0.0), "live but silent": (os.getppid(), 120.0),
             "dead": (dead.pid, 0.0)}
    ids = {}
    for name, (pid, age) in cases.items():
        run_id = store.create_run(name)
        lock = {"pid": pid, "host": socket.gethostname(), "started": time.time()}
        (store.run(run_id).folder / "writer.lock").write_text(json.dumps(lock))
        store._conn.execute("UPDATE runs SET status='running', heartbeat=? WHERE id=?", (time.time() - age, run_id))
        ids[name] = run_id
    store._conn.commit()
    store.close()

    store = RunStore(tmp_path)
    status = {name: store.run(run_id).status for name, run_id in ids.items()}
    assert status == {"live and fresh": "running", "live but silent": "interrupted", "dead": "interrupted"}
    store.close()
