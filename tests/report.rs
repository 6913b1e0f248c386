//! Reporters render a finished operation: table like `argocd app sync`, JSON schema, JUnit.
use serde_json::json;
use std::time::Duration;
use syncsim::{
    engine::{
        self,
        fake::{FakeCluster, Script},
        EngineOptions, SyncReport,
    },
    manifest::{Object, Origin},
    plan::{DeletePolicy, Phase, Plan, Step, SyncOptions, Task},
    report,
};
use tokio_util::sync::CancellationToken;

fn task(phase: Phase, wave: i64, api: &str, kind: &str, name: &str, hook: bool) -> Task {
    Task {
        phase,
        wave,
        hook,
        delete_policies: if hook {
            vec![DeletePolicy::HookSucceeded]
        } else {
            vec![]
        },
        sync_options: SyncOptions::default(),
        object: Object::new(
            json!({"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "shortlink"}}),
            Origin {
                file: "x.yaml".into(),
                document: 0,
                line: Some(1),
            },
        ),
    }
}

async fn failed_run() -> SyncReport {
    let tasks = vec![
        task(
            Phase::Sync,
            0,
            "v1",
            "Secret",
            "postgres-credentials",
            false,
        ),
        task(Phase::Sync, 0, "apps/v1", "StatefulSet", "postgres", false),
        task(Phase::PostSync, 0, "batch/v1", "Job", "flyway-admin", true),
        task(
            Phase::PostSync,
            1,
            "batch/v1",
            "Job",
            "flyway-shortlink",
            true,
        ),
        task(
            Phase::PostSync,
            2,
            "batch/v1",
            "Job",
            "clickhouse-init",
            true,
        ),
    ];
    let mut steps: Vec<Step> = Vec::new();
    for t in tasks {
        match steps.last_mut() {
            Some(s) if (s.phase, s.wave) == (t.phase, t.wave) => s.tasks.push(t),
            _ => steps.push(Step {
                phase: t.phase,
                wave: t.wave,
                tasks: vec![t],
            }),
        }
    }
    let plan = Plan {
        steps,
        ..Plan::default()
    };
    let cluster = FakeCluster::new()
        .script(
            "flyway-shortlink",
            Script::fails_after(Duration::from_secs(1)).with_logs(&[
                "Migrating schema to version 3",
                "ERROR: syntax error at or near \"TABLEE\"",
            ]),
        )
        .script(
            "flyway-admin",
            Script::ready_after(Duration::from_secs(1))
                .with_logs(&["Successfully applied 2 migrations"]),
        );
    let opts = EngineOptions {
        app: "local".into(),
        ..EngineOptions::default()
    };
    engine::run(
        &plan,
        &cluster,
        &opts,
        &CancellationToken::new(),
        &mut |_| {},
    )
    .await
}

#[tokio::test(start_paused = true)]
async fn table_has_argocd_columns_phase_message_and_failed_hook_logs() {
    let r = failed_run().await;
    let text = report::render(&r);
    let header = text
        .lines()
        .find(|l| l.contains("TIMESTAMP"))
        .expect("table header");
    let cols: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        cols,
        [
            "TIMESTAMP",
            "GROUP",
            "KIND",
            "NAMESPACE",
            "NAME",
            "STATUS",
            "HEALTH",
            "HOOK",
            "MESSAGE"
        ]
    );
    assert!(text.contains("Phase:              Failed"), "{text}");
    assert!(text.contains(
        "Message:            one or more synchronization tasks completed unsuccessfully"
    ));
    assert!(
        text.contains("--- logs of failed hook Job/flyway-shortlink (PostSync), last 2 lines ---")
    );
    assert!(text.contains("ERROR: syntax error at or near \"TABLEE\""));
    assert!(text.contains("Not started (1): Job/clickhouse-init (PostSync wave 2)"));
    let row = text
        .lines()
        .find(|l| l.contains("flyway-shortlink") && l.contains("batch"))
        .expect("row");
    assert!(
        row.contains("Synced") && row.contains("Degraded") && row.contains("PostSync"),
        "{row}"
    );
}

#[tokio::test(start_paused = true)]
async fn json_report_follows_the_documented_schema() {
    let r = failed_run().await;
    let v = report::to_json(&r);
    assert_eq!(v["schemaVersion"], 1);
    assert_eq!(v["outcome"], "Failed");
    assert_eq!(v["exitCode"], 1);
    assert_eq!(v["operation"]["phase"], "Failed");
    let steps = v["steps"].as_array().unwrap();
    let st: Vec<(String, i64, String)> = steps
        .iter()
        .map(|s| {
            (
                s["phase"].as_str().unwrap().into(),
                s["wave"].as_i64().unwrap(),
                s["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        st,
        vec![
            ("Sync".into(), 0, "Succeeded".into()),
            ("PostSync".into(), 0, "Succeeded".into()),
            ("PostSync".into(), 1, "Failed".into()),
            ("PostSync".into(), 2, "NotStarted".into()),
        ]
    );
    let res = v["resources"].as_array().unwrap();
    let shortlink = res
        .iter()
        .find(|r| r["name"] == "flyway-shortlink")
        .unwrap();
    assert_eq!(shortlink["hookPhase"], "Failed");
    assert_eq!(shortlink["hookType"], "PostSync");
    assert_eq!(shortlink["health"], "Degraded");
    assert_eq!(
        shortlink["logTail"][1],
        "ERROR: syntax error at or near \"TABLEE\""
    );
    let ck = res.iter().find(|r| r["name"] == "clickhouse-init").unwrap();
    assert!(ck["status"].is_null() && ck["appliedAt"].is_null());
}

#[tokio::test(start_paused = true)]
async fn junit_has_one_case_per_task_with_failure_and_skip() {
    let r = failed_run().await;
    let xml = report::to_junit(&r);
    assert_eq!(xml.matches("<testcase").count(), 5, "{xml}");
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
    assert_eq!(xml.matches("<skipped").count(), 1, "{xml}");
    assert!(xml.contains("PostSync wave 1 Job/flyway-shortlink (shortlink)"));
    assert!(xml.contains("TABLEE"));
    // A succeeded hook's log is its test case's system-out.
    assert!(
        xml.contains("<system-out>Successfully applied 2 migrations</system-out>"),
        "{xml}"
    );
}
