#!/usr/bin/env bash
# Rehearse the local overlay by hand on plain Docker (docker-compose 1.29,
# one user-defined network, Service names as DNS names) and check every step:
#   1. Sync: postgres, redis, kafka, clickhouse healthy; shortlink, admin /ready
#   2. PostSync wave 0: flyway-admin; wave 1: flyway-shortlink and
#      kafka-create-stats-topic; wave 2: clickhouse-init (01, 02, 03)
#   3. re-running every hook is a no-op (idempotent)
#   4. a broken migration (V3__broken.sql) exits non-zero and the history
#      stays at exactly V1, V2; its partial effects are rolled back
#   5. an event produced to shortlink-stats-events arrives in
#      shortlink_stats.link_stats_events
# Removes every container, network and volume it created (also on failure).
set -Eeuo pipefail
KIT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT="${SYNCSIM_KIT_VERIFY_PROJECT:-syncsim-kit-verify}"
DC=(docker-compose -p "$PROJECT" -f "$KIT_DIR/docker-compose.yaml")
T0=$(date +%s)
TMP="$(mktemp -d)"
cleanup() {
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "verify-stack: FAILED (exit $rc); service logs:" >&2
		"${DC[@]}" logs --no-color --tail 20 >&2 2>/dev/null || true
	fi
	"${DC[@]}" --profile jobs --profile tools down -v --remove-orphans >/dev/null 2>&1 || true
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
step() { printf '[%3ds] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
fail() { echo "verify-stack: ERROR: $*" >&2; exit 1; }
psql_() { "${DC[@]}" exec -T postgres psql -X -At -U shortlink -d shortlink -c "$1"; }
ch() { "${DC[@]}" exec -T clickhouse clickhouse-client --query "$1"; }

wait_healthy() { # wait_healthy SERVICE...
	local s id st deadline=$(( $(date +%s) + 120 ))
	for s in "$@"; do
		id="$("${DC[@]}" ps -q "$s")"
		[ -n "$id" ] || fail "service $s has no container"
		until [ "$(docker inspect --format '{{.State.Health.Status}}' "$id")" = healthy ]; do
			st="$(docker inspect --format '{{.State.Status}}' "$id")"
			[ "$st" = running ] || fail "$s is $st"
			[ "$(date +%s)" -lt "$deadline" ] || fail "$s not healthy after 120 s"
			sleep 0.5
		done
	done
}

"$KIT_DIR/build-images.sh" | sed 's/^/    /'
"$KIT_DIR/render-configmaps.sh" | sed 's/^/    /'

step "Sync wave 0: postgres, redis, kafka, clickhouse"
"${DC[@]}" up -d postgres redis kafka clickhouse 2>&1 | sed 's/^/    /'
wait_healthy postgres redis kafka clickhouse
step "    all four healthy"
step "Sync wave 2: shortlink, then wave 3: admin"
"${DC[@]}" up -d --no-deps shortlink 2>&1 | sed 's/^/    /'
wait_healthy shortlink
"${DC[@]}" up -d --no-deps admin 2>&1 | sed 's/^/    /'
wait_healthy admin
for s in shortlink admin; do
	echo "    $s /ready: $("${DC[@]}" exec -T "$s" python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/ready').read().decode().strip())")"
done

run_job() { # run_job SERVICE [extra docker-compose run args]
	local s="$1"; shift
	step "PostSync: $s"
	"${DC[@]}" run --rm -T "$@" "$s" 2>&1 | sed 's/^/    /'
	return "${PIPESTATUS[0]}"
}
for round in first second; do
	run_job flyway-admin || fail "flyway-admin failed ($round run)"
	run_job flyway-shortlink || fail "flyway-shortlink failed ($round run)"
	run_job kafka-create-stats-topic || fail "kafka-create-stats-topic failed ($round run)"
	run_job clickhouse-init || fail "clickhouse-init failed ($round run)"
	[ "$round" = second ] || step "re-running every hook (must be idempotent)"
done

step "check: schemas and history tables"
tables="$(psql_ "SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname IN ('admin','shortlink','public') ORDER BY 1" | tr '\n' ' ')"
echo "    tables: $tables"
[ "$tables" = "admin.flyway_schema_history admin.roles admin.user_roles admin.users shortlink.clicks shortlink.flyway_schema_history shortlink.links " ] \
	|| fail "unexpected tables: $tables"
for s in admin shortlink; do
	h="$(psql_ "SELECT string_agg(version || ':' || name, ' ' ORDER BY version) FROM $s.flyway_schema_history")"
	echo "    $s.flyway_schema_history: $h"
done

step "check: broken migration V3__broken.sql fails and leaves history at V1, V2"
mkdir -p "$TMP/broken"
cp "$KIT_DIR/.work/configmaps/flyway-shortlink-migrations/"*.sql "$TMP/broken/"
cat > "$TMP/broken/V3__broken.sql" <<'SQL'
CREATE TABLE half_done (id int);
INSERT INTO links (short_code, target_url) VALUES ('broken', 'https://example.invalid/');
SELECT * FROM no_such_table;
SQL
if run_job flyway-shortlink -v "$TMP/broken:/flyway/sql:ro"; then
	fail "the broken migration exited 0"
fi
h="$(psql_ "SELECT string_agg(version::text, ',' ORDER BY version) FROM shortlink.flyway_schema_history")"
left="$(psql_ "SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'"),$(psql_ "SELECT count(*) FROM shortlink.links WHERE short_code = 'broken'")"
echo "    exit non-zero; history versions: $h; half_done tables, inserted rows: $left"
[ "$h" = "1,2" ] && [ "$left" = "0,0" ] || fail "history or rollback wrong after failed migration"

step "check: ClickHouse objects"
echo "    $(ch "SELECT name FROM system.tables WHERE database = 'shortlink_stats' ORDER BY name" | tr '\n' ' ')"
echo "    stream_flush_interval_ms = $(ch "SELECT value FROM system.settings WHERE name = 'stream_flush_interval_ms'")"

step "check: an event produced to shortlink-stats-events reaches link_stats_events"
code="verify$(date +%s)"
printf '{"event_time":"%s","short_code":"%s","link_id":42,"referrer":"https://news.example/","country":"DE","device":"mobile","user_agent":"verify-stack"}\n' \
	"$(date -u '+%Y-%m-%d %H:%M:%S')" "$code" \
	| "${DC[@]}" run --rm -T kafka-tools kcat -b kafka:9092 -t shortlink-stats-events -P -k "$code" 2>&1 | sed 's/^/    /'
t=$(date +%s)
n=0
while [ "$(( $(date +%s) - t ))" -lt 60 ]; do
	n="$(ch "SELECT count() FROM shortlink_stats.link_stats_events WHERE short_code = '$code'")"
	[ "$n" -ge 1 ] && break
	sleep 0.5
done
[ "$n" -ge 1 ] || fail "event did not arrive in link_stats_events within 60 s"
echo "    arrived after $(( $(date +%s) - t )) s: $(ch "SELECT event_time, short_code, country, device FROM shortlink_stats.link_stats_events WHERE short_code = '$code' FORMAT TSV")"
echo "    link_stats_daily rows for it: $(ch "SELECT count() FROM shortlink_stats.link_stats_daily WHERE short_code = '$code'") (0 expected on ClickHouse 18.16, which does not cascade MVs fed by the Kafka MV; current releases cascade, not verifiable here)"

step "OK: stack verified; cleaning up"
