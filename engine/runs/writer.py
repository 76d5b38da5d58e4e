"""``RunWriter``: the one thread that writes a running training run to the store.

The training thread only puts items on a queue (a few microseconds); the writer thread turns them
into rows and ``.npz`` files and commits at least every ``commit_interval`` seconds (and right after
every checkpoint), so a crash or a killed process loses at most the last second or two of batch
metrics and never a checkpoint that was reported written.

While it lives, the writer holds ``writer.lock`` (JSON ``{"pid", "host", "started"}``) in the run's
folder and refreshes the run's ``heartbeat`` column at every commit: a store opened later sees a run
whose status is still "running" but whose writer is gone, and marks it "interrupted".
"""

from __future__ import annotations

import json
import os
import queue
import socket
import threading
import time
from pathlib import Path

import numpy as np

from engine.runs.errors import RunStoreError
from engine.runs.files import (
    optimizer_name,
    write_checkpoint,
    write_moment,
    write_optimizer,
)

__all__ = ["LOCK_NAME", "RunWriter", "live_writer", "write_description"]

LOCK_NAME = "writer.lock"
IDLE_HEARTBEAT = 5.0  # seconds; well under RunStore's stale_after (30 s)
_STOP = object()

# Writers alive in this process, by (database path, run id): a "running" run whose lock names this
# process but that is not in here was left behind by a writer that died with its thread.
_LIVE: set[tuple[str, int]] = set()
_LIVE_LOCK = threading.Lock()


def live_writer(db_path, run_id: int) -> bool:
    with _LIVE_LOCK:
        return (str(db_path), int(run_id)) in _LIVE


class RunWriter:
    """Writes one run's metrics, timeline moments and epoch checkpoints from a background thread.

    Create it with :meth:`RunStore.start_run`, :meth:`RunStore.open_writer` or
    :meth:`RunStore.continue_run`. Every method but :meth:`close` only enqueues and returns at once.
    ``error`` holds the first exception the thread met (it keeps going; the GUI shows it).
    """

    def __init__(self, store, run_id: int, folder: Path, base_elapsed: float = 0.0, commit_interval: float = 1.0):
        self.store = store
        self.run_id = int(run_id)
        self.folder = Path(folder)
        self.commit_interval = float(commit_interval)
        self.error: BaseException | None = None
        self._key = (str(store.db_path), self.run_id)
        with _LIVE_LOCK:
            if self._key in _LIVE:
                raise RunStoreError("run_writer_busy", run_id=run_id)
            _LIVE.add(self._key)
        self._base = float(base_elapsed)
        self._t0 = time.monotonic()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        (self.folder / LOCK_NAME).write_text(json.dumps(lock))
        self._thread = threading.Thread(target=self._run, name=f"run-writer-{run_id}", daemon=True)
        self._thread.start()

    # -- called from the training thread ----------------------------------------------------
    def elapsed(self) -> float:
        """Seconds of this run so far (a continued or branched run starts from where it left off)."""
        return self._base + time.monotonic() - self._t0

    def batch(self, step: int, epoch: float, loss: float, accuracy: float, elapsed: float | None = None) -> None:
        """Metrics after ``step`` finished batches (``epoch``: position in epochs, e.g. 1.5)."""
        self._put(("batch", int(step), float(epoch), float(loss), float(accuracy),
                   self.elapsed() if elapsed is None else float(elapsed)))

    def batch_metrics(self, metrics) -> None:
        """The same from an :class:`engine.training.BatchMetrics` (its ``step`` counts from 0)."""
        self.batch(metrics.step + 1, metrics.epoch_progress, metrics.loss, metrics.accuracy)

    def epoch_end(self, epoch: int, step: int, loss: float | None, accuracy: float | None, val_loss=None,
                  val_accuracy=None, seconds: float | None = None, weights=None, optimizer=None, confusion=None,
                  elapsed: float | None = None) -> None:
        """Metrics of epoch ``epoch`` (from 1) and, with ``weights``, its checkpoint."""
        elapsed = self.elapsed() if elapsed is None else float(elapsed)
        self._put(("epoch", int(epoch), int(step), _num(loss), _num(accuracy), _num(val_loss), _num(val_accuracy),
                   _num(seconds), elapsed))
        if weights is not None:
            self.checkpoint(epoch, step, weights, optimizer, confusion, elapsed)

    def checkpoint(self, epoch: int, step: int, weights, optimizer=None, confusion=None,
                   elapsed: float | None = None) -> None:
        """Weights (copies: the caller keeps training) at the end of ``epoch`` (0 = the start)."""
        weights = tuple({k: v.copy() for k, v in w.items()} for w in weights)
        self._put(("checkpoint", int(epoch), int(step), weights, optimizer, confusion,
                   self.elapsed() if elapsed is None else float(elapsed)))

    def moment(self, moment, weights=None) -> None:
        """A timeline :class:`~engine.runs.history.Moment` (its arrays are read-only copies already) and,
        optionally, the model's full ``weights`` at that step (copied here: the caller keeps training)."""
        if weights is not None:
            # read-only arrays are someone's frozen copies already (an inspection's): no second copy
            weights = tuple({k: v if not np.asarray(v).flags.writeable else np.array(v, copy=True)
                             for k, v in w.items()} for w in weights)
        self._put(("moment", moment, weights))

    def _put(self, item) -> None:
        if self._closed:
            raise RunStoreError("run_writer_closed", run_id=self.run_id)
        self._queue.put(item)

    def close(self, status: str = "finished", timeout: float = 30.0) -> bool:
        """Write what is queued, set the run's ``status`` and release the lock; True when all was written."""
        if self._closed:
            return not self._thread.is_alive()
        self._closed = True
        self._queue.put((_STOP, str(status)))
        self._thread.join(timeout)
        return not self._thread.is_alive() and self.error is None

    @property
    def closed(self) -> bool:
        return self._closed

    # -- the writer thread ------------------------------------------------------------------
    def _run(self) -> None:
        conn = None
        last_commit = time.monotonic()
        dirty = False
        status = None
        try:
            conn = self.store._connect()
            conn.execute("UPDATE runs SET status='running', heartbeat=?, pid=? WHERE id=?",
                         (time.time(), os.getpid(), self.run_id))
            conn.commit()
            while True:
                try:
                    item = self._queue.get(timeout=min(0.25, self.commit_interval))
                except queue.Empty:
                    item = None
                if item is not None and item[0] is _STOP:
                    status = item[1]
                    break
                if item is not None:
                    dirty = True
                    try:
                        if self._handle(conn, item):
                            last_commit, dirty = self._commit(conn), False
                    except Exception as exc:  # noqa: BLE001 - a full disk must not stop training; in .error
                        self.error = self.error or exc
                since = time.monotonic() - last_commit
                # new rows: at least every commit_interval; a paused run only refreshes its heartbeat
                if (dirty and since >= self.commit_interval) or since >= IDLE_HEARTBEAT:
                    last_commit, dirty = self._commit(conn), False
        except Exception as exc:  # noqa: BLE001 - the thread reports through .error, never dies silently
            self.error = self.error or exc
        finally:
            try:
                if conn is not None:
                    if status is not None:
                        conn.execute("UPDATE runs SET status=?, updated=? WHERE id=?",
                                     (status, time.time(), self.run_id))
                    self._commit(conn)
                    write_description(conn, self.store.root, self.run_id)
            except Exception as exc:  # noqa: BLE001 - as above
                self.error = self.error or exc
            if conn is not None:
                conn.close()
            try:
                (self.folder / LOCK_NAME).unlink()
            except OSError:
                pass
            with _LIVE_LOCK:
                _LIVE.discard(self._key)

    def _commit(self, conn) -> float:
        now = time.time()
        conn.execute("UPDATE runs SET heartbeat=?, updated=? WHERE id=?", (now, now, self.run_id))
        conn.commit()
        return time.monotonic()

    def _handle(self, conn, item) -> bool:
        """Apply one queued item; True when it must be committed at once (files written)."""
        kind = item[0]
        if kind == "batch":
            conn.execute("INSERT OR REPLACE INTO batches(run_id, step, epoch, loss, accuracy, elapsed) "
                         "VALUES (?, ?, ?, ?, ?, ?)", (self.run_id, *item[1:]))
            return False
        if kind == "epoch":
            conn.execute("INSERT OR REPLACE INTO epochs(run_id, epoch, step, loss, accuracy, val_loss, val_accuracy, "
                         "seconds, elapsed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (self.run_id, *item[1:]))
            self._commit(conn)
            write_description(conn, self.store.root, self.run_id)
            return True
        if kind == "checkpoint":
            _, epoch, step, weights, optimizer, confusion, elapsed = item
            name = f"checkpoint-{epoch:04d}.npz"
            size = write_checkpoint(self.folder / name, epoch, step, weights, confusion)
            if optimizer:
                write_optimizer(self.folder / optimizer_name(epoch), epoch, step, optimizer)
            conn.execute("INSERT OR REPLACE INTO checkpoints(run_id, epoch, step, file, nbytes, elapsed) "
                         "VALUES (?, ?, ?, ?, ?, ?)", (self.run_id, epoch, step, name, size, elapsed))
            if optimizer:
                # only once this checkpoint is committed may the previous epoch's moments go
                self._commit(conn)
                for old in self.folder.glob("optimizer*.npz"):
                    if old.name != optimizer_name(epoch):
                        old.unlink(missing_ok=True)
            return True
        if kind == "moment":
            moment, weights = item[1], item[2]
            name = f"moment-{moment.step:09d}.npz"
            size = write_moment(self.folder / name, moment, weights)
            conn.execute("INSERT OR REPLACE INTO moments(run_id, step, epoch, file, nbytes) VALUES (?, ?, ?, ?, ?)",
                         (self.run_id, moment.step, moment.epoch, name, size))
            return True
        raise RunStoreError("run_writer_unknown_item", kind=kind)


def write_description(conn, root: Path, run_id: int) -> None:
    """Write ``run.json`` (the run's row and epoch metrics) into the run's folder, atomically: what a
    store rebuilt after a corrupt database reads to find the run again."""
    row = conn.execute("SELECT uid, folder, name, created, dataset, architecture, settings, status, parent_uid, "
                       "parent_epoch FROM runs WHERE id=?", (run_id,)).fetchone()
    if row is None:
        return
    uid, folder, name, created, dataset, arch, settings, status, parent_uid, parent_epoch = tuple(row)
    cols = ("epoch", "step", "loss", "accuracy", "val_loss", "val_accuracy", "seconds", "elapsed")
    epochs = [dict(zip(cols, tuple(r), strict=True)) for r in conn.execute(
        f"SELECT {', '.join(cols)} FROM epochs WHERE run_id=? ORDER BY epoch", (run_id,))]
    desc = {"uid": uid, "name": name, "created": created, "dataset": dataset, "architecture": json.loads(arch or "{}"),
            "settings": json.loads(settings or "{}"), "status": status, "parent_uid": parent_uid,
            "parent_epoch": parent_epoch, "epochs": epochs}
    path = Path(root) / folder / "run.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("run.json.tmp")
    tmp.write_text(json.dumps(desc, ensure_ascii=False))
    os.replace(tmp, path)


def _num(value):
    return None if value is None else float(value)
