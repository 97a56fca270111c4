#!/usr/bin/env bash
# Restore a dump from scripts/backup.sh into a NEW database: `scripts/restore.sh DUMP NEW_DATABASE`.
#
# Creates NEW_DATABASE on the server of DATABASE_URL (it must not exist: a restore never overwrites a database) and
# restores DUMP into it in one transaction, so it either holds the whole dump or is dropped again. Then updates the
# planner statistics. Switch the application over by pointing DATABASE_URL at the new database and restarting it.
#
# Environment:
#   DATABASE_URL              server and credentials to use (its database is only connected to, never changed)
#   SAMVERKAN_RESTORE_OWNER   role that is to own the new database and everything in it (default: the connecting
#                             role); set it when restoring as postgres for the application's role
set -euo pipefail

die() { echo "restore.sh: $*" >&2; exit 2; }

[ $# -eq 2 ] || die "usage: scripts/restore.sh DUMP NEW_DATABASE"
dump="$1"
name="$2"
[ -r "$dump" ] || die "cannot read $dump"
[[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]{0,62}$ ]] || die "NEW_DATABASE must be a plain name (letters, digits, _)"
[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/samverkan)"
case "$DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  *) die "DATABASE_URL must be a postgres:// address" ;;
esac
for tool in pg_restore createdb dropdb psql; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install postgresql-client)"
done
pg_restore --list "$dump" >/dev/null || die "$dump is not a dump that pg_restore can read"

# The new database's address: DATABASE_URL with its database name replaced, query string (e.g. ?host=/run/...) kept.
path="${DATABASE_URL%%\?*}"
query="${DATABASE_URL#"$path"}"
[ "${path##*/}" != "$path" ] || die "DATABASE_URL names no database"
target="${path%/*}/$name$query"

owner=()
role=()
if [ -n "${SAMVERKAN_RESTORE_OWNER:-}" ]; then
  owner=(--owner="$SAMVERKAN_RESTORE_OWNER")
  role=(--role="$SAMVERKAN_RESTORE_OWNER")
fi

createdb --no-password --maintenance-db="$DATABASE_URL" "${owner[@]}" "$name"
trap 'echo "restore.sh: the restore failed; dropping $name again" >&2; dropdb --no-password --maintenance-db="$DATABASE_URL" "$name"' ERR
# Ownership and grants of the old server may name roles this one does not have; the restored objects belong to
# the restoring role (or SAMVERKAN_RESTORE_OWNER) instead.
pg_restore --no-password --no-owner --no-privileges "${role[@]}" --exit-on-error --single-transaction \
  --dbname="$target" "$dump"
psql --no-password --quiet --dbname="$target" --command="ANALYZE"
trap - ERR
echo "restored $dump into $name"
