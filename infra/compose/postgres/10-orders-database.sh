#!/bin/bash
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d): creates
# the orders service's own role and database next to Temporal's. The superuser (POSTGRES_USER)
# is the one Temporal's schema tool and server use. The image sources or executes this file,
# so it sets no shell options of its own.
: "${ORDERS_DB_USER:?ORDERS_DB_USER is required}"
: "${ORDERS_DB_PASSWORD:?ORDERS_DB_PASSWORD is required}"
: "${ORDERS_DB_NAME:?ORDERS_DB_NAME is required}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v orders_user="$ORDERS_DB_USER" -v orders_password="$ORDERS_DB_PASSWORD" -v orders_db="$ORDERS_DB_NAME" <<'SQL'
CREATE ROLE :"orders_user" LOGIN PASSWORD :'orders_password';
CREATE DATABASE :"orders_db" OWNER :"orders_user";
SQL
