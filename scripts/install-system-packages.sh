#!/usr/bin/env bash
# Installs the Debian packages the course needs (graphviz for the architecture diagram).
# With --require a missing package is an error (CI); without it, a warning (the book then shows a
# stored diagram instead of drawing one).
set -euo pipefail
require=false
[ "${1:-}" = "--require" ] && require=true

missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
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
echo "Continuing without it: the book shows a stored architecture diagram instead." >&2
