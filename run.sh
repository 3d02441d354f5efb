#!/usr/bin/env bash
# Set up (virtual environment, the project, Graphviz's `dot`) and run one job:
#   bash run.sh demo   - analyse the support-ticket sample log, write out/report/
#   bash run.sh test   - run the test suite
# Works on a fresh Debian machine with Python 3.11: installs python3-venv and graphviz with
# apt-get when they are missing (with sudo when not root); the tests also need a headless
# Chromium (Debian's chromium package) and Java for the PySpark tests, installed the same way.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
VENV=.venv

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

setup() {
  command -v dot >/dev/null 2>&1 || apt_install graphviz
  if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV" 2>/dev/null || { rm -rf "$VENV"; apt_install python3-venv; "$PY" -m venv "$VENV"; }
  fi
  # Reinstall only when pyproject.toml changed since the last install.
  if [ ! -f "$VENV/.installed" ] || [ pyproject.toml -nt "$VENV/.installed" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e '.[test]'
    touch "$VENV/.installed"
  fi
}

case "${1:-}" in
  demo)
    setup
    "$VENV/bin/processmine" analyze sample_logs/support_tickets.csv.gz \
      --scenarios sample_logs/scenarios.toml --out out/report
    ;;
  test)
    setup
    command -v chromium >/dev/null 2>&1 || apt_install chromium
    command -v java >/dev/null 2>&1 || apt_install default-jre-headless
    shift
    "$VENV/bin/python" -m pytest "$@"
    ;;
  *)
    echo "usage: bash run.sh demo|test [pytest args]" >&2
    exit 2
    ;;
esac
