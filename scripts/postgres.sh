# Sourced by scripts/test after toolchain.sh: makes sure PostgreSQL answers on 127.0.0.1:5432, starting (or, on a
# bare Debian machine, installing) it, and exports the connection strings the tests use.
# Sourced on its own, it brings the helpers (apt_install, as_root) it needs.
declare -F apt_install >/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! pg_ready; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "postgres: not installed; installing Debian's postgresql"
    apt_install postgresql
  fi
  version="$(ls /etc/postgresql | sort -V | tail -1)"
  echo "postgres: starting cluster $version/main"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
fi
if ! pg_ready; then
  echo "postgres: nothing answers on 127.0.0.1:5432; the PostgreSQL tests cannot run" >&2
  exit 1
fi

# Trust auth (this project's machines) needs no password; a fresh Debian install gets one set here.
if ! psql -w -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  as_root su postgres -c "psql -q -c \"alter user postgres password 'postgres'\"" >/dev/null
  export PGPASSWORD=postgres
  export IM_APPROVAL_TEST_POSTGRES_URL="postgresql://postgres:postgres@127.0.0.1:5432/postgres"
fi
export IM_APPROVAL_TEST_POSTGRES_URL="${IM_APPROVAL_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
export BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING="$IM_APPROVAL_TEST_POSTGRES_URL"
