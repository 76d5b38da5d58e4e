"""``RunStore``: every training run kept on disk, surviving restarts.

Layout of the store's folder (default :func:`default_runs_dir`)::

    runs.db                  SQLite (WAL): runs, per-batch and per-epoch metrics, moments, checkpoints
    <run folder>/run.json    the run's description, so a store rebuilt after a corrupt database re-adopts it
    <run folder>/moment-000000016.npz      timeline moment at step 16 (see engine.runs.files)
    <run folder>/checkpoint-0003.npz       weights (and confusion matrix) at the end of epoch 3
    <run folder>/optimizer-NNNN.npz        the optimizer's moments at the latest checkpoint
    <run folder>/writer.lock               only while a RunWriter writes this run

Epochs are counted from 1 (epoch 3 = after three passes; checkpoint 0 = the weights training began
from); steps count finished batches. A run's ``status`` is ``created`` (branched, not trained yet),
``running``, ``finished``, ``stopped``, ``diverged`` or ``interrupted`` (its process died: found on
opening the store, continue it with :meth:`RunStore.continue_run`).

A database that SQLite cannot read, or that is not ConvScope's, is renamed
``runs.db.corrupt-<timestamp>``; a fresh one is created and re-adopts the run folders it finds.
``store.problem`` then holds the :class:`RunStoreError` to show: opening a store never raises for that.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import ConvScopeError, Term
from engine.runs.errors import RunStoreError
from engine.runs.files import (
    OPTIMIZER_NAME,
    Checkpoint,
    optimizer_name,
    read_checkpoint,
    read_moment,
    read_moment_weights,
    read_optimizer,
)
from engine.runs.history import RunHistory
from engine.runs.writer import LOCK_NAME, RunWriter, live_writer, write_description

__all__ = ["STATUSES", "RunInfo", "RunStore", "RunStoreError", "default_runs_dir"]

APP_ID = "convscope-runs"
SCHEMA_VERSION = 1
DB_NAME = "runs.db"
STATUSES = ("created", "running", "finished", "stopped", "interrupted", "diverged")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs(
    id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT UNIQUE NOT NULL, folder TEXT NOT NULL, name TEXT NOT NULL,
    created REAL NOT NULL, updated REAL, dataset TEXT, architecture TEXT, settings TEXT,
    status TEXT NOT NULL, parent_id INTEGER, parent_uid TEXT, parent_epoch INTEGER, heartbeat REAL, pid INTEGER);
CREATE TABLE IF NOT EXISTS batches(run_id INTEGER, step INTEGER, epoch REAL, loss REAL, accuracy REAL,
    elapsed REAL, PRIMARY KEY(run_id, step));
CREATE TABLE IF NOT EXISTS epochs(run_id INTEGER, epoch INTEGER, step INTEGER, loss REAL, accuracy REAL,
    val_loss REAL, val_accuracy REAL, seconds REAL, elapsed REAL, PRIMARY KEY(run_id, epoch));
CREATE TABLE IF NOT EXISTS moments(run_id INTEGER, step INTEGER, epoch REAL, file TEXT, nbytes INTEGER,
    PRIMARY KEY(run_id, step));
CREATE TABLE IF NOT EXISTS checkpoints(run_id INTEGER, epoch INTEGER, step INTEGER, file TEXT, nbytes INTEGER,
    elapsed REAL, PRIMARY KEY(run_id, epoch));
"""
_TABLES = {"meta", "runs", "batches", "epochs", "moments", "checkpoints"}


def default_runs_dir(environ=None) -> Path:
    """``$CONVSCOPE_RUNS_DIR``, else ``$XDG_DATA_HOME/convscope/runs``, else ``~/.local/share/convscope/runs``."""
    env = os.environ if environ is None else environ
    if env.get("CONVSCOPE_RUNS_DIR"):
        return Path(env["CONVSCOPE_RUNS_DIR"]).expanduser()
    base = Path(env["XDG_DATA_HOME"]).expanduser() if env.get("XDG_DATA_HOME") else Path.home() / ".local" / "share"
    return base / "convscope" / "runs"


@dataclass(frozen=True)
class RunInfo:
    """One run's row: plain values a GUI list can show."""

    id: int
    uid: str
    name: str
    created: float
    updated: float | None
    dataset: str | None
    architecture: dict
    settings: dict
    status: str
    parent_id: int | None
    parent_epoch: int | None
    folder: Path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, ValueError, OverflowError):
        return False
    return True


class RunStore:
    """The runs of one folder (``root``; default :func:`default_runs_dir`).

    ``stale_after`` (seconds): a "running" run whose writer process is alive but has not refreshed its
    heartbeat for this long (a hung or re-used pid) also counts as interrupted.
    """

    def __init__(self, root=None, stale_after: float = 30.0):
        self.root = Path(root).expanduser() if root is not None else default_runs_dir()
        self.db_path = self.root / DB_NAME
        self.stale_after = float(stale_after)
        self.problem: RunStoreError | None = None
        self.set_aside: Path | None = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunStoreError("runs_folder_uncreatable", folder=str(self.root),
                                detail=str(exc.strerror or exc)) from None
        self._conn = self._open()
        self.recover_interrupted()

    # -- opening -------------------------------------------------------------------------------
    def _connect(self, wal: bool = True) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=10.0)
        conn.row_factory = sqlite3.Row
        if wal:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _create_database(self) -> None:
        """Put a complete empty database at ``db_path`` in one step, unless one is there already.

        Built aside and linked into place: another process opening the store at the same moment sees
        either no file or a complete one, never a half-made file it would take for a foreign one.
        """
        tmp = self.root / f".{DB_NAME}.new-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            conn = sqlite3.connect(tmp)
            conn.executescript(_SCHEMA)
            conn.execute("INSERT INTO meta VALUES ('app', ?)", (APP_ID,))
            conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            conn.commit()
            conn.close()
            if self.db_path.exists() and self.db_path.stat().st_size == 0:
                os.replace(tmp, self.db_path)  # an empty file is nobody's database
            else:
                try:
                    os.link(tmp, self.db_path)  # fails when another process was first: theirs is kept
                except FileExistsError:
                    pass
                except OSError:  # a file system without hard links
                    if not self.db_path.exists():
                        os.replace(tmp, self.db_path)
        finally:
            tmp.unlink(missing_ok=True)

    def _open(self) -> sqlite3.Connection:
        conn = None
        try:
            if not self.db_path.exists() or self.db_path.stat().st_size == 0:
                self._create_database()
            conn = self._connect(wal=False)
            self._check(conn)  # before WAL: a foreign database is left as it was
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('app', ?)", (APP_ID,))
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            conn.commit()
            return conn
        except sqlite3.OperationalError as exc:
            # busy, locked, unreadable: the file may be fine, so it is never set aside for this
            if conn is not None:
                conn.close()
            raise RunStoreError("run_list_busy", path=str(self.db_path), detail=str(exc)) from None
        except (sqlite3.DatabaseError, RunStoreError) as exc:
            if conn is not None:
                conn.close()
            return self._start_over(exc)

    def _check(self, conn: sqlite3.Connection) -> None:
        ok = conn.execute("PRAGMA quick_check").fetchone()[0]
        if ok != "ok":
            raise sqlite3.DatabaseError(f"integrity check: {ok}")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return  # an empty database holds nobody's data: it becomes ours
        app = None
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE key='app'").fetchone()
            app = row[0] if row else None
        if app != APP_ID or not _TABLES <= tables:
            raise RunStoreError("run_list_foreign")
        version = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if version is None or not str(version[0]).isdigit():
            raise RunStoreError("run_list_no_version")
        if int(version[0]) > SCHEMA_VERSION:
            raise RunStoreError("run_list_newer", version=version[0], supported=SCHEMA_VERSION)

    def _start_over(self, cause: Exception) -> sqlite3.Connection:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.db_path.with_name(f"{DB_NAME}.corrupt-{stamp}")
        n = 1
        while aside.exists():
            aside = self.db_path.with_name(f"{DB_NAME}.corrupt-{stamp}-{n}")
            n += 1
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.db_path) + suffix)
            if src.exists():
                os.replace(src, Path(str(aside) + suffix))
        self.set_aside = aside
        self._create_database()
        conn = self._connect()
        self._conn = conn
        adopted = self._adopt_folders(conn)
        self.problem = RunStoreError("run_list_set_aside", path=str(self.db_path),
                                     cause=cause if isinstance(cause, ConvScopeError) else str(cause),
                                     aside=aside.name, adopted=adopted)
        return conn

    def _adopt_folders(self, conn: sqlite3.Connection) -> int:
        """Re-index the run folders (``run.json`` + checkpoint and moment files) into a fresh database."""
        found = []
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            try:
                desc = json.loads((folder / "run.json").read_text())
            except (OSError, ValueError):
                continue
            found.append((folder, desc))
        ids: dict[str, int] = {}
        for folder, desc in sorted(found, key=lambda fd: fd[1].get("created", 0)):
            try:
                ids[desc["uid"]] = self._adopt(conn, folder, desc)
            except (KeyError, TypeError, ValueError, sqlite3.IntegrityError):
                continue  # a damaged or duplicated description: the folder stays, unlisted
        conn.execute("UPDATE runs SET parent_id=(SELECT r.id FROM runs r WHERE r.uid=runs.parent_uid) "
                     "WHERE parent_uid IS NOT NULL")
        conn.commit()
        return len(ids)

    @staticmethod
    def _adopt(conn: sqlite3.Connection, folder: Path, desc: dict) -> int:
        status = desc.get("status", "interrupted")
        with conn:  # one transaction per run: all of it or nothing
            cur = conn.execute(
                "INSERT INTO runs(uid, folder, name, created, updated, dataset, architecture, settings, status, "
                "parent_uid, parent_epoch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (desc["uid"], folder.name, desc.get("name", folder.name), desc.get("created", 0.0), time.time(),
                 desc.get("dataset"), json.dumps(desc.get("architecture") or {}),
                 json.dumps(desc.get("settings") or {}), "interrupted" if status == "running" else status,
                 desc.get("parent_uid"), desc.get("parent_epoch")))
            rid = cur.lastrowid
            for e in desc.get("epochs", []):
                conn.execute("INSERT OR REPLACE INTO epochs(run_id, epoch, step, loss, accuracy, val_loss, "
                             "val_accuracy, seconds, elapsed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (rid, e["epoch"], e["step"], e["loss"], e["accuracy"], e["val_loss"], e["val_accuracy"],
                              e["seconds"], e["elapsed"]))
            for path in folder.glob("checkpoint-*.npz"):
                conn.execute("INSERT OR REPLACE INTO checkpoints(run_id, epoch, step, file, nbytes, elapsed) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             (rid, int(path.stem.split("-")[1]), None, path.name, path.stat().st_size, None))
            for path in folder.glob("moment-*.npz"):
                conn.execute("INSERT OR REPLACE INTO moments(run_id, step, epoch, file, nbytes) VALUES (?, ?, ?, ?, ?)",
                             (rid, int(path.stem.split("-")[1]), None, path.name, path.stat().st_size))
        return rid

    def close(self) -> None:
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- runs ----------------------------------------------------------------------------------
    def create_run(self, name: str, dataset: str | None = None, architecture: dict | None = None,
                   settings: dict | None = None, parent_id: int | None = None, parent_epoch: int | None = None,
                   status: str = "created") -> int:
        """A new run row and folder; returns its id (start writing with :meth:`open_writer`)."""
        now = time.time()
        uid = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + "-" + uuid.uuid4().hex[:8]
        folder = self.root / f"run-{uid}"
        parent_uid = self.run(parent_id).uid if parent_id is not None else None
        cur = self._conn.execute(
            "INSERT INTO runs(uid, folder, name, created, updated, dataset, architecture, settings, status, parent_id,"
            " parent_uid, parent_epoch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (uid, folder.name, str(name), now, now, dataset, json.dumps(architecture or {}), json.dumps(settings or {}),
             status, parent_id, parent_uid, parent_epoch))
        self._conn.commit()
        folder.mkdir(parents=True, exist_ok=True)
        self.write_description(cur.lastrowid)
        return int(cur.lastrowid)

    def write_description(self, run_id: int) -> None:
        """Refresh ``run.json`` (the run's row and epoch metrics) in its folder, atomically."""
        write_description(self._conn, self.root, int(run_id))

    def _info(self, row) -> RunInfo:
        return RunInfo(id=row["id"], uid=row["uid"], name=row["name"], created=row["created"], updated=row["updated"],
                       dataset=row["dataset"], architecture=json.loads(row["architecture"] or "{}"),
                       settings=json.loads(row["settings"] or "{}"), status=row["status"], parent_id=row["parent_id"],
                       parent_epoch=row["parent_epoch"], folder=self.root / row["folder"])

    def run(self, run_id: int) -> RunInfo:
        row = self._conn.execute("SELECT * FROM runs WHERE id=?", (int(run_id),)).fetchone()
        if row is None:
            raise RunStoreError("run_missing", run_id=run_id, folder=str(self.root))
        return self._info(row)

    def runs(self) -> list[RunInfo]:
        """Every run, oldest first (runs whose writer died are marked interrupted first)."""
        self.recover_interrupted()
        return [self._info(r) for r in self._conn.execute("SELECT * FROM runs ORDER BY id")]

    def rename(self, run_id: int, name: str) -> None:
        self._conn.execute("UPDATE runs SET name=? WHERE id=?", (str(name), int(run_id)))
        self._conn.commit()

    def set_status(self, run_id: int, status: str) -> None:
        if status not in STATUSES:
            raise RunStoreError("run_status_unknown", status=status, choices=", ".join(STATUSES))
        self._conn.execute("UPDATE runs SET status=?, updated=? WHERE id=?", (status, time.time(), int(run_id)))
        self._conn.commit()

    def _writer_alive(self, row) -> bool:
        folder = self.root / row["folder"]
        try:
            lock = json.loads((folder / LOCK_NAME).read_text())
        except (OSError, ValueError):
            return False
        if lock.get("host") not in (None, socket.gethostname()):
            return row["heartbeat"] is not None and time.time() - row["heartbeat"] < self.stale_after
        if int(lock.get("pid", -1)) == os.getpid():
            return live_writer(self.db_path, row["id"])
        fresh = row["heartbeat"] is not None and time.time() - row["heartbeat"] < self.stale_after
        return _pid_alive(lock["pid"]) and fresh

    def recover_interrupted(self) -> list[int]:
        """Mark "running" runs whose writer is gone as "interrupted"; returns their ids."""
        found = [row["id"] for row in self._conn.execute("SELECT * FROM runs WHERE status='running'")
                 if not self._writer_alive(row)]
        for rid in found:
            self._conn.execute("UPDATE runs SET status='interrupted' WHERE id=?", (rid,))
        if found:
            self._conn.commit()
        return found

    # -- writing -------------------------------------------------------------------------------
    def open_writer(self, run_id: int, commit_interval: float = 1.0) -> RunWriter:
        """Start writing run ``run_id`` (status becomes "running"); :meth:`RunWriter.close` ends it."""
        info = self.run(run_id)
        row = self._conn.execute("SELECT * FROM runs WHERE id=?", (info.id,)).fetchone()
        if info.status == "running" and self._writer_alive(row):
            raise RunStoreError("run_written_elsewhere", run_id=run_id, name=info.name)
        base = self._conn.execute(
            "SELECT MAX(m) FROM (SELECT MAX(elapsed) m FROM epochs WHERE run_id=? "
            "UNION ALL SELECT MAX(elapsed) FROM checkpoints WHERE run_id=?)", (info.id, info.id)).fetchone()[0]
        writer = RunWriter(self, info.id, info.folder, base_elapsed=base or 0.0, commit_interval=commit_interval)
        # "running" at once (not when the thread gets to it): a delete right now must be refused
        self._conn.execute("UPDATE runs SET status='running', heartbeat=?, pid=? WHERE id=?",
                           (time.time(), os.getpid(), info.id))
        self._conn.commit()
        return writer

    def start_run(self, name: str, dataset: str | None = None, architecture: dict | None = None,
                  settings: dict | None = None, commit_interval: float = 1.0) -> RunWriter:
        """:meth:`create_run` and :meth:`open_writer` in one call."""
        return self.open_writer(self.create_run(name, dataset, architecture, settings), commit_interval)

    # -- reading -------------------------------------------------------------------------------
    def batch_metrics(self, run_id: int) -> dict:
        """Per-batch curves as arrays: ``step``, ``epoch`` (position), ``loss``, ``accuracy``, ``elapsed``."""
        rows = self._conn.execute("SELECT step, epoch, loss, accuracy, elapsed FROM batches WHERE run_id=? "
                                  "ORDER BY step", (int(run_id),)).fetchall()
        cols = ("step", "epoch", "loss", "accuracy", "elapsed")
        return {c: np.array([r[i] for r in rows], np.int64 if c == "step" else np.float64) for i, c in enumerate(cols)}

    def epoch_metrics(self, run_id: int) -> list[dict]:
        """One dict per finished epoch (from 1): loss, accuracy, val_loss, val_accuracy, seconds, elapsed."""
        rows = self._conn.execute("SELECT epoch, step, loss, accuracy, val_loss, val_accuracy, seconds, elapsed "
                                  "FROM epochs WHERE run_id=? ORDER BY epoch", (int(run_id),)).fetchall()
        return [dict(r) for r in rows]

    def moment_steps(self, run_id: int) -> list[int]:
        return [r[0] for r in self._conn.execute("SELECT step FROM moments WHERE run_id=? ORDER BY step",
                                                 (int(run_id),))]

    def load_moment(self, run_id: int, step: int):
        row = self._conn.execute("SELECT file FROM moments WHERE run_id=? AND step=?",
                                 (int(run_id), int(step))).fetchone()
        if row is None:
            raise RunStoreError("run_no_moment", run_id=run_id, step=step, kept=self.moment_steps(run_id))
        return read_moment(self.run(run_id).folder / row[0])

    def load_moment_weights(self, run_id: int, step: int) -> tuple | None:
        """The model's full weights at kept step ``step`` (one ``{"W", "b"}`` dict per layer), ``None``
        when the moment was written without them."""
        row = self._conn.execute("SELECT file FROM moments WHERE run_id=? AND step=?",
                                 (int(run_id), int(step))).fetchone()
        if row is None:
            raise RunStoreError("run_no_moment", run_id=run_id, step=step, kept=self.moment_steps(run_id))
        return read_moment_weights(self.run(run_id).folder / row[0])

    def load_history(self, run_id: int, max_moments: int = 100_000) -> RunHistory:
        """The run's timeline read back from its files (moments and epoch checkpoints)."""
        history = RunHistory(max_moments=max_moments)
        for step in self.moment_steps(run_id):
            history.add_moment(self.load_moment(run_id, step))
        for epoch in self.checkpoint_epochs(run_id):
            ck = self.checkpoint(run_id, epoch)
            history.record_epoch(epoch, ck.step, ck.weights, ck.confusion)
        return history

    def checkpoint_epochs(self, run_id: int) -> list[int]:
        return [r[0] for r in self._conn.execute("SELECT epoch FROM checkpoints WHERE run_id=? ORDER BY epoch",
                                                 (int(run_id),))]

    def checkpoint(self, run_id: int, epoch: int | None = None) -> Checkpoint:
        """The checkpoint at the end of ``epoch`` (the latest when ``None``)."""
        epochs = self.checkpoint_epochs(run_id)
        if not epochs or (epoch is not None and int(epoch) not in epochs):
            info = self.run(run_id)
            kept = ", ".join(map(str, epochs)) or Term("none")
            raise RunStoreError("run_no_weights", run_id=run_id, name=info.name, epoch=epoch, kept=kept)
        epoch = epochs[-1] if epoch is None else int(epoch)
        row = self._conn.execute("SELECT file FROM checkpoints WHERE run_id=? AND epoch=?",
                                 (int(run_id), epoch)).fetchone()
        folder = self.run(run_id).folder
        optimizer = folder / optimizer_name(epoch)
        if not optimizer.exists():
            optimizer = folder / OPTIMIZER_NAME           # a run written before the per-epoch files
        return read_checkpoint(folder / row[0], int(run_id), optimizer)

    def lineage(self, run_id: int) -> list[RunInfo]:
        """The run, its parent, the parent's parent... (stops at a deleted ancestor)."""
        chain, seen = [], set()
        current: int | None = int(run_id)
        while current is not None and current not in seen:
            seen.add(current)
            try:
                info = self.run(current)
            except RunStoreError:
                break
            chain.append(info)
            current = info.parent_id
        return chain

    def children(self, run_id: int) -> list[int]:
        return [r[0] for r in self._conn.execute("SELECT id FROM runs WHERE parent_id=? ORDER BY id", (int(run_id),))]

    # -- continuing and branching ------------------------------------------------------------
    def continue_run(self, run_id: int, commit_interval: float = 1.0) -> tuple[RunWriter, Checkpoint]:
        """Resume an interrupted (or stopped) run from its last epoch checkpoint.

        Metrics, moments and checkpoints after that checkpoint are discarded (they belong to the
        lost part of the epoch); returns the writer and the checkpoint to load into the model.
        """
        info = self.run(run_id)
        row = self._conn.execute("SELECT * FROM runs WHERE id=?", (info.id,)).fetchone()
        if live_writer(self.db_path, info.id) or (info.status == "running" and self._writer_alive(row)):
            raise RunStoreError("run_still_training_continue", run_id=run_id, name=info.name)
        ck = self.checkpoint(run_id)
        for table, col, limit in (("batches", "step", ck.step), ("moments", "step", ck.step),
                                  ("epochs", "epoch", ck.epoch), ("checkpoints", "epoch", ck.epoch)):
            if table in ("moments", "checkpoints"):
                for r in self._conn.execute(f"SELECT file FROM {table} WHERE run_id=? AND {col}>?", (info.id, limit)):
                    (info.folder / r[0]).unlink(missing_ok=True)
            self._conn.execute(f"DELETE FROM {table} WHERE run_id=? AND {col}>?", (info.id, limit))
        self._conn.commit()
        return self.open_writer(run_id, commit_interval), ck

    def branch(self, run_id: int, epoch: int, settings_changes: dict | None = None, name: str | None = None) -> int:
        """A new run that starts from run ``run_id``'s weights at the end of ``epoch`` (an exact copy of
        that checkpoint file) with the parent's settings updated by ``settings_changes``.

        The new run's status is "created"; :meth:`checkpoint` gives its starting weights and
        :meth:`open_writer` starts writing it. Its epochs continue the parent's numbering.
        """
        parent = self.run(run_id)
        self.checkpoint(run_id, epoch)  # teaching error when that epoch has no weights
        settings = {**parent.settings, **(settings_changes or {})}
        changed = ", ".join(f"{k}={v}" for k, v in (settings_changes or {}).items())
        new_id = self.create_run(name or f"{parent.name} @ epoch {epoch}" + (f" ({changed})" if changed else ""),
                                 parent.dataset, parent.architecture, settings, parent_id=parent.id,
                                 parent_epoch=int(epoch))
        src = self._conn.execute("SELECT * FROM checkpoints WHERE run_id=? AND epoch=?",
                                 (parent.id, int(epoch))).fetchone()
        folder = self.run(new_id).folder
        names = [src["file"]]
        for candidate in (optimizer_name(epoch), OPTIMIZER_NAME):
            optimizer = read_optimizer(parent.folder / candidate)
            if optimizer is not None and optimizer[0] == int(epoch):
                names.append(candidate)  # the optimizer's moments too, when they are of that epoch
                break
        for file in names:
            tmp = folder / (file + ".tmp")
            shutil.copyfile(parent.folder / file, tmp)
            os.replace(tmp, folder / file)
        self._conn.execute("INSERT INTO checkpoints(run_id, epoch, step, file, nbytes, elapsed) "
                           "VALUES (?, ?, ?, ?, ?, ?)",
                           (new_id, src["epoch"], src["step"], src["file"], src["nbytes"], src["elapsed"]))
        self._conn.commit()
        return new_id

    # -- deleting and disk use ----------------------------------------------------------------
    def delete(self, run_id: int) -> int:
        """Delete a run's rows and files; returns the bytes freed. A run being written is refused."""
        info = self.run(run_id)
        row = self._conn.execute("SELECT * FROM runs WHERE id=?", (info.id,)).fetchone()
        if live_writer(self.db_path, info.id) or (info.status == "running" and self._writer_alive(row)):
            raise RunStoreError("run_still_training_delete", run_id=run_id, name=info.name)
        freed = self.disk_usage(run_id)
        for table in ("batches", "epochs", "moments", "checkpoints"):
            self._conn.execute(f"DELETE FROM {table} WHERE run_id=?", (info.id,))
        self._conn.execute("DELETE FROM runs WHERE id=?", (info.id,))
        self._conn.commit()
        shutil.rmtree(info.folder, ignore_errors=True)
        return freed

    def disk_usage(self, run_id: int) -> int:
        """Bytes of the run's files (its moments, checkpoints and description)."""
        folder = self.run(run_id).folder
        return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0

    def total_disk_usage(self) -> int:
        """Bytes of the whole store folder (database, its journal, every run's files)."""
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())
