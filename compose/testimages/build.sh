#!/usr/bin/env bash
# Builds syncsim's tiny test image without a registry: Debian's static busybox, imported as an
# image with one symlink per applet (sh, wget, httpd, nc, sleep, dd, ...). About 2 MB, a few seconds.
#
# Also builds syncsim-test/busybox-volume:1, the same with `VOLUME /data` (an image whose
# containers get an anonymous volume), with the legacy builder from the local base image, and
# tags the busybox image syncsim-kit/service-proxy:1: the proxy that realises Services needing
# port remapping or readiness (its `nc -ll -e` forwards; see src/cluster/service/).
#
# Usage: compose/testimages/build.sh [IMAGE]   (default syncsim-test/busybox:1; works from any cwd)
# Idempotent: skips images that already exist. Needs apt-get (Debian host) and docker.
set -euo pipefail

image="${1:-syncsim-test/busybox:1}"
volume_image="syncsim-test/busybox-volume:1"
proxy_image="syncsim-kit/service-proxy:1"

tag_proxy_image() {
    if docker image inspect "$proxy_image" >/dev/null 2>&1; then
        echo "build.sh: image $proxy_image already exists, nothing to do"
        return
    fi
    docker tag "$image" "$proxy_image"
    echo "build.sh: tagged $image as $proxy_image"
}

build_volume_image() {
    if docker image inspect "$volume_image" >/dev/null 2>&1; then
        echo "build.sh: image $volume_image already exists, nothing to do"
        return
    fi
    echo "build.sh: building $volume_image (FROM $image, VOLUME /data)"
    printf 'FROM %s\nVOLUME /data\n' "$image" | DOCKER_BUILDKIT=0 docker build -q -t "$volume_image" - >/dev/null
    echo "build.sh: built $volume_image"
}

if docker image inspect "$image" >/dev/null 2>&1; then
    echo "build.sh: image $image already exists, nothing to do"
    build_volume_image
    tag_proxy_image
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work" # lets apt-get download as _apt without a warning

echo "build.sh: downloading busybox-static with apt-get into $work"
(cd "$work" && apt-get download busybox-static >/dev/null)
deb="$(ls "$work"/busybox-static_*.deb)"

root="$work/rootfs"
echo "build.sh: unpacking $(basename "$deb")"
dpkg -x "$deb" "$root"
busybox="$root/bin/busybox"
[ -x "$busybox" ] || { echo "build.sh: $busybox missing from the package" >&2; exit 1; }

echo "build.sh: creating applet symlinks"
mkdir -p "$root/usr/bin" "$root/sbin" "$root/usr/sbin" "$root/tmp" "$root/etc" "$root/var/www" \
    "$root/proc" "$root/sys" "$root/dev"
chmod 1777 "$root/tmp"
count=0
for applet in $("$busybox" --list); do
    # Everything lives in /bin (on PATH in every image); keep the real binary.
    if [ "$applet" != busybox ] && [ ! -e "$root/bin/$applet" ]; then
        ln -s busybox "$root/bin/$applet"
        count=$((count + 1))
    fi
done
echo "build.sh: $count applets linked in /bin"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

echo "build.sh: importing $image"
tar -C "$root" -c . | docker import \
    -c 'CMD ["sh"]' \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$image" >/dev/null
echo "build.sh: built $image ($(docker image inspect -f '{{.Size}}' "$image") bytes)"
build_volume_image
tag_proxy_image
