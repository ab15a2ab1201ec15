#!/usr/bin/env bash
# Installs the Debian packages the course needs: graphviz for the architecture diagram, bubblewrap
# for the sandbox that class grading runs each submission in, and, with --browser, Debian's Chromium for the browser test of the built book (tests/browser; Playwright
# drives this Chromium and downloads no browser of its own).
# With --require a missing package is an error (CI); without it, a warning (the book then shows a
# stored diagram instead of drawing one; class grading runs submissions without a sandbox, with a
# warning; the browser tests are skipped).
#   bash scripts/install-system-packages.sh [--require] [--browser]
set -euo pipefail
require=false
browser=false
for arg in "$@"; do
    case "$arg" in
        --require) require=true ;;
        --browser) browser=true ;;
        *) echo "unknown option: $arg" >&2; exit 2 ;;
    esac
done

missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
if $browser && ! command -v chromium >/dev/null 2>&1; then
    # A font for the screenshots' text (Chromium only recommends one).
    missing+=(chromium fonts-dejavu-core)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    sudo=(false)
fi

export DEBIAN_FRONTEND=noninteractive
if "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    exit 0
fi
echo "Could not install ${missing[*]} with apt-get (run as root, or: sudo apt-get install ${missing[*]})." >&2
if $require; then exit 1; fi
echo "Continuing without it: the book shows a stored architecture diagram instead of drawing one," >&2
echo "class grading runs submissions without a sandbox, and the browser tests are skipped." >&2
