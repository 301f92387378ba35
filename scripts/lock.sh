#!/usr/bin/env bash
# Regenerates requirements.lock from the current .venv after a requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/.."
{
  echo "# Every installed package, pinned: used as a constraints file by scripts/setup.sh. Regenerate with scripts/lock.sh."
  .venv/bin/pip freeze --exclude-editable | grep -v '^-e'
} > requirements.lock
