#!/usr/bin/env bash
set -euo pipefail
# `docker run image --appendonly yes` / `image my.conf` work like upstream.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then set -- redis-server "$@"; fi

if [ "$1" = 'redis-server' ]; then
	config=; bind=; protected=
	if [ -f "${2:-}" ]; then config="$2"; fi
	for a in "$@"; do
		case "$a" in --bind) bind=1 ;; --protected-mode) protected=1 ;; esac
	done
	if [ -n "$config" ]; then
		grep -q '^protected-mode' "$config" && protected=1
		grep -q '^bind' "$config" && bind=1
	fi
	[ -n "$protected" ] || set -- "$@" --protected-mode no
	[ -n "$bind" ] || set -- "$@" --bind 0.0.0.0 '-::*'
	if [ "$(id -u)" = '0' ]; then
		find . \! -user redis -exec chown redis '{}' + 2>/dev/null || true
		exec setpriv --reuid=redis --regid=redis --init-groups "$@"
	fi
fi
exec "$@"
