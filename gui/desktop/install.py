"""Install ConvScope into the current user's applications menu, or take it out again.

    python -m gui.desktop.install [--uninstall] [--data-home DIR] [--no-update]

Writes, under ``$XDG_DATA_HOME`` (default ``~/.local/share``):

- ``applications/convscope.desktop``: the menu entry (English and Korean), ``Exec`` = this
  environment's ``convscope`` launcher with ``%F`` (the files chosen in the file manager);
- ``icons/hicolor/<n>x<n>/apps/convscope.png`` for every rendered size and
  ``icons/hicolor/scalable/apps/convscope.svg``;
- ``mime/packages/convscope.xml``: the ConvScope model and lesson file types
  (see :mod:`gui.desktop.filetypes`);
- ``convscope/desktop-install.json``: the manifest of every file and folder written, so that
  ``--uninstall`` removes exactly those (and the caches the desktop tools derived from them) and
  nothing else.

Then it refreshes the desktop's caches with ``update-mime-database`` and ``update-desktop-database``
when they are installed. ``gtk-update-icon-cache`` runs only where an icon cache already exists (a
user icon folder normally has none; a stale one would hide the new icon).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from gui.desktop.paths import APP_ID, data_home
from gui.i18n import set_language, tr

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ICON_DIR = PROJECT_ROOT / "resources" / "icons"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
MANIFEST_NAME = "desktop-install.json"
DESKTOP_FILE = f"applications/{APP_ID}.desktop"
MIME_PACKAGE = f"mime/packages/{APP_ID}.xml"
TOOL_TIMEOUT = 60


class InstallError(Exception):
    """A problem the user can fix; the message says how (shown without a traceback)."""


@dataclass
class Report:
    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)   # what each desktop tool did, one line each


# -- what is written ---------------------------------------------------------------------------
def default_launcher() -> list[str]:
    """The command that starts ConvScope from this environment: its ``convscope`` script when pip
    installed one, else this Python running the project's ``main.py``."""
    script = Path(sys.executable).parent / APP_ID
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, str(PROJECT_ROOT / "main.py")]


def _exec_quote(arg: str) -> str:
    """Quote one argument for a desktop entry's ``Exec`` key (Desktop Entry spec, "The Exec key")."""
    reserved = set(" \t\n\"'\\><~|&;$*?#()`=%")
    if arg and not any(ch in reserved for ch in arg):
        return arg
    inner = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg).replace("%", "%%")
    # the value is also a desktop-entry string, where a backslash is written twice
    return '"' + inner.replace("\\", "\\\\") + '"'


def desktop_entry(launcher: list[str]) -> str:
    from gui.desktop import (
        filetypes,  # numpy + Pillow: only for installing, so any python3 uninstalls
    )

    mimes = filetypes.image_mime_types() + [filetypes.MODEL_MIME, filetypes.LESSON_MIME]
    command = " ".join(_exec_quote(a) for a in launcher)
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        "Name=ConvScope",
        "Name[ko]=ConvScope 합성곱 신경망 보기",
        "GenericName=CNN visualizer",
        "GenericName[ko]=합성곱 신경망 시각화",
        "Comment=Watch a convolutional neural network learn: filters, feature maps and training curves, live",
        "Comment[ko]=합성곱 신경망이 학습하는 모습을 필터, 특성 맵, 학습 곡선으로 실시간으로 지켜보세요",
        f"Exec={command} %F",
        f"TryExec={_exec_quote(launcher[0])}",
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Education;Science;",
        "Keywords=CNN;convolution;neural network;deep learning;MNIST;machine learning;",
        "Keywords[ko]=CNN;합성곱;신경망;딥러닝;머신러닝;MNIST;",
        "MimeType=" + "".join(m + ";" for m in mimes),
        "StartupNotify=true",
        "StartupWMClass=ConvScope",
        "",
    ]
    return "\n".join(lines)


def mime_package() -> str:
    """The shared-mime-info package for ConvScope's own file types."""
    from gui.desktop import filetypes as m
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="{m.MODEL_MIME}">
    <comment>ConvScope model</comment>
    <comment xml:lang="ko">ConvScope 모델</comment>
    <sub-class-of type="application/zip"/>
    <generic-icon name="{APP_ID}"/>
    <glob pattern="*{m.MODEL_SUFFIX}" weight="60"/>
    <magic priority="60">
      <match type="string" offset="0" value="PK\\003\\004">
        <match type="string" offset="30" value="{escape(m.MODEL_FIRST_MEMBER)}"/>
      </match>
    </magic>
  </mime-type>
  <mime-type type="{m.LESSON_MIME}">
    <comment>ConvScope lesson</comment>
    <comment xml:lang="ko">ConvScope 수업</comment>
    <sub-class-of type="application/json"/>
    <generic-icon name="{APP_ID}"/>
    <glob pattern="*{m.LESSON_SUFFIX}" weight="60"/>
  </mime-type>
</mime-info>
"""


def planned_files(launcher: list[str]) -> dict[str, bytes | Path]:
    """Relative path under the data home -> contents (bytes) or the file to copy."""
    files: dict[str, bytes | Path] = {
        DESKTOP_FILE: desktop_entry(launcher).encode("utf-8"),
        MIME_PACKAGE: mime_package().encode("utf-8"),
        f"icons/hicolor/scalable/apps/{APP_ID}.svg": ICON_DIR / f"{APP_ID}.svg",
    }
    for size in ICON_SIZES:
        files[f"icons/hicolor/{size}x{size}/apps/{APP_ID}.png"] = ICON_DIR / f"{APP_ID}-{size}.png"
    missing = [str(src) for src in files.values() if isinstance(src, Path) and not src.is_file()]
    if missing:
        raise InstallError(tr("The icon files are missing: {}. Run: python resources/icons/make_icons.py")
                           .format(", ".join(missing)))
    return files


# -- install / uninstall -----------------------------------------------------------------------
def _check_home(home: Path) -> None:
    if not home.exists():
        if os.environ.get("XDG_DATA_HOME", "").strip() and home == data_home():
            raise InstallError(tr("The folder {} (XDG_DATA_HOME) does not exist. Create it with "
                                  "'mkdir -p {}' or unset XDG_DATA_HOME, then run this again.").format(home, home))
        if not home.parent.exists() and not home.parent.parent.exists():
            raise InstallError(tr("The folder {} does not exist and cannot be made here (is HOME set "
                                  "right?). Set XDG_DATA_HOME to a folder you own, then run this again.")
                               .format(home))
    elif not home.is_dir():
        raise InstallError(tr("{} is not a folder. Set XDG_DATA_HOME to a folder you own, then run this again.")
                           .format(home))


def _write_error(path: Path, exc: OSError) -> InstallError:
    return InstallError(tr("Cannot write {}: {}. Make the folder writable (see 'ls -ld {}') or set "
                           "XDG_DATA_HOME to a folder you own, then run this again. Nothing was installed.")
                        .format(path, exc.strerror or exc, path.parent))


def _mkdirs(path: Path, created: list[Path]) -> None:
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir()
        created.append(d)


def install(home: Path | None = None, launcher: list[str] | None = None, update: bool = True) -> Report:
    """Write the menu entry, icons and MIME package; raise :class:`InstallError` (nothing left
    behind) when the data folder is missing or read-only. Installing again replaces the files."""
    home = Path(home) if home is not None else data_home()
    _check_home(home)
    if (home / APP_ID / MANIFEST_NAME).exists():
        uninstall(home, update=False)
    files = planned_files(launcher or default_launcher())
    report = Report()
    created: list[Path] = []
    icon_caches_before = _icon_caches(home)
    mime_cache_existed = (home / "mime" / "mime.cache").exists()
    desktop_cache_existed = (home / "applications" / "mimeinfo.cache").exists()
    try:
        for rel, content in files.items():
            target = home / rel
            _mkdirs(target.parent, created)
            tmp = target.with_name(target.name + ".tmp")
            if isinstance(content, Path):
                shutil.copyfile(content, tmp)
            else:
                tmp.write_bytes(content)
            os.replace(tmp, target)
            report.written.append(target)
        manifest = home / APP_ID / MANIFEST_NAME
        _mkdirs(manifest.parent, created)
        manifest.write_text(json.dumps({
            "files": [str(p.relative_to(home)) for p in report.written],
            "created_dirs": [str(d.relative_to(home)) for d in created],
            # caches the desktop tools made from our files alone are removed with them
            "mime_cache_existed": mime_cache_existed,
            "desktop_cache_existed": desktop_cache_existed,
        }, indent=1), encoding="utf-8")
        report.written.append(manifest)
    except OSError as exc:
        failed = Path(exc.filename) if getattr(exc, "filename", None) else home
        for p in report.written:
            p.unlink(missing_ok=True)
        for d in reversed(created):
            _remove_empty(d)
        raise _write_error(failed, exc) from None
    if update:
        report.tools += _refresh(home, icon_caches_before)
    return report


def uninstall(home: Path | None = None, update: bool = True) -> Report:
    """Remove what :func:`install` wrote (by its manifest) and the caches derived from it."""
    home = Path(home) if home is not None else data_home()
    report = Report()
    manifest = home / APP_ID / MANIFEST_NAME
    if not manifest.is_file():
        report.tools.append(tr("ConvScope is not installed in {} (no {} there): nothing to remove.")
                            .format(home, MANIFEST_NAME))
        return report
    try:
        record = json.loads(manifest.read_text(encoding="utf-8"))
        for rel in record.get("files", []):
            p = home / rel
            if p.is_file() or p.is_symlink():
                p.unlink()
                report.removed.append(p)
        manifest.unlink()
        report.removed.append(manifest)
    except (OSError, ValueError) as exc:
        raise InstallError(tr("Could not remove ConvScope from {}: {}. Check that the folder is writable, "
                              "then run this again.").format(home, exc)) from None
    refresh_mime = refresh_desktop = True
    mime, apps = home / "mime", home / "applications"
    if not record.get("mime_cache_existed", True) and not _files_in(mime / "packages"):
        # every file left beside packages/ was generated from our package by update-mime-database
        for child in _files_in(mime):
            if child.name != "packages":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        refresh_mime = False
    if not record.get("desktop_cache_existed", True):
        (apps / "mimeinfo.cache").unlink(missing_ok=True)   # update-desktop-database made it for us
        refresh_desktop = False
    for rel in sorted(record.get("created_dirs", []), key=lambda r: -r.count("/")):
        if _remove_empty(home / rel):
            report.removed.append(home / rel)
    if update:
        report.tools += _refresh(home, _icon_caches(home), mime=refresh_mime, desktop=refresh_desktop)
    return report


def _files_in(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir()] if folder.is_dir() else []


def _remove_empty(d: Path) -> bool:
    try:
        d.rmdir()
        return True
    except OSError:
        return False


def _icon_caches(home: Path) -> list[Path]:
    cache = home / "icons" / "hicolor" / "icon-theme.cache"
    return [cache] if cache.is_file() else []


def _run(command: list[str]) -> str:
    tool = shutil.which(command[0])
    if tool is None:
        return tr("{}: not installed, skipped").format(command[0])
    try:
        done = subprocess.run([tool, *command[1:]], capture_output=True, text=True, timeout=TOOL_TIMEOUT,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{command[0]}: {exc}"
    out = (done.stderr or done.stdout).strip().replace("\n", " ")
    return f"{' '.join(command)}: " + ("ok" if done.returncode == 0 else f"exit {done.returncode} {out}")


def _refresh(home: Path, icon_caches: list[Path], mime: bool = True, desktop: bool = True) -> list[str]:
    lines = []
    if mime and (home / "mime" / "packages").is_dir():
        lines.append(_run(["update-mime-database", str(home / "mime")]))
    if desktop and (home / "applications").is_dir():
        lines.append(_run(["update-desktop-database", str(home / "applications")]))
    for cache in icon_caches:
        lines.append(_run(["gtk-update-icon-cache", "-f", "-t", "-q", str(cache.parent)]))
    return lines


# -- command line ------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    set_language(None)
    p = argparse.ArgumentParser(prog="python -m gui.desktop.install",
                                description="Add ConvScope to your applications menu (or remove it).")
    p.add_argument("--uninstall", action="store_true", help="remove everything a previous install wrote")
    p.add_argument("--data-home", default=None, help="install here instead of $XDG_DATA_HOME")
    p.add_argument("--no-update", action="store_true", help="do not run the desktop cache tools")
    args = p.parse_args(argv)
    try:
        if args.uninstall:
            report = uninstall(args.data_home, update=not args.no_update)
        else:
            report = install(args.data_home, update=not args.no_update)
    except InstallError as exc:
        print(f"convscope: {exc}", file=sys.stderr)
        return 1
    for path in report.written:
        print(tr("wrote {}").format(path))
    for path in report.removed:
        print(tr("removed {}").format(path))
    for line in report.tools:
        print(line)
    if not args.uninstall:
        print(tr("ConvScope is in your applications menu (Education). Uninstall: ./dev.sh uninstall"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
