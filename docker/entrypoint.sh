#!/bin/sh
# Boxset container entrypoint.
#   web     (default) apply migrations, bootstrap roles, then serve with gunicorn
#   worker  run the job consumer (start it after `web` is healthy: migrations have run)
#   other   run that command instead (e.g. `flask --app run db current`, `sh`)
set -eu

# The image keeps the code in /app; resolving it from here also works in a source checkout.
cd "$(dirname "$0")/.."

log() {
    echo "boxset-entrypoint: $*" >&2
}

# The data directory (covers, and the SQLite files when no DATABASE_URL/REDIS_URL is set)
# must be writable by this user. A bind-mounted host directory is often owned by root.
check_data_dir() {
    data_dir="${DATA_DIR:-/data}"
    mkdir -p "$data_dir" 2>/dev/null || true
    if [ ! -w "$data_dir" ]; then
        log "error: DATA_DIR $data_dir is not writable by uid $(id -u)."
        log "If it is a bind mount, on the host run: sudo chown -R $(id -u):$(id -g) <that directory>"
        exit 1
    fi
}

cmd="${1:-web}"
if [ "$#" -gt 0 ]; then
    shift
fi

case "$cmd" in
    web)
        check_data_dir
        log "applying database migrations"
        # set -e: a failed upgrade (already rolled back) stops the container here, error above.
        flask --app run boxset upgrade
        log "bootstrapping roles and permissions"
        flask --app run boxset init
        log "starting gunicorn"
        exec gunicorn -c gunicorn.conf.py "$@" wsgi:app
        ;;
    worker)
        check_data_dir
        log "starting the job consumer"
        exec flask --app run boxset worker "$@"
        ;;
    *)
        exec "$cmd" "$@"
        ;;
esac
