//! The automated-sync policy on the scripted fake runtime, with paused time: what triggers a
//! sync, Argo CD's retry schedule, and self-heal with its backoff.
use super::*;
use crate::{
    cluster::ClusterOptions,
    manifest,
    plan::{self, PlanOptions},
    runtime::{
        fake::{FakeRuntime, Script},
        ContainerRuntime,
    },
};
use std::sync::{Arc, Mutex};

/// A source held in memory: tests edit `text`.
struct MemSource {
    text: Mutex<String>,
}

impl MemSource {
    fn new(text: &str) -> Self {
        Self {
            text: Mutex::new(text.to_string()),
        }
    }

    fn set(&self, text: &str) {
        *self.text.lock().unwrap() = text.to_string();
    }
}

impl Source for MemSource {
    fn fingerprint(&self) -> String {
        self.text.lock().unwrap().clone()
    }

    fn render(&self) -> Result<Rendered, Error> {
        let text = self.text.lock().unwrap().clone();
        let objects = manifest::from_yaml_str(&text, "mem.yaml")?;
        let plan = plan::build(&objects, &PlanOptions::default())?;
        Ok(Rendered { objects, plan })
    }
}

fn yaml(mode: &str, hook_cmd: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: d}}\ndata: {{MODE: \"{mode}\"}}\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: d}}\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: main, image: img}}]}}\n---\n\
         apiVersion: batch/v1\nkind: Job\nmetadata: {{name: migrate, namespace: d, annotations: {{argocd.argoproj.io/hook: PreSync}}}}\nspec:\n  backoffLimit: 0\n  template:\n    spec: {{restartPolicy: Never, containers: [{{name: main, image: img, command: [\"{hook_cmd}\"]}}]}}\n"
    )
}

fn eopts() -> EngineOptions {
    EngineOptions {
        app: "auto".into(),
        timeout: Duration::from_secs(60),
        ..EngineOptions::default()
    }
}

async fn open(fake: &Arc<FakeRuntime>, r: &Rendered) -> Environment {
    let rt: Arc<dyn ContainerRuntime> = fake.clone();
    let opts = ClusterOptions {
        app: "auto".into(),
        poll_interval: Duration::from_millis(50),
        ..ClusterOptions::default()
    };
    Environment::fresh(rt, opts, &r.objects).await.unwrap()
}

/// What the policy did, with the (paused) time since the start.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Syncing(String),
    Synced(Outcome),
    Retry(u32, Duration),
    Exhausted(u32),
    ChangedButSynced,
    Healed(Vec<String>),
}

type Log = Arc<Mutex<Vec<(Duration, Seen)>>>;

fn recorder(log: &Log, start: Instant) -> impl FnMut(PolicyEvent<'_>) + '_ {
    move |ev| {
        let seen = match ev {
            PolicyEvent::Syncing(why) => Seen::Syncing(why.to_string()),
            PolicyEvent::Synced(r) => Seen::Synced(r.outcome.clone()),
            PolicyEvent::RetryScheduled { attempt, wait, .. } => Seen::Retry(attempt, wait),
            PolicyEvent::RetriesExhausted { retried, .. } => Seen::Exhausted(retried),
            PolicyEvent::ChangedButSynced => Seen::ChangedButSynced,
            PolicyEvent::Healed { drifted, .. } => {
                Seen::Healed(drifted.iter().map(|k| k.name.clone()).collect())
            }
            _ => return,
        };
        log.lock().unwrap().push((start.elapsed(), seen));
    }
}

fn syncs(log: &Log) -> Vec<String> {
    log.lock()
        .unwrap()
        .iter()
        .filter_map(|(_, s)| match s {
            Seen::Syncing(w) => Some(w.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn retry_state_follows_the_policy_and_resets_on_a_new_revision() {
    let policy = RetryPolicy {
        limit: 2,
        ..RetryPolicy::default()
    };
    let t0 = Instant::now();
    let mut s = RetryState::default();
    assert_eq!(
        s.after_sync(&policy, &Outcome::Failed, t0),
        AfterSync::Retry {
            attempt: 1,
            wait: Duration::from_secs(10)
        }
    );
    assert_eq!(s.take_due(t0 + Duration::from_secs(9)), None);
    assert_eq!(s.take_due(t0 + Duration::from_secs(10)), Some(1));
    assert_eq!(
        s.after_sync(&policy, &Outcome::Failed, t0),
        AfterSync::Retry {
            attempt: 2,
            wait: Duration::from_secs(20)
        }
    );
    assert_eq!(s.take_due(t0 + Duration::from_secs(20)), Some(2));
    assert_eq!(
        s.after_sync(&policy, &Outcome::Failed, t0),
        AfterSync::Exhausted { retried: 2 }
    );
    assert_eq!(s.due, None);
    s.reset();
    assert_eq!(s, RetryState::default());
    assert_eq!(
        s.after_sync(&policy, &Outcome::Succeeded, t0),
        AfterSync::Done
    );
}

#[tokio::test(start_paused = true)]
async fn a_change_is_synced_once_quiet_and_a_hook_only_change_is_not() {
    let fake = Arc::new(FakeRuntime::new().script_container(
        "syncsim-auto-migrate-",
        Script::exits(0, Duration::from_millis(100)),
    ));
    let source = MemSource::new(&yaml("a", "true"));
    let initial = source.render().unwrap();
    let env = open(&fake, &initial).await;
    let opts = PolicyOptions {
        interval: Duration::from_millis(500),
        debounce: Duration::from_secs(2),
        ..PolicyOptions::default()
    };
    let cancel = CancellationToken::new();
    let eo = eopts();
    let start = Instant::now();
    let log: Log = Arc::default();
    let mut on_event = recorder(&log, start);
    let drive = async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        source.set(&yaml("b", "true"));
        tokio::time::sleep(Duration::from_secs(30)).await;
        // Only the hook changes: the app stays Synced (§3.6).
        source.set(&yaml("b", "echo"));
        tokio::time::sleep(Duration::from_secs(30)).await;
        cancel.cancel();
    };
    let (last, ()) = tokio::join!(
        run(&env, &source, initial, &opts, &eo, &cancel, &mut on_event),
        drive
    );
    assert_eq!(last.unwrap().outcome, Outcome::Succeeded);
    assert_eq!(
        syncs(&log),
        ["initial sync", "source changed: automated sync"]
    );
    let log = log.lock().unwrap().clone();
    let changed = log
        .iter()
        .find(|(_, s)| *s == Seen::Syncing("source changed: automated sync".into()))
        .unwrap()
        .0;
    // Debounced: not before the source was quiet for 2 s; within a couple of polls after.
    assert!(
        changed >= Duration::from_secs(32) && changed <= Duration::from_secs(34),
        "{changed:?}"
    );
    assert!(log
        .iter()
        .any(|(t, s)| *s == Seen::ChangedButSynced && *t > Duration::from_secs(60)));
    env.teardown(Duration::ZERO).await;
    assert!(fake.objects().is_empty(), "{:?}", fake.objects());
}

#[tokio::test(start_paused = true)]
async fn a_failed_automated_sync_is_retried_with_argo_backoff_until_the_limit() {
    let fake = Arc::new(FakeRuntime::new().script_container(
        "syncsim-auto-migrate-",
        Script::exits(1, Duration::from_millis(100)),
    ));
    let source = MemSource::new(&yaml("a", "false"));
    let initial = source.render().unwrap();
    let env = open(&fake, &initial).await;
    let opts = PolicyOptions {
        retry: RetryPolicy {
            limit: 2,
            ..RetryPolicy::default()
        },
        ..PolicyOptions::default()
    };
    let cancel = CancellationToken::new();
    let eo = eopts();
    let start = Instant::now();
    let log: Log = Arc::default();
    let mut on_event = recorder(&log, start);
    let drive = async {
        tokio::time::sleep(Duration::from_secs(120)).await;
        cancel.cancel();
    };
    let (last, ()) = tokio::join!(
        run(&env, &source, initial, &opts, &eo, &cancel, &mut on_event),
        drive
    );
    assert_eq!(last.unwrap().outcome, Outcome::Failed);
    assert_eq!(
        syncs(&log),
        [
            "initial sync",
            "retrying the failed automated sync (attempt #1)",
            "retrying the failed automated sync (attempt #2)"
        ]
    );
    let log = log.lock().unwrap().clone();
    let decisions: Vec<Seen> = log
        .iter()
        .filter(|(_, s)| matches!(s, Seen::Retry(..) | Seen::Exhausted(_)))
        .map(|(_, s)| s.clone())
        .collect();
    assert_eq!(
        decisions,
        [
            Seen::Retry(1, Duration::from_secs(10)),
            Seen::Retry(2, Duration::from_secs(20)),
            Seen::Exhausted(2)
        ]
    );
    // Each retry starts once its wait is over (checked every interval), not before.
    let at = |what: &Seen| log.iter().find(|(_, s)| s == what).unwrap().0;
    for (n, wait) in [(1u32, 10u64), (2, 20)] {
        let scheduled = at(&Seen::Retry(n, Duration::from_secs(wait)));
        let started = at(&Seen::Syncing(format!(
            "retrying the failed automated sync (attempt #{n})"
        )));
        let gap = started - scheduled;
        assert!(
            gap >= Duration::from_secs(wait)
                && gap <= Duration::from_secs(wait) + Duration::from_secs(1),
            "retry #{n} after {gap:?}"
        );
    }
    env.teardown(Duration::ZERO).await;
}

#[tokio::test(start_paused = true)]
async fn self_heal_reapplies_a_drifted_workload_without_hooks() {
    let fake = Arc::new(FakeRuntime::new().script_container(
        "syncsim-auto-migrate-",
        Script::exits(0, Duration::from_millis(100)),
    ));
    let source = MemSource::new(&yaml("a", "true"));
    let initial = source.render().unwrap();
    let env = open(&fake, &initial).await;
    let opts = PolicyOptions {
        self_heal: true,
        ..PolicyOptions::default()
    };
    let cancel = CancellationToken::new();
    let eo = eopts();
    let start = Instant::now();
    let log: Log = Arc::default();
    let mut on_event = recorder(&log, start);
    let hook_runs = || {
        fake.call_log()
            .iter()
            .filter(|c| c.starts_with("create syncsim-auto-migrate-"))
            .count()
    };
    let drive = async {
        tokio::time::sleep(Duration::from_secs(20)).await;
        assert!(env.cluster.drifted().is_empty());
        let key = env
            .cluster
            .keys()
            .into_iter()
            .find(|k| k.name == "web")
            .unwrap();
        let web = env.cluster.containers_of(&key);
        fake.remove_container(&web[0]).await.unwrap();
        tokio::time::sleep(Duration::from_secs(20)).await;
        cancel.cancel();
    };
    let (_, ()) = tokio::join!(
        run(&env, &source, initial, &opts, &eo, &cancel, &mut on_event),
        drive
    );
    let log = log.lock().unwrap().clone();
    let healed: Vec<&(Duration, Seen)> = log
        .iter()
        .filter(|(_, s)| matches!(s, Seen::Healed(_)))
        .collect();
    assert_eq!(healed.len(), 1, "{log:?}");
    assert_eq!(healed[0].1, Seen::Healed(vec!["web".into()]));
    assert!(healed[0].0 > Duration::from_secs(20));
    assert_eq!(hook_runs(), 1, "a self-heal runs no hooks");
    assert!(env.cluster.drifted().is_empty());
    env.teardown(Duration::ZERO).await;
}

#[tokio::test(start_paused = true)]
async fn self_heal_backs_off_2s_then_6s_while_a_workload_keeps_drifting() {
    let fake = Arc::new(FakeRuntime::new().script_container(
        "syncsim-auto-migrate-",
        Script::exits(0, Duration::from_millis(100)),
    ));
    let source = MemSource::new(&yaml("a", "true"));
    let initial = source.render().unwrap();
    let env = open(&fake, &initial).await;
    let opts = PolicyOptions {
        self_heal: true,
        ..PolicyOptions::default()
    };
    let cancel = CancellationToken::new();
    let eo = eopts();
    let start = Instant::now();
    let log: Log = Arc::default();
    let mut on_event = recorder(&log, start);
    let heals = |log: &Log| -> Vec<Duration> {
        log.lock()
            .unwrap()
            .iter()
            .filter(|(_, s)| matches!(s, Seen::Healed(_)))
            .map(|(t, _)| *t)
            .collect()
    };
    let remove_web = || async {
        let key = env
            .cluster
            .keys()
            .into_iter()
            .find(|k| k.name == "web")
            .unwrap();
        let ids = env.cluster.containers_of(&key);
        fake.remove_container(ids.last().unwrap()).await.unwrap();
    };
    let drive = async {
        tokio::time::sleep(Duration::from_secs(20)).await;
        // Drift again right after each heal, three times.
        for n in 1..=3 {
            remove_web().await;
            while heals(&log).len() < n {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        cancel.cancel();
    };
    let (_, ()) = tokio::join!(
        run(&env, &source, initial, &opts, &eo, &cancel, &mut on_event),
        drive
    );
    let h = heals(&log);
    assert_eq!(h.len(), 3, "{:?}", log.lock().unwrap());
    let (first, second) = (h[1] - h[0], h[2] - h[1]);
    assert!(
        first >= Duration::from_secs(2) && first < Duration::from_secs(3),
        "{first:?}"
    );
    assert!(
        second >= Duration::from_secs(6) && second < Duration::from_secs(7),
        "{second:?}"
    );
    env.teardown(Duration::ZERO).await;
}
