#!/usr/bin/env bash
# Backup and restore of the sweeper's PostgreSQL database (docs/operations.md: restore a backup).
#   deploy/scripts/pg-backup.sh dump    DATABASE_URL FILE   # pg_dump, custom format (compressed, restorable per table)
#   deploy/scripts/pg-backup.sh restore FILE DATABASE_URL   # pg_restore into an existing, empty or older database
# Restoring replaces every object the dump holds (--clean --if-exists); stop beat and the workers first.
# tests/integration/test_backup_restore.py runs both.
set -euo pipefail

usage() { echo "usage: $0 dump DATABASE_URL FILE | restore FILE DATABASE_URL" >&2; exit 2; }
[ $# -eq 3 ] || usage

case "$1" in
  dump)
    pg_dump --format=custom --no-owner --no-privileges --file="$3" "$2"
    echo "dumped to $3 ($(stat -c %s "$3") bytes)"
    ;;
  restore)
    pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error --dbname="$3" "$2"
    echo "restored $2"
    ;;
  *)
    usage
    ;;
esac
