# Sourced by ./run and ./test: make the virtualenv and install what it lacks.
# Idempotent: a second run only checks that the pinned versions are present.
# The lock files pin every package with its sha256 (scripts/lock_requirements):
# pip refuses a file whose hash differs, and any package the lock lacks.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
REQS=${1:-requirements.txt}
stamp=".venv/.installed-$(cat requirements*.txt | sha256sum | cut -c1-16)-$(basename "$REQS")"
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install --disable-pip-version-check -q --require-hashes -r "$REQS"
  touch "$stamp"
fi
