# Shared shell helpers for the scripts and the shell-level tests.

# A TCP port on 127.0.0.1 that nothing listens on.  Tests start below the
# kernel's ephemeral range (32768-60999 on Debian), where no outgoing
# connection can be holding the port by the time the server binds it.
free_port() {
  local p
  for p in $(seq "${1:-55000}" 65000); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

pg_bindir() { pg_config --bindir; }

# Run a PostgreSQL program as the postgres OS user (initdb refuses root).
as_postgres() { runuser -u postgres -- "$@"; }

export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}

# init_cluster DIR PORT [CONF_LINE...]: a PostgreSQL cluster owned by the
# postgres user, listening on 127.0.0.1:PORT only, with extra settings.
init_cluster() {
  local dir=$1 port=$2
  shift 2
  mkdir -p "$dir"
  chown postgres: "$dir"
  chmod 700 "$dir"
  as_postgres "$("$PG_CONFIG" --bindir)/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null || return 1
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $port"
    echo "unix_socket_directories = '$dir'"
    for line in "$@"; do echo "$line"; done
  } >> "$dir/postgresql.conf"
}

start_cluster() {
  as_postgres "$("$PG_CONFIG" --bindir)/pg_ctl" -D "$1" -l "$1/server.log" -w -t 60 start >/dev/null
}

stop_cluster() {
  [ -f "$1/postmaster.pid" ] || return 0
  as_postgres "$("$PG_CONFIG" --bindir)/pg_ctl" -D "$1" -m fast -w -t 60 stop >/dev/null 2>&1 ||
    kill -9 "$(head -1 "$1/postmaster.pid")" 2>/dev/null
}

# psql_at DIR PORT DB [psql args...]
psql_at() {
  local dir=$1 port=$2 db=$3
  shift 3
  as_postgres "$("$PG_CONFIG" --bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -d "$db" "$@"
}
