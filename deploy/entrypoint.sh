#!/bin/sh
# The container's (and the process test's) way to start a role:
#   entrypoint.sh web     migrate, load the shipped draws, upsert the Q2
#                         schedules, queue the first warm-up replay, then exec
#                         gunicorn (deploy/gunicorn.conf.py)
#   entrypoint.sh worker  train a first model if none exists, then exec qcluster
#   entrypoint.sh <cmd>   run anything else (manage.py shell, ...)
# PYTHON picks the interpreter (default: python on PATH).
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}

case "${1:-web}" in
  web)
    "$PY" manage.py migrate --noinput
    "$PY" manage.py import_draws
    "$PY" manage.py setup_schedules
    # First deploy: queue the monitor's warm-up replay (the worker runs it).
    if [ "${MONITOR_REPLAY_DRAWS:-52}" != "0" ]; then
      "$PY" manage.py replay_forecasts --if-missing || echo "entrypoint: could not queue the warm-up replay" >&2
    fi
    exec "$PY" -m gunicorn -c deploy/gunicorn.conf.py lotto_site.wsgi:application
    ;;
  worker)
    if [ "${TRAIN_ON_START:-1}" = "1" ]; then
      # No model yet is not fatal: recommendations use statistical mode meanwhile.
      "$PY" manage.py train_model --if-missing || echo "entrypoint: first training failed; serving statistical mode" >&2
    fi
    exec "$PY" manage.py qcluster
    ;;
  *)
    exec "$@"
    ;;
esac
