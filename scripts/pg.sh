#!/usr/bin/env bash
# pg.sh starts and stops a throwaway PostgreSQL server from the machine's own
# binaries, listening only on a Unix socket inside a directory of its own.
# It is cmd/pgtemp (storage/pgtemp), the one starter the demo uses too:
#
#   scripts/pg.sh start DIR        start a server in DIR (created if missing), print its URL
#   scripts/pg.sh stop DIR         stop it and remove DIR
#   scripts/pg.sh run -- CMD...    start one in a temporary directory, run CMD with
#                                  DATABASE_URL and TEST_DATABASE_URL set, stop it again
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"${GO:-go}" build -C "$repo" -o "$repo/bin/pgtemp" ./cmd/pgtemp
exec "$repo/bin/pgtemp" "$@"
