#!/usr/bin/env bash
# Render k8s/overlays/local and write what docker-compose.yaml mounts:
#   compose/.work/configmaps/<ConfigMap name>/<key>   every ConfigMap's data
#   compose/.work/jobs/clickhouse-init.sh             the clickhouse-init Job's script
# so the compose stack runs exactly the migrations/DDL that Argo CD would.
set -euo pipefail
KIT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$KIT_DIR/.." && pwd)"
OVERLAY="${1:-$REPO/k8s/overlays/local}"
OUT="$KIT_DIR/.work"
rendered="$(mktemp)"
trap 'rm -f "$rendered"' EXIT
kubectl kustomize "$OVERLAY" > "$rendered"
rm -rf "$OUT/configmaps" "$OUT/jobs"
mkdir -p "$OUT/configmaps" "$OUT/jobs"
PY=
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import yaml' 2>/dev/null; then PY="$p"; break; fi
done
[ -n "$PY" ] || { echo "render-configmaps: needs python3 with PyYAML (apt-get install python3-yaml)" >&2; exit 1; }
"$PY" - "$rendered" "$OUT" <<'PY'
import os, sys, yaml
rendered, out = sys.argv[1:]
for doc in yaml.safe_load_all(open(rendered)):
    if not doc:
        continue
    kind, name = doc["kind"], doc["metadata"]["name"]
    if kind == "ConfigMap":
        d = os.path.join(out, "configmaps", name)
        os.makedirs(d, exist_ok=True)
        for key, value in (doc.get("data") or {}).items():
            with open(os.path.join(d, key), "w") as f:
                f.write(value)
        print(f"configmap {name}: {', '.join(sorted(doc.get('data') or {}))}")
    elif kind == "Job" and name == "clickhouse-init":
        cmd = doc["spec"]["template"]["spec"]["containers"][0]["command"]
        assert cmd[:2] == ["sh", "-c"], cmd
        with open(os.path.join(out, "jobs", "clickhouse-init.sh"), "w") as f:
            f.write(cmd[2])
        print("job clickhouse-init: script extracted")
PY
