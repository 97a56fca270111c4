#!/usr/bin/env bash
# Back up the Samverkan database: `scripts/backup.sh [DIR]`.
#
# Writes DIR/samverkan-<database>-<UTC time>.dump with `pg_dump --format=custom` (restore it with
# scripts/restore.sh), checks that pg_restore can read it, then keeps the newest SAMVERKAN_BACKUP_KEEP dumps of this
# database and deletes the older ones.
#
# Environment:
#   DATABASE_URL           the database, as the application uses it (postgres://USER[:PASSWORD]@HOST:PORT/NAME)
#   SAMVERKAN_BACKUP_DIR   where dumps go when DIR is not given (default /var/backups/samverkan)
#   SAMVERKAN_BACKUP_KEEP  how many dumps to keep (default 14)
#
# Exit code 0 when the dump is written and readable; anything else leaves the earlier dumps untouched.
set -euo pipefail

die() { echo "backup.sh: $*" >&2; exit 2; }

[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set (e.g. postgres://samverkan@127.0.0.1:5432/samverkan)"
case "$DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  *) die "DATABASE_URL must be a postgres:// address; SQLite is backed up by copying var/samverkan.sqlite3" ;;
esac
command -v pg_dump >/dev/null || die "pg_dump is missing (apt-get install postgresql-client)"

dir="${1:-${SAMVERKAN_BACKUP_DIR:-/var/backups/samverkan}}"
keep="${SAMVERKAN_BACKUP_KEEP:-14}"
[[ "$keep" =~ ^[1-9][0-9]*$ ]] || die "SAMVERKAN_BACKUP_KEEP must be a whole number above 0 (got '$keep')"

# The database name is the URL's path without the query string; it names the files so that several databases
# can share one directory without pruning each other's dumps.
path="${DATABASE_URL%%\?*}"
database="${path##*/}"
[ -n "$database" ] && [ "$database" != "$path" ] || die "DATABASE_URL names no database"

# Dumps hold everything the application stores, so only their owner may read them.
umask 077
mkdir -p "$dir"
stamp="$(date -u +%Y-%m-%dT%H%M%SZ)"
target="$dir/samverkan-$database-$stamp.dump"
[ ! -e "$target" ] || die "$target exists already; wait a second and run again"
partial="$target.partial"
trap 'rm -f "$partial"' EXIT

# Written under another name first: a dump that fails halfway never looks like a backup and never causes a good
# one to be pruned.
pg_dump --format=custom --compress=6 --no-password --file="$partial" --dbname="$DATABASE_URL"
pg_restore --list "$partial" >/dev/null
mv "$partial" "$target"
trap - EXIT
echo "$target ($(du -h "$target" | cut -f1))"

# The UTC time in the name sorts like the time itself, so the names decide which dumps are the newest.
pattern="samverkan-$database-[0-9][0-9][0-9][0-9]-*.dump"
mapfile -t dumps < <(find "$dir" -maxdepth 1 -type f -name "$pattern" -printf '%f\n' | sort -r)
for old in "${dumps[@]:$keep}"; do
  rm -f -- "$dir/$old"
  echo "deleted $dir/$old"
done
