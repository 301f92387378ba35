#!/usr/bin/env bash
# Builds the Expo app's web build into mobile/dist (served by the backend at /).
set -euo pipefail
cd "$(dirname "$0")/../mobile"
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund
npm run build:web
