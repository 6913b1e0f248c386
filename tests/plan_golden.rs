//! Golden test: the plan of the production overlay. Needs `kustomize` or `kubectl` on PATH.
//! Regenerate with `SYNCSIM_UPDATE_GOLDEN=1 cargo test --test plan_golden`.
use assert_cmd::Command;
use serde_json::Value;

const FIXTURE: &str = "tests/fixtures/plan-prod.json";

#[test]
fn prod_overlay_plan_matches_the_golden_file() {
    let out = Command::cargo_bin("syncsim")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["plan", "k8s/overlays/prod", "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "syncsim plan failed (is kubectl or kustomize on PATH?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let actual = String::from_utf8(out.stdout).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    if std::env::var_os("SYNCSIM_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    let (a, e): (Value, Value) = (
        serde_json::from_str(&actual).unwrap(),
        serde_json::from_str(&expected).unwrap(),
    );
    assert_eq!(a, e, "plan differs from {FIXTURE}; actual:\n{actual}");
}

#[test]
fn golden_file_has_the_expected_step_order() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let steps: Vec<(String, i64, Vec<String>)> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let tasks = s["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    format!(
                        "{}/{}",
                        t["kind"].as_str().unwrap(),
                        t["name"].as_str().unwrap()
                    )
                })
                .collect();
            (
                s["phase"].as_str().unwrap().to_string(),
                s["wave"].as_i64().unwrap(),
                tasks,
            )
        })
        .collect();
    let heads: Vec<_> = steps.iter().map(|(p, w, _)| (p.as_str(), *w)).collect();
    assert_eq!(
        heads,
        [
            ("Sync", 0),
            ("Sync", 2),
            ("Sync", 3),
            ("PostSync", 0),
            ("PostSync", 1),
            ("PostSync", 2)
        ]
    );
    // Infrastructure in kind order: ConfigMaps, then Services, then StatefulSets.
    let infra_kinds: Vec<&str> = steps[0]
        .2
        .iter()
        .map(|t| t.split('/').next().unwrap())
        .collect();
    let rank = |k: &str| syncsim::plan::kind_rank(k);
    assert!(
        infra_kinds.windows(2).all(|w| rank(w[0]) <= rank(w[1])),
        "{infra_kinds:?}"
    );
    for k in ["ConfigMap", "Service", "StatefulSet"] {
        assert!(
            infra_kinds.contains(&k),
            "{k} missing in wave 0: {infra_kinds:?}"
        );
    }
    assert!(
        steps[1].2.iter().all(|t| t.ends_with("/shortlink")),
        "{:?}",
        steps[1].2
    );
    assert!(
        steps[2].2.iter().all(|t| t.ends_with("/admin")),
        "{:?}",
        steps[2].2
    );
    assert_eq!(steps[3].2, ["Job/flyway-admin"]);
    assert_eq!(
        steps[4].2,
        ["Job/flyway-shortlink", "Job/kafka-create-stats-topic"]
    );
    assert_eq!(steps[5].2, ["Job/clickhouse-init"]);
    assert_eq!(plan["warnings"], serde_json::json!([]));
}
