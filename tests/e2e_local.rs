//! The seed's whole stack rehearsed for real (issue #4): `k8s/overlays/local` on the offline
//! image kit (`compose/build-images.sh`), then checks inside the running services: Postgres
//! schemas and history tables, the Kafka topic, ClickHouse objects and an event flowing from
//! the topic into ClickHouse. And the same overlay with a broken shortlink migration.
mod common;

use futures_util::FutureExt;
use serde_json::json;
use std::panic::AssertUnwindSafe;
use std::{sync::Arc, time::Duration};
use syncsim::{
    cluster::{ClusterOptions, DockerCluster},
    engine::{self, EngineOptions, OperationPhase, Outcome, SyncReport},
    manifest::{self, Object, ObjectKey},
    plan::{self, Phase, PlanOptions},
    runtime::{
        docker::DockerRuntime, ContainerRuntime, ContainerSpec, ContainerStatus, Labels,
        NetworkAttachment, LABEL_APP, LABEL_MANAGED_BY, MANAGED_BY_VALUE,
    },
};
use tokio_util::sync::CancellationToken;

const OVERLAY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/k8s/overlays/local");
const NS: &str = "shortlink";
const TOOLS: &str = "syncsim-kit/kafka-tools:1.0";

/// A running rehearsal, kept up until `finish` so the test can look inside.
struct Rehearsal {
    rt: Arc<dyn ContainerRuntime>,
    cluster: DockerCluster,
    app: String,
    report: SyncReport,
}

async fn rehearse(app: &str, edit: impl Fn(&mut Vec<Object>)) -> Rehearsal {
    common::ensure_kit();
    let mut objects = manifest::load(OVERLAY, &manifest::LoadOptions::default())
        .expect("render overlay")
        .objects;
    edit(&mut objects);
    let plan = plan::build(&objects, &PlanOptions::default()).expect("plan");
    let rt: Arc<dyn ContainerRuntime> = Arc::new(DockerRuntime::connect().await.expect("docker"));
    let opts = ClusterOptions {
        app: app.into(),
        job_backoff_base: Duration::from_millis(500),
        ..ClusterOptions::default()
    };
    let cluster = DockerCluster::new(rt.clone(), opts, &objects)
        .await
        .expect("network");
    let eopts = EngineOptions {
        app: app.into(),
        timeout: Duration::from_secs(300),
        ..EngineOptions::default()
    };
    let mut progress = syncsim::report::Progress::new(false);
    let report = engine::run(
        &plan,
        &cluster,
        &eopts,
        &CancellationToken::new(),
        &mut |e| progress.report(&e),
    )
    .await;
    eprintln!("{}", syncsim::report::render(&report));
    Rehearsal {
        rt,
        cluster,
        app: app.into(),
        report,
    }
}

impl Rehearsal {
    fn key(kind: &str, name: &str) -> ObjectKey {
        let group = match kind {
            "StatefulSet" | "Deployment" => "apps",
            "Job" => "batch",
            _ => "",
        };
        ObjectKey {
            group: group.into(),
            kind: kind.into(),
            namespace: NS.into(),
            name: name.into(),
        }
    }

    /// Runs `cmd` in the (last) container of a StatefulSet's pod and returns its trimmed output.
    async fn exec(&self, sts: &str, cmd: &[&str]) -> String {
        let id = self
            .cluster
            .containers_of(&Self::key("StatefulSet", sts))
            .last()
            .cloned()
            .expect("container");
        let cmd: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        let r = self
            .rt
            .exec(&id, &cmd, Duration::from_secs(30))
            .await
            .expect("exec");
        assert_eq!(r.exit_code, 0, "{cmd:?} failed: {}", r.output);
        r.output.trim().to_string()
    }

    async fn psql(&self, sql: &str) -> String {
        self.exec(
            "postgres",
            &[
                "psql",
                "-X",
                "-At",
                "-U",
                "shortlink",
                "-d",
                "shortlink",
                "-c",
                sql,
            ],
        )
        .await
    }

    async fn clickhouse(&self, sql: &str) -> String {
        self.exec("clickhouse", &["clickhouse-client", "--query", sql])
            .await
    }

    /// Runs a one-off tools container on the app network (like `kubectl run`), returns its logs.
    async fn tool(&self, name: &str, script: &str) -> (i64, String) {
        let mut labels = Labels::new();
        labels.insert(LABEL_MANAGED_BY.into(), MANAGED_BY_VALUE.into());
        labels.insert(LABEL_APP.into(), self.app.clone());
        let spec = ContainerSpec {
            name: format!("syncsim-{}-test-{name}", self.app),
            image: TOOLS.into(),
            entrypoint: Some(vec!["sh".into(), "-c".into(), script.into()]),
            network: NetworkAttachment::Network {
                name: self.cluster.network().into(),
                aliases: vec![],
            },
            // The resolver of a pod in `shortlink`, where `kubectl run` would start it: the
            // bare Service names of that namespace resolve (`cluster::pod`'s DNS settings).
            dns_search: vec![
                "shortlink.svc.cluster.local".into(),
                "svc.cluster.local".into(),
                "cluster.local".into(),
            ],
            dns_options: vec!["ndots:5".into()],
            labels,
            ..ContainerSpec::default()
        };
        let id = self.rt.create_container(&spec).await.expect("create tool");
        self.rt.start_container(&id).await.expect("start tool");
        let code = loop {
            match self
                .rt
                .inspect_container(&id)
                .await
                .expect("inspect")
                .status
            {
                ContainerStatus::Exited { code, .. } => break code,
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        let out = self.rt.logs(&id, 200).await.expect("logs").join("\n");
        self.rt.remove_container(&id).await.expect("remove tool");
        (code, out)
    }

    async fn finish(self) {
        let t = self.cluster.teardown(Duration::ZERO).await;
        assert!(t.errors.is_empty(), "teardown: {:?}", t.errors);
        let labels = [
            (LABEL_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
            (LABEL_APP.to_string(), self.app.clone()),
        ];
        let left = self.rt.list_labelled(&labels).await.expect("list");
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

fn task<'a>(r: &'a SyncReport, name: &str) -> &'a engine::TaskRun {
    r.tasks
        .iter()
        .find(|t| t.task.name() == name)
        .unwrap_or_else(|| panic!("no task {name}"))
}

fn step_summary(r: &SyncReport) -> Vec<String> {
    r.steps
        .iter()
        .map(|s| format!("{}/{}:{:?}", s.phase, s.wave, s.status))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker and the image kit"]
async fn local_overlay_rehearses_the_seed_flow_for_real() {
    let run = rehearse("e2e-local", |_| {}).await;
    let checks = AssertUnwindSafe(seed_flow_checks(&run))
        .catch_unwind()
        .await;
    run.finish().await;
    if let Err(panic) = checks {
        std::panic::resume_unwind(panic);
    }
}

async fn seed_flow_checks(run: &Rehearsal) {
    let r = &run.report;
    assert_eq!(r.outcome, Outcome::Succeeded, "{}", r.message);
    assert_eq!(
        step_summary(r),
        [
            "Sync/0:Succeeded",
            "Sync/2:Succeeded",
            "Sync/3:Succeeded",
            "PostSync/0:Succeeded",
            "PostSync/1:Succeeded",
            "PostSync/2:Succeeded"
        ]
    );
    // Hooks ran strictly after the previous step: flyway-admin < flyway-shortlink < clickhouse-init.
    let at = |n: &str| task(r, n).applied_at.expect(n);
    assert!(at("flyway-admin") >= task(r, "admin").applied_at.unwrap());
    assert!(at("flyway-shortlink") > at("flyway-admin"));
    assert!(at("clickhouse-init") > at("kafka-create-stats-topic"));
    assert!(at("clickhouse-init") > task(r, "flyway-shortlink").finished_at.unwrap());

    // Postgres: both migration sets, each with its history table.
    let tables = run
        .psql("SELECT string_agg(schemaname || '.' || tablename, ' ' ORDER BY schemaname, tablename) FROM pg_tables WHERE schemaname IN ('admin','shortlink')")
        .await;
    assert_eq!(
        tables,
        "admin.flyway_schema_history admin.roles admin.user_roles admin.users shortlink.clicks shortlink.flyway_schema_history shortlink.links"
    );
    assert_eq!(run.psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM admin.flyway_schema_history").await, "1,2");
    assert_eq!(run.psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM shortlink.flyway_schema_history").await, "1,2");

    // Kafka: the topic exists with the configured partitions.
    let (code, meta) = run
        .tool("topics", "kcat -b kafka:9092 -L -t shortlink-stats-events")
        .await;
    assert_eq!(code, 0, "{meta}");
    assert!(
        meta.contains("topic \"shortlink-stats-events\" with 3 partitions"),
        "{meta}"
    );

    // ClickHouse: database, tables, materialized views and the Kafka engine table.
    let ch_tables = run
        .clickhouse(
            "SELECT name FROM system.tables WHERE database = 'shortlink_stats' ORDER BY name",
        )
        .await;
    for t in [
        "link_stats_events",
        "link_stats_daily",
        "link_stats_daily_mv",
        "link_stats_daily_by_country",
        "link_stats_daily_by_referrer",
        "link_stats_daily_by_device",
        "link_stats_events_queue",
        "link_stats_events_consumer",
    ] {
        assert!(
            ch_tables.lines().any(|l| l == t),
            "missing {t} in {ch_tables}"
        );
    }
    assert_eq!(
        run.clickhouse("SELECT engine FROM system.tables WHERE database = 'shortlink_stats' AND name = 'link_stats_events_queue'").await,
        "Kafka"
    );

    // An event produced to the topic arrives in link_stats_events.
    let code_name = format!("e2e{}", std::process::id());
    let event = json!({"event_time": "2026-11-26 07:00:00", "short_code": code_name, "link_id": 42,
        "referrer": "https://news.example/", "country": "DE", "device": "mobile", "user_agent": "e2e"});
    let (code, out) = run
        .tool(
            "produce",
            &format!(
                "echo '{event}' | kcat -b kafka:9092 -t shortlink-stats-events -P -k {code_name}"
            ),
        )
        .await;
    assert_eq!(code, 0, "{out}");
    let query = format!(
        "SELECT count() FROM shortlink_stats.link_stats_events WHERE short_code = '{code_name}'"
    );
    let started = std::time::Instant::now();
    let mut n = String::new();
    while started.elapsed() < Duration::from_secs(60) {
        n = run.clickhouse(&query).await;
        if n == "1" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(n, "1", "event did not reach link_stats_events within 60 s");
    eprintln!("event arrived after {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker and the image kit"]
async fn broken_shortlink_migration_fails_the_sync_at_flyway_shortlink() {
    let run = rehearse("e2e-broken", |objects| {
        let cm = objects
            .iter_mut()
            .find(|o| o.kind() == "ConfigMap" && o.name() == "flyway-shortlink-migrations")
            .expect("migrations ConfigMap");
        cm.value["data"]["V3__broken.sql"] = json!(
            "CREATE TABLE half_done (id int);\nINSERT INTO links (short_code, target_url) VALUES ('broken', 'https://example.invalid/');\nSELECT * FROM no_such_table;\n"
        );
    })
    .await;
    let checks = AssertUnwindSafe(broken_migration_checks(&run))
        .catch_unwind()
        .await;
    run.finish().await;
    if let Err(panic) = checks {
        std::panic::resume_unwind(panic);
    }
}

async fn broken_migration_checks(run: &Rehearsal) {
    let r = &run.report;
    assert_eq!(r.outcome, Outcome::Failed, "{}", r.message);
    assert_eq!(
        r.message,
        "one or more synchronization tasks completed unsuccessfully"
    );
    let failed = task(r, "flyway-shortlink");
    assert_eq!(failed.hook_phase, Some(OperationPhase::Failed));
    assert!(
        failed.log_tail.iter().any(|l| l.contains("no_such_table")),
        "log tail: {:?}",
        failed.log_tail
    );
    // The topic Job of the same wave was still attempted (and succeeded).
    assert_eq!(
        task(r, "kafka-create-stats-topic").hook_phase,
        Some(OperationPhase::Succeeded)
    );
    // clickhouse-init never started.
    assert_eq!(task(r, "clickhouse-init").result, None);
    assert!(
        step_summary(r).contains(&"PostSync/2:NotStarted".to_string()),
        "{:?}",
        step_summary(r)
    );
    // The failed Job is kept (HookSucceeded only deletes on success) with its containers.
    assert_eq!(failed.deleted_by, None);
    assert_eq!(
        task(r, "flyway-admin").deleted_by,
        None,
        "no HookSucceeded deletion on failure"
    );
    let job_containers = run
        .cluster
        .containers_of(&Rehearsal::key("Job", "flyway-shortlink"));
    assert_eq!(
        job_containers.len(),
        3,
        "backoffLimit 2 → 3 attempts, each its own container"
    );
    for id in &job_containers {
        assert!(
            run.rt.inspect_container(id).await.is_ok(),
            "failed hook container {id} kept"
        );
    }
    // The shortlink database is exactly at the last good version.
    assert_eq!(run.psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM shortlink.flyway_schema_history").await, "1,2");
    assert_eq!(
        run.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'")
            .await,
        "0"
    );
    assert_eq!(task(r, "flyway-shortlink").task.phase, Phase::PostSync);
}
