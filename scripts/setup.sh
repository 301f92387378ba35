#!/usr/bin/env bash
# Creates .venv with the pinned dependencies (idempotent: reinstalls only when a requirements file changes).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
REQS=(inference/requirements.txt backend/requirements.txt requirements-dev.txt)
stamp_value=$(cat "${REQS[@]}" requirements.lock | sha256sum | cut -c1-16)
stamp=.venv/.deps-$stamp_value

# Debian packages the test suites run for real: redis-server (every suite; the fault suite also starts
# private ones) and Postgres's server binaries (the fault suite's private clusters: initdb, pg_ctl).
# Files: libmagic (type sniffing), Tesseract with its English and simplified Chinese data (OCR), and a
# font with Chinese glyphs (the tests render pictures of Chinese text).
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
compgen -G "/usr/lib/*/libmagic.so.1" >/dev/null || missing+=(libmagic1)
command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr tesseract-ocr-eng)
compgen -G "/usr/share/tesseract-ocr/*/tessdata/chi_sim.traineddata" >/dev/null || missing+=(tesseract-ocr-chi-sim)
[ -n "$(fc-list :lang=zh 2>/dev/null)" ] || missing+=(fonts-wqy-zenhei)
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "==> installing Debian packages: ${missing[*]}"
    mkdir -p var/log
    { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}" ||
      { apt-get -o DPkg::Lock::Timeout=600 update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"; }; } \
      >var/log/apt.log 2>&1 || echo "    could not install ${missing[*]} (see var/log/apt.log); the tests that need them will fail"
  else
    echo "==> missing ${missing[*]}: install them (Debian/Ubuntu: sudo apt-get install ${missing[*]}) to run every test suite"
  fi
fi

if [ -f "$stamp" ]; then
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
echo "==> installing pinned Python dependencies (the first time takes a few minutes: vLLM and torch)"
.venv/bin/python -m pip install --quiet --upgrade "pip==25.3"
constraint=()
[ -f requirements.lock ] && constraint=(-c requirements.lock)
# vLLM first, so that torch comes from its pin (the CPU build on these machines).
.venv/bin/pip install --quiet "${constraint[@]}" -r inference/requirements.txt
.venv/bin/pip install --quiet "${constraint[@]}" -r backend/requirements.txt -r requirements-dev.txt
# PyPI's torchvision/torchaudio break `transformers` next to the CPU torch; the text models need neither.
.venv/bin/pip uninstall --quiet -y torchvision torchaudio torchcodec >/dev/null 2>&1 || true
rm -f .venv/.deps-*
touch "$stamp"
echo "==> .venv ready"
