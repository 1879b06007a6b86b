#!/usr/bin/env bash
# pg.sh starts and stops a throwaway PostgreSQL server from the machine's own
# binaries, in a directory of its own, listening only on a Unix socket inside
# that directory (so it never clashes with another server or another run).
#
#   scripts/pg.sh start DIR        start a server in DIR (created if missing), print its URL
#   scripts/pg.sh stop DIR         stop it and remove DIR
#   scripts/pg.sh run -- CMD...    start one in a temporary directory, run CMD with
#                                  DATABASE_URL and TEST_DATABASE_URL set, stop it again
set -euo pipefail

find_bin() {
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(readlink -f "$(command -v pg_ctl)")"
		return 0
	fi
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return 0
		fi
	done
	echo "pg.sh: PostgreSQL's initdb and pg_ctl were not found on PATH or under /usr/lib/postgresql/*/bin." >&2
	echo "pg.sh: install them (Debian: apt-get install postgresql) or set DATABASE_URL to a server you have." >&2
	exit 1
}

# as_pg runs a command as the postgres user when we are root, since
# PostgreSQL refuses to run as root.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		local cmd
		printf -v cmd '%q ' "$@"
		su postgres -s /bin/sh -c "$cmd"
	else
		"$@"
	fi
}

start() {
	local dir=$1 bin
	bin=$(find_bin)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
		chown postgres "$dir"
	fi
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log" >&2; exit 1; }
	fi
	# -F: no fsync, this data is thrown away. Only a socket in $dir, no TCP.
	as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-F -k $dir -c listen_addresses= -c max_connections=200" start >/dev/null ||
		{ cat "$dir/server.log" >&2; exit 1; }
	as_pg "$bin/psql" -h "$dir" -U postgres -d postgres -qAt \
		-c "SELECT 1 FROM pg_database WHERE datname = 'slabot'" | grep -q 1 ||
		as_pg "$bin/createdb" -h "$dir" -U postgres slabot
	echo "postgres://postgres@/slabot?host=$dir&sslmode=disable"
}

stop() {
	local dir=$1 bin
	bin=$(find_bin)
	[ -d "$dir" ] || return 0
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
}

case "${1:-}" in
start) start "${2:?usage: pg.sh start DIR}" ;;
stop) stop "${2:?usage: pg.sh stop DIR}" ;;
run)
	shift
	[ "${1:-}" = "--" ] && shift
	[ $# -gt 0 ] || { echo "usage: pg.sh run -- CMD..." >&2; exit 2; }
	dir=$(mktemp -d "${TMPDIR:-/tmp}/slabot-pg.XXXXXX")
	trap 'stop "$dir"' EXIT
	trap 'exit 130' INT TERM
	url=$(start "$dir")
	echo "pg.sh: throwaway PostgreSQL at $dir" >&2
	DATABASE_URL=$url TEST_DATABASE_URL=$url "$@"
	;;
*)
	echo "usage: pg.sh start DIR | stop DIR | run -- CMD..." >&2
	exit 2
	;;
esac
