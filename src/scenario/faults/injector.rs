//! [`FaultCluster`]: the engine's [`Cluster`] with the scenario's runtime faults in front of the
//! Docker cluster. It needs no change in the engine: a fault tied to a hook fires inside the
//! engine's `apply` of that hook, before the hook's pod exists, so "while the hook runs" is not
//! a race with the hook's first attempt.
use super::{crash, disconnect, image_unavailable, stop, Env};
use crate::{
    cluster::DockerCluster,
    engine::{ApplyOutcome, Cluster, ClusterError, RunEvent},
    manifest::ObjectKey,
    plan::{Plan, Task},
    runtime::ContainerRuntime,
    scenario::{select, spec::Fault},
};
use async_trait::async_trait;
use serde_json::Value;
use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Log lines kept from a hook before a delete removes its containers.
const CAPTURED_LOG_LINES: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Crash,
    Stop,
    Disconnect,
}

#[derive(Debug, Clone)]
enum Trigger {
    /// This long after the target was applied.
    AfterApply(Duration),
    /// When this hook is applied (created).
    HookApplied(ObjectKey),
}

/// A runtime fault with its target resolved to a task of the current plan.
#[derive(Debug, Clone)]
struct RuntimeFault {
    action: Action,
    target: ObjectKey,
    trigger: Trigger,
}

#[derive(Default)]
struct State {
    /// Open "while the hook runs" windows, by hook.
    windows: HashMap<ObjectKey, Vec<CancellationToken>>,
    /// Logs captured just before a delete (delete policies remove a hook's containers).
    captured_logs: BTreeMap<ObjectKey, Vec<String>>,
    /// What fired, in order, for the report.
    fired: Vec<String>,
    tasks: Vec<JoinHandle<()>>,
}

/// The Docker cluster with the scenario's runtime faults. Create one per sync operation with
/// [`FaultCluster::new`]; feed it the engine's events with [`FaultCluster::observe`]; call
/// [`FaultCluster::finish`] before teardown.
pub struct FaultCluster {
    env: Env,
    faults: Vec<RuntimeFault>,
    unavailable: Vec<String>,
    images: Vec<(String, String)>,
    started: Instant,
    state: Arc<Mutex<State>>,
    shutdown: CancellationToken,
}

impl FaultCluster {
    /// Resolves the runtime faults of `faults` against the tasks of `plan`.
    ///
    /// # Errors
    ///
    /// A message when a target or hook names no task of the plan.
    pub fn new(
        rt: Arc<dyn ContainerRuntime>,
        cluster: DockerCluster,
        plan: &Plan,
        faults: &[Fault],
        images: Vec<(String, String)>,
    ) -> Result<Self, String> {
        let tasks: Vec<&Task> = plan.tasks().collect();
        let key_of = |reference: &str| -> Result<ObjectKey, String> {
            tasks
                .iter()
                .find(|t| {
                    select::pod_spec_pointer(t.kind()).is_some()
                        && select::matches(reference, t.kind(), t.name(), t.object.generate_name())
                })
                .map(|t| t.key())
                .ok_or_else(|| format!("`{reference}` is not a workload task of the plan"))
        };
        let mut resolved = Vec::new();
        let mut unavailable = Vec::new();
        for f in faults {
            let (action, target, trigger) = match f {
                Fault::Crash {
                    target,
                    after,
                    while_running,
                } => {
                    let trigger = match (after, while_running) {
                        (Some(d), _) => Trigger::AfterApply(d.0),
                        (None, Some(h)) => Trigger::HookApplied(key_of(h)?),
                        (None, None) => unreachable!("checked when parsing"),
                    };
                    (Action::Crash, target, trigger)
                }
                Fault::Stop {
                    target,
                    while_running,
                } => (
                    Action::Stop,
                    target,
                    Trigger::HookApplied(key_of(while_running)?),
                ),
                Fault::Disconnect {
                    target,
                    while_running,
                } => (
                    Action::Disconnect,
                    target,
                    Trigger::HookApplied(key_of(while_running)?),
                ),
                Fault::ImageUnavailable(image) => {
                    unavailable.push(image.clone());
                    continue;
                }
                _ => continue,
            };
            resolved.push(RuntimeFault {
                action,
                target: key_of(target)?,
                trigger,
            });
        }
        Ok(Self {
            env: Env { rt, cluster },
            faults: resolved,
            unavailable,
            images,
            started: Instant::now(),
            state: Arc::new(Mutex::new(State::default())),
            shutdown: CancellationToken::new(),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn note(&self, text: String) {
        let at = self.started.elapsed().as_secs_f64();
        tracing::info!("fault at {at:.1}s: {text}");
        self.state().fired.push(format!("{at:.1}s {text}"));
    }

    /// Feeds an engine event: a completed hook closes its "while running" windows.
    pub fn observe(&self, ev: &RunEvent) {
        if let RunEvent::TaskUpdated(t) = ev {
            if t.is_completed() {
                self.close_windows(&t.task.key());
            }
        }
    }

    fn close_windows(&self, hook: &ObjectKey) {
        if let Some(ws) = self.state().windows.remove(hook) {
            for w in ws {
                w.cancel();
            }
        }
    }

    /// Stops every fault task and waits for them. Returns what fired, in order, and the logs
    /// captured before deletes.
    pub async fn finish(&self) -> (Vec<String>, BTreeMap<ObjectKey, Vec<String>>) {
        self.shutdown.cancel();
        let tasks = std::mem::take(&mut self.state().tasks);
        for t in tasks {
            let _ = t.await;
        }
        let mut st = self.state();
        (
            std::mem::take(&mut st.fired),
            std::mem::take(&mut st.captured_logs),
        )
    }

    /// Faults whose trigger is the apply of `key`, fired before the object is created.
    async fn before_apply(&self, key: &ObjectKey) {
        for f in &self.faults {
            let Trigger::HookApplied(hook) = &f.trigger else {
                continue;
            };
            if hook != key {
                continue;
            }
            match f.action {
                Action::Crash => {
                    let n = crash::kill(&self.env, &f.target).await;
                    self.note(format!(
                        "crash: killed {n} container(s) of {} as {key} starts",
                        f.target
                    ));
                }
                Action::Disconnect => {
                    let n = disconnect::disconnect(&self.env, &f.target).await;
                    self.note(format!(
                        "disconnect: took {n} container(s) of {} off the network as {key} starts",
                        f.target
                    ));
                }
                Action::Stop => {
                    let n = stop::stop_now(&self.env, &f.target).await;
                    self.note(format!(
                        "stop: stopped {n} container(s) of {} while {key} runs",
                        f.target
                    ));
                    let window = self.shutdown.child_token();
                    let handle = tokio::spawn(stop::hold_down(
                        self.env.clone(),
                        f.target.clone(),
                        window.clone(),
                    ));
                    let mut st = self.state();
                    st.windows.entry(key.clone()).or_default().push(window);
                    st.tasks.push(handle);
                }
            }
        }
    }

    /// Faults counted from the apply of `key` (`crash: {after}`).
    fn after_apply(&self, key: &ObjectKey) {
        for f in &self.faults {
            let Trigger::AfterApply(delay) = f.trigger else {
                continue;
            };
            if f.target != *key || f.action != Action::Crash {
                continue;
            }
            let env = self.env.clone();
            let target = f.target.clone();
            let stop = self.shutdown.clone();
            let started = self.started;
            let state = self.state.clone();
            let handle = tokio::spawn(async move {
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = tokio::time::sleep(delay) => {
                        let n = crash::kill(&env, &target).await;
                        let at = started.elapsed().as_secs_f64();
                        let text = format!(
                            "crash: killed {n} container(s) of {target} {} after its apply",
                            humantime::format_duration(delay)
                        );
                        tracing::info!("fault at {at:.1}s: {text}");
                        lock(&state).fired.push(format!("{at:.1}s {text}"));
                    }
                }
            });
            self.state().tasks.push(handle);
        }
    }
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[async_trait]
impl Cluster for FaultCluster {
    async fn dry_run(&self, task: &Task) -> Result<(), ClusterError> {
        image_unavailable::apply(&self.env.cluster, &self.unavailable, &self.images).await;
        self.env.cluster.dry_run(task).await
    }

    async fn apply(&self, task: &Task) -> Result<ApplyOutcome, ClusterError> {
        let key = task.key();
        self.before_apply(&key).await;
        let out = self.env.cluster.apply(task).await;
        if out.is_ok() {
            self.after_apply(&key);
        }
        out
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), ClusterError> {
        self.close_windows(key);
        if !self.env.cluster.containers_of(key).is_empty() {
            let lines = self.env.cluster.logs(key, CAPTURED_LOG_LINES).await;
            if !lines.is_empty() {
                self.state().captured_logs.insert(key.clone(), lines);
            }
        }
        self.env.cluster.delete(key).await
    }

    async fn get(&self, key: &ObjectKey) -> Option<Value> {
        self.env.cluster.get(key).await
    }

    async fn logs(&self, key: &ObjectKey, tail: usize) -> Vec<String> {
        self.env.cluster.logs(key, tail).await
    }

    async fn step_applied(&self, upcoming: &[Vec<&Task>]) {
        self.env.cluster.step_applied(upcoming).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        cluster::ClusterOptions,
        engine::{self, EngineOptions, Outcome},
        plan::{self, PlanOptions},
        runtime::fake::{FakeRuntime, Op},
    };

    const APP: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: db}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: 'db:1'}]}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {argocd.argoproj.io/hook: PostSync}
spec:
  backoffLimit: 0
  template: {spec: {restartPolicy: Never, containers: [{name: migrate, image: 'tool:1'}]}}
";

    fn faults(yaml: &str) -> Vec<Fault> {
        serde_yaml::from_str(yaml).unwrap()
    }

    async fn run(rt: Arc<FakeRuntime>, faults: &[Fault]) -> (engine::SyncReport, Vec<String>) {
        let objects = crate::manifest::from_yaml_str(APP, "app.yaml").unwrap();
        let plan = plan::build(&objects, &PlanOptions::default()).unwrap();
        let opts = ClusterOptions {
            app: "t".into(),
            poll_interval: Duration::from_millis(20),
            ..ClusterOptions::default()
        };
        let dyn_rt: Arc<dyn ContainerRuntime> = rt.clone();
        let cluster = DockerCluster::new(dyn_rt.clone(), opts, &objects)
            .await
            .unwrap();
        let fc = FaultCluster::new(dyn_rt, cluster.clone(), &plan, faults, vec![]).unwrap();
        let eopts = EngineOptions {
            timeout: Duration::from_secs(20),
            poll_interval: Duration::from_millis(20),
            ..EngineOptions::default()
        };
        let report = engine::run(&plan, &fc, &eopts, &CancellationToken::new(), &mut |ev| {
            fc.observe(&ev)
        })
        .await;
        let (fired, _) = fc.finish().await;
        cluster.teardown(std::time::Duration::ZERO).await;
        (report, fired)
    }

    fn position(log: &[String], op: &str, needle: &str) -> Option<usize> {
        log.iter()
            .position(|l| l.starts_with(&format!("{op} ")) && l.contains(needle))
    }

    #[tokio::test]
    async fn disconnect_fires_before_the_hook_pod_starts() {
        let rt = Arc::new(FakeRuntime::new().script_container(
            "syncsim-t-migrate",
            crate::runtime::fake::Script::exits(0, Duration::from_millis(100)),
        ));
        let f = faults("- disconnect: {target: db, whileRunning: migrate}");
        let (report, fired) = run(rt.clone(), &f).await;
        assert_eq!(report.outcome, Outcome::Succeeded, "{}", report.message);
        let log = rt.call_log();
        let disconnect = position(&log, "disconnect", "-db-").expect("db disconnected");
        // The hook pod's container may be created ahead (never started before its step), and
        // its sandbox started ahead (`syncsim-t-POD-migrate-…`, no process of the hook).
        let hook = position(&log, "start", "syncsim-t-migrate-").expect("hook pod started");
        assert!(disconnect < hook, "{log:#?}");
        assert_eq!(fired.len(), 1, "{fired:?}");
        assert!(
            fired[0].contains("disconnect: took 1 container(s) of apps/Deployment/db"),
            "{fired:?}"
        );
    }

    #[tokio::test]
    async fn stop_holds_the_target_down_until_the_hook_completes() {
        let rt = Arc::new(FakeRuntime::new().script_container(
            "syncsim-t-migrate",
            crate::runtime::fake::Script::exits(0, Duration::from_millis(600)),
        ));
        let f = faults("- stop: {target: db, whileRunning: migrate}");
        let (report, fired) = run(rt.clone(), &f).await;
        assert_eq!(report.outcome, Outcome::Succeeded, "{}", report.message);
        let calls = rt.calls();
        let first_stop = calls
            .iter()
            .position(|c| c.op == Op::Stop && c.object.contains("-db-"))
            .expect("db stopped");
        let hook =
            position(&rt.call_log(), "start", "syncsim-t-migrate-").expect("hook pod started");
        assert!(first_stop < hook, "{:#?}", rt.call_log());
        assert!(
            fired[0].contains(
                "stop: stopped 1 container(s) of apps/Deployment/db while batch/Job/migrate runs"
            ),
            "{fired:?}"
        );
    }

    #[tokio::test]
    async fn an_unavailable_image_keeps_its_pod_pending_and_the_operation_running() {
        let rt = Arc::new(FakeRuntime::new());
        let f = faults("- imageUnavailable: 'tool:1'");
        let (report, _) = run(rt.clone(), &f).await;
        assert!(
            matches!(report.outcome, Outcome::TimedOut { .. }),
            "{:?}: {}",
            report.outcome,
            report.message
        );
        assert_eq!(
            position(&rt.call_log(), "create", "migrate"),
            None,
            "{:#?}",
            rt.call_log()
        );
    }

    #[test]
    fn faults_must_name_workload_tasks() {
        let objects = crate::manifest::from_yaml_str(APP, "app.yaml").unwrap();
        let plan = plan::build(&objects, &PlanOptions::default()).unwrap();
        let rt: Arc<dyn ContainerRuntime> = Arc::new(FakeRuntime::new());
        let cluster = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(DockerCluster::new(
                rt.clone(),
                ClusterOptions::default(),
                &objects,
            ))
            .unwrap();
        let err = FaultCluster::new(
            rt,
            cluster,
            &plan,
            &faults("- crash: {target: nope, after: 1s}"),
            vec![],
        )
        .err()
        .unwrap();
        assert!(err.contains("`nope`"), "{err}");
    }
}
