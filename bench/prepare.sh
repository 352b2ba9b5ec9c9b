#!/usr/bin/env bash
# Gives `make bench` its default PostgreSQL role (keyward, password keyward, CREATEDB) on a machine
# where CI never ran; bench.auth creates the database itself. Needs the local `postgres` superuser.
set -euo pipefail
role="${1:-keyward}"

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if ! psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -q -v role="$role" >/dev/null <<'SQL'
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', :'role', :'role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SQL
then
  echo "make bench needs PostgreSQL on 127.0.0.1:5432 with a role $role (password $role, CREATEDB):" \
    "create it as a superuser with CREATE ROLE $role LOGIN CREATEDB PASSWORD '$role', or set DATABASE_URL." >&2
  exit 1
fi
