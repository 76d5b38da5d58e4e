#!/usr/bin/env bash
# ConvScope set-up and launcher.
#
#   ./dev.sh run  [app flags...]   install what is missing, then open the app
#   ./dev.sh test [pytest args...] install what is missing, then lint (ruff) and run the whole test suite headless
#
# Works on a fresh Debian 12 with only Python 3 and apt. As root it installs the missing Debian
# packages itself; otherwise it prints the exact apt command to run. The virtual environment lives
# in .venv and is only reinstalled when pyproject.toml or this script changed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

venv="$here/.venv"
stamp="$venv/.convscope-installed"

# Debian packages: Qt's runtime libraries, a virtual X server for headless windows and screenshots,
# the OpenMP runtime for numba's parallel kernels, venv support and a font with Korean glyphs.
apt_packages=(
    libglib2.0-0 libegl1 libgl1 libfontconfig1 libxkbcommon0 libdbus-1-3
    xvfb xauth libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
    libgomp1 python3-venv fonts-nanum
)

say() { printf '\033[1m[convscope]\033[0m %s\n' "$*" >&2; }

missing_apt_packages() {
    command -v dpkg-query >/dev/null 2>&1 || return 0   # not Debian: nothing to check
    local pkg missing=()
    for pkg in "${apt_packages[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    echo "${missing[@]:-}"
}

ensure_apt_packages() {
    local missing
    missing="$(missing_apt_packages)"
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        say "installing Debian packages: $missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        say "installing Debian packages with sudo: $missing"
        sudo -n apt-get update -qq
        # shellcheck disable=SC2086
        sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    else
        say "these Debian packages are missing: $missing"
        say "install them once, then run this command again:"
        echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends $missing" >&2
        exit 1
    fi
}

pick_python() {
    local py
    for py in python3.12 python3.11 python3.10 python3; do
        if command -v "$py" >/dev/null 2>&1 &&
            "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
            echo "$py"
            return 0
        fi
    done
    say "Python 3.10 or newer is needed (Debian 12: apt-get install python3 python3-venv)"
    exit 1
}

ensure_venv() {
    local want
    want="$(cat pyproject.toml dev.sh | sha256sum | cut -d' ' -f1)"
    if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    if [ ! -x "$venv/bin/python" ]; then
        local py
        py="$(pick_python)"
        say "creating $venv with $($py --version)"
        "$py" -m venv "$venv"
    fi
    say "installing ConvScope and its Python packages into .venv (first time only)"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade "pip>=23" 
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[test]"
    echo "$want" >"$stamp"
}

have_display() {
    [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
run)
    ensure_apt_packages
    ensure_venv
    if have_display || [ -n "${QT_QPA_PLATFORM:-}" ]; then
        exec "$venv/bin/python" main.py "$@"
    fi
    say "no display found: running on a virtual X server (add --screenshot out.png to see the window)"
    exec xvfb-run -a -s "-screen 0 1600x1000x24" "$venv/bin/python" main.py "$@"
    ;;
test)
    ensure_apt_packages
    ensure_venv
    export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
    # Lint and import order first (seconds); the tests run either way so one report shows both.
    lint=0
    "$venv/bin/python" -m ruff check --quiet . || lint=$?
    [ "$lint" -eq 0 ] || say "ruff found problems (above); run: .venv/bin/ruff check --fix ."
    rc=0
    "$venv/bin/python" -m pytest "$@" || rc=$?
    [ "$rc" -ne 0 ] && exit "$rc"
    exit "$lint"
    ;;
*)
    echo "usage: ./dev.sh run [--dataset shapes|mnist|fashion_mnist] [--model NAME] [...]" >&2
    echo "       ./dev.sh test [pytest args]" >&2
    exit 2
    ;;
esac
