#!/usr/bin/env bash
# Minimal version of the official clickhouse-server entrypoint: with no
# arguments (or options only) start the server as user clickhouse in the
# foreground; any other command (e.g. clickhouse-client) runs as given.
set -euo pipefail
if [ $# -eq 0 ] || [ "${1#-}" != "$1" ]; then
	set -- clickhouse-server --config-file="$CLICKHOUSE_CONFIG" "$@"
fi
if [ "$1" = 'clickhouse-server' ] && [ "$(id -u)" = '0' ]; then
	mkdir -p /var/lib/clickhouse /var/log/clickhouse-server
	chown clickhouse:clickhouse /var/lib/clickhouse /var/log/clickhouse-server
	exec setpriv --reuid=clickhouse --regid=clickhouse --init-groups "$@"
fi
exec "$@"
