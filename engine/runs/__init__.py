"""Training timeline and run store: what the model looked like at each moment, and every run kept on disk.

- :mod:`engine.runs.history`: ``RunHistory``, the in-memory timeline (log-spaced moments, epoch weights)
- :mod:`engine.runs.store`: ``RunStore``, SQLite + ``.npz`` files in the user's data folder
- :mod:`engine.runs.writer`: ``RunWriter``, the one background thread that writes a running run
- :mod:`engine.runs.recorder`: ``RunRecorder``, the glue to ``Trainer.run``'s callbacks
- :mod:`engine.runs.compare`: ``compare(store, run_ids)``
- :mod:`engine.runs.export`: timelines as animated GIFs or PNG sequences
"""

from engine.runs.compare import RunComparison, compare, settings_rows
from engine.runs.errors import RunStoreError
from engine.runs.files import Checkpoint
from engine.runs.history import (
           EpochRecord,
           Moment,
           RunHistory,
           kept_steps,
           values_from_model,
           values_from_snapshot,
)
from engine.runs.recorder import RunRecorder, resume_trainer
from engine.runs.store import RunInfo, RunStore, default_runs_dir
from engine.runs.writer import RunWriter

__all__ = [
           "Checkpoint",
           "EpochRecord",
           "Moment",
           "RunComparison",
           "RunHistory",
           "RunInfo",
           "RunRecorder",
           "RunStore",
           "RunStoreError",
           "RunWriter",
           "compare",
           "default_runs_dir",
           "kept_steps",
           "resume_trainer",
           "settings_rows",
           "values_from_model",
           "values_from_snapshot",
]
