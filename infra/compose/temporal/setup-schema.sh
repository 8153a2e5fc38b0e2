#!/bin/sh
# One-shot job (temporalio/admin-tools image): creates Temporal's two PostgreSQL databases and
# brings their schemas to the version this admin-tools release ships. Idempotent: `create`
# ignores an existing database, `setup-schema -v 0.0` keeps a newer version, `update-schema`
# applies only the missing versioned steps. Run it again after upgrading the Temporal images.
# Connection from the environment: SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD.
set -eu

: "${SQL_HOST:?SQL_HOST is required}"
: "${SQL_USER:?SQL_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD is required}"
SQL_PORT=${SQL_PORT:-5432}
SCHEMA_DIR=${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}
TEMPORAL_DB=${TEMPORAL_DB:-temporal}
VISIBILITY_DB=${VISIBILITY_DB:-temporal_visibility}

echo "waiting for PostgreSQL at $SQL_HOST:$SQL_PORT"
i=0
until nc -z -w 5 "$SQL_HOST" "$SQL_PORT"; do
  i=$((i + 1))
  [ "$i" -lt 60 ] || { echo "PostgreSQL did not answer" >&2; exit 1; }
  sleep 2
done

setup() {
  db=$1
  dir=$2
  echo "schema: $db <- $dir"
  temporal-sql-tool --db "$db" create
  temporal-sql-tool --db "$db" setup-schema -v 0.0
  temporal-sql-tool --db "$db" update-schema -d "$dir"
}

setup "$TEMPORAL_DB" "$SCHEMA_DIR/temporal/versioned"
setup "$VISIBILITY_DB" "$SCHEMA_DIR/visibility/versioned"
echo "Temporal schema ready"
