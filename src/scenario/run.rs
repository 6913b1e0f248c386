//! Running one scenario: prepare (render, patch, inject manifest faults, plan, check
//! references), sync on its own Docker environment with the runtime faults, observe, run the
//! exec checks, tear down, evaluate.
use super::{
    error::Error,
    expect::{self, Observed, Unmet},
    faults::{self, FaultCluster},
    patch, select,
    spec::{FileContent, Patch, Scenario},
};
use crate::{
    cluster::{ClusterOptions, DockerCluster},
    engine::{self, Cluster, EngineOptions, RunEvent, SyncReport},
    manifest::{self, Object, ObjectKey},
    plan::{self, Plan, PlanOptions},
    rehearsal::{
        application::{self, Flags, Settings, SourceOptions},
        Environment,
    },
    runtime::{ContainerRuntime, ContainerStatus},
    util::unix_now,
};
use std::{collections::BTreeMap, sync::Arc, time::Duration};
use tokio_util::sync::CancellationToken;

/// Default `sync.timeout` of a scenario.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Log lines gathered for `expect.logs` and for a failing task's tail.
const LOG_LINES: usize = 500;
/// Lines of a failing task's log shown in the verdict.
pub const SHOWN_LOG_LINES: usize = 20;
/// How long one `expect.exec` command may take.
const EXEC_TIMEOUT: Duration = Duration::from_secs(60);

/// A scenario ready to run: its objects after patches, files and manifest faults, and the plan.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub scenario: Scenario,
    pub objects: Vec<Object>,
    pub plan: Plan,
    plan_options: PlanOptions,
    /// The `live:` state synced before the rehearsed sync: its objects and plan.
    live: Option<(Vec<Object>, Plan)>,
    /// The source's settings: an Application's (destination namespace, sync options,
    /// `syncsim.yaml` beside its source) under the scenario's `sync:` values.
    settings: Settings,
}

/// Renders the source and applies patches, file edits and manifest faults; builds the plan and
/// checks that every name the scenario uses is a task of it. No Docker.
///
/// # Errors
///
/// Any of [`Error`], pointing at the scenario file's line.
pub fn prepare(scenario: Scenario) -> Result<Prepared, Error> {
    let s = &scenario.spec;
    let file = scenario.path.display().to_string();
    let source_str = scenario.dir().join(&s.source).to_string_lossy().to_string();
    let loaded =
        application::load(&source_str, &SourceOptions::default()).map_err(|e| match e {
            crate::rehearsal::Error::Manifest(e) => Error::Source {
                file: file.clone(),
                source_path: source_str.clone(),
                source: Box::new(e),
            },
            other => scenario.invalid("source", crate::error::render_chain(&other)),
        })?;
    prepare_loaded(scenario, &source_str, loaded)
}

/// [`prepare`] on objects already rendered (`syncsim replay --rehearse` renders the source at
/// a recorded revision): patches, file edits, manifest faults, plan, reference checks.
///
/// # Errors
///
/// As [`prepare`], minus the render.
pub fn prepare_objects(scenario: Scenario, objects: Vec<Object>) -> Result<Prepared, Error> {
    let source_str = scenario
        .dir()
        .join(&scenario.spec.source)
        .to_string_lossy()
        .to_string();
    let loaded = manifest::Loaded {
        objects,
        renderer: manifest::Renderer::File,
        application: None,
    };
    prepare_loaded(scenario, &source_str, loaded)
}

/// Settings, patches, file edits, manifest faults, the plan, reference checks and the `live:`
/// state of a scenario whose source is `loaded`.
fn prepare_loaded(
    scenario: Scenario,
    source_str: &str,
    loaded: manifest::Loaded,
) -> Result<Prepared, Error> {
    let s = &scenario.spec;
    let file = scenario.path.display().to_string();
    let flags = Flags {
        dest_namespace: s.sync.dest_namespace.clone(),
        revision: s.sync.revision.clone(),
        ..Flags::default()
    };
    let settings = Settings::resolve(source_str, &loaded, &flags)
        .map_err(|e| scenario.invalid("source", crate::error::render_chain(&e)))?;
    let mut objects = loaded.objects;
    apply_patches(&scenario, &mut objects, &s.patches, &s.source)?;
    for f in &s.files {
        let content = match &f.content {
            FileContent::Inline(c) => c.clone(),
            FileContent::From(rel) => {
                let path = scenario.dir().join(rel);
                std::fs::read_to_string(&path).map_err(|e| {
                    scenario.invalid(
                        rel,
                        format!(
                            "cannot read `{}`: {e} (`from` is relative to the scenario file)",
                            path.display()
                        ),
                    )
                })?
            }
        };
        patch::set_config_map_key(
            &mut objects,
            &f.config_map,
            f.namespace.as_deref(),
            &f.key,
            &content,
        )
        .map_err(|e| scenario.invalid(&f.config_map, e))?;
    }
    faults::apply_to_objects(&mut objects, &s.faults)
        .map_err(|(i, e)| scenario.invalid(s.faults[i].name(), e))?;
    let plan_options = PlanOptions {
        dest_namespace: settings.dest_namespace.clone(),
        revision: settings.revision.clone(),
        started_at_unix: unix_now(),
    };
    let plan = plan::build(&objects, &plan_options).map_err(|e| Error::Plan {
        file: file.clone(),
        source: Box::new(e),
    })?;
    check_references(&scenario, &plan)?;
    let live = match &s.live {
        None => None,
        Some(l) => {
            let source = l.source.as_deref().unwrap_or(&s.source);
            let mut objects = load_source(&scenario, source)?;
            apply_patches(&scenario, &mut objects, &l.patches, source)?;
            let plan = plan::build(&objects, &plan_options).map_err(|e| Error::Plan {
                file: file.clone(),
                source: Box::new(e),
            })?;
            Some((objects, plan))
        }
    };
    Ok(Prepared {
        scenario,
        objects,
        plan,
        plan_options,
        live,
        settings,
    })
}

/// Renders `source` (relative to the scenario file).
fn load_source(scenario: &Scenario, source: &str) -> Result<Vec<Object>, Error> {
    let path = scenario.dir().join(source);
    let source_str = path.to_string_lossy().to_string();
    let loaded = manifest::load(&source_str, &manifest::LoadOptions::default()).map_err(|e| {
        Error::Source {
            file: scenario.path.display().to_string(),
            source_path: source_str.clone(),
            source: Box::new(e),
        }
    })?;
    Ok(loaded.objects)
}

/// Applies `patches` in order to the objects rendered from `source`.
fn apply_patches(
    scenario: &Scenario,
    objects: &mut [Object],
    patches: &[Patch],
    source: &str,
) -> Result<(), Error> {
    for p in patches {
        let (needle, r) = match p {
            Patch::Merge(v) => (
                v.pointer("/metadata/name")
                    .and_then(|n| n.as_str())
                    .unwrap_or("merge"),
                patch::apply_merge(objects, v),
            ),
            Patch::Json6902 { target, ops } => (
                target.name.as_str(),
                patch::apply_json6902(objects, target, ops),
            ),
        };
        r.map_err(|e| {
            scenario.invalid(
                needle,
                format!("{e} (check the patch's kind and name against `syncsim plan {source}`)"),
            )
        })?;
    }
    Ok(())
}

/// Every name in `expect` must be a task of the plan, so that a typo is a bad file (exit 2)
/// rather than a confusing failure.
fn check_references(scenario: &Scenario, plan: &Plan) -> Result<(), Error> {
    let e = &scenario.spec.expect;
    let names = e
        .failed_task
        .iter()
        .chain(e.hook_phases.keys())
        .chain(&e.remain)
        .chain(&e.deleted)
        .chain(&e.recreated)
        .chain(e.logs.iter().map(|l| &l.task))
        .chain(e.applied_after.keys())
        .chain(e.exec.iter().map(|x| &x.in_));
    for name in names {
        let found = plan
            .tasks()
            .any(|t| select::matches(name, t.kind(), t.name(), t.object.generate_name()));
        if !found {
            let mut all: Vec<String> = plan
                .tasks()
                .map(|t| format!("{}/{}", t.kind(), t.name()))
                .collect();
            all.dedup();
            return Err(scenario.invalid(
                name,
                format!(
                    "`{name}` is not a task of the plan (tasks: {})",
                    all.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// How a scenario ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Expectations not met.
    Fail(Vec<Unmet>),
    /// The run could not happen (Docker error) or was interrupted.
    Error(String),
}

/// The result of one scenario, for the terminal and JUnit.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub name: String,
    pub path: String,
    pub app: String,
    pub duration: Duration,
    pub verdict: Verdict,
    /// Final phase and message of the last operation.
    pub summary: Option<String>,
    /// Tasks that failed, with their log tail.
    pub failed_logs: Vec<(String, Vec<String>)>,
    /// Runtime faults that fired, with their time.
    pub faults_fired: Vec<String>,
    /// The last operation's report (`None` for plan-only scenarios and runs that could not
    /// start), for `syncsim test --html`.
    pub report: Option<Box<SyncReport>>,
}

/// Options shared by every scenario of a `syncsim test` run.
#[derive(Clone)]
pub struct RunOptions {
    pub rt: Arc<dyn ContainerRuntime>,
    /// Cancels the sync (first Ctrl-C): the run tears down and reports an error.
    pub cancel: CancellationToken,
    /// Forces teardown without grace periods (second Ctrl-C).
    pub force: CancellationToken,
}

/// A DNS-safe app name: the scenario's `sync.app` (or file stem) plus a short random suffix,
/// so that scenarios (and two runs of one) never share a network or volume.
pub fn app_name(prepared: &Prepared) -> String {
    let base = prepared.scenario.spec.sync.app.clone().unwrap_or_else(|| {
        prepared
            .scenario
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "scenario".into())
    });
    let mut clean: String = base
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    clean.truncate(40);
    let clean = clean.trim_matches('-');
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..6];
    format!(
        "{}-{suffix}",
        if clean.is_empty() { "scenario" } else { clean }
    )
}

/// Runs a prepared scenario on its own environment and always tears it down.
pub async fn run(prepared: &Prepared, opts: &RunOptions) -> ScenarioResult {
    let started = tokio::time::Instant::now();
    let app = app_name(prepared);
    let sc = &prepared.scenario;
    let mut result = ScenarioResult {
        name: sc.name.clone(),
        path: sc.path.display().to_string(),
        app: app.clone(),
        duration: Duration::ZERO,
        verdict: Verdict::Pass,
        summary: None,
        failed_logs: Vec::new(),
        faults_fired: Vec::new(),
        report: None,
    };
    if opts.cancel.is_cancelled() {
        result.verdict = Verdict::Error("interrupted before it started".into());
        return result;
    }
    if sc.spec.plan_only {
        let obs = Observed {
            plan: &prepared.plan,
            report: None,
            existing: vec![],
            recreated: vec![],
            logs: BTreeMap::new(),
            exec: vec![],
        };
        let unmet = expect::evaluate(&sc.spec.expect, &obs);
        result.verdict = if unmet.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail(unmet)
        };
        result.summary = Some(format!(
            "plan only: {} steps, {} warnings",
            prepared.plan.steps.len(),
            prepared.plan.warnings.len()
        ));
        result.duration = started.elapsed();
        return result;
    }
    let sync = &sc.spec.sync;
    let images: Vec<(String, String)> = sync
        .images
        .iter()
        .map(|(a, b)| (a.clone(), b.clone()))
        .collect();
    let copts = ClusterOptions {
        app: app.clone(),
        images: images.clone(),
        job_backoff_base: sync.job_backoff.map_or(Duration::from_secs(1), |d| d.0),
        ..ClusterOptions::default()
    };
    let env = match Environment::fresh(opts.rt.clone(), copts, &prepared.objects).await {
        Ok(env) => env,
        Err(e) => {
            result.verdict = Verdict::Error(format!(
                "failed to create network `syncsim-{app}`: {}",
                crate::error::render_chain(&e)
            ));
            result.duration = started.elapsed();
            return result;
        }
    };
    tracing::info!(
        "scenario {}: app `{app}`, network {}",
        sc.name,
        env.cluster.network()
    );
    let outcome = sync_and_observe(prepared, opts, &env.cluster, images).await;
    let teardown = env
        .teardown_unless_forced(Duration::ZERO, &opts.force)
        .await;
    for e in &teardown.errors {
        tracing::warn!("scenario {}: cleanup: {e}", sc.name);
    }
    match outcome {
        Ok(o) => {
            result.summary = Some(format!("{} ({})", o.report.phase, o.report.message));
            result.failed_logs = o.failed_logs;
            result.faults_fired = o.fired;
            result.report = Some(Box::new(o.report.clone()));
            result.verdict = if expect::interrupted(&o.report) || opts.cancel.is_cancelled() {
                Verdict::Error("interrupted".into())
            } else if o.unmet.is_empty() {
                Verdict::Pass
            } else {
                Verdict::Fail(o.unmet)
            };
        }
        Err(e) => result.verdict = Verdict::Error(e),
    }
    result.duration = started.elapsed();
    result
}

struct SyncOutcome {
    report: SyncReport,
    unmet: Vec<Unmet>,
    failed_logs: Vec<(String, Vec<String>)>,
    fired: Vec<String>,
}

/// Everything between creating the network and teardown. Never returns early without the
/// caller tearing down.
async fn sync_and_observe(
    prepared: &Prepared,
    opts: &RunOptions,
    cluster: &DockerCluster,
    images: Vec<(String, String)>,
) -> Result<SyncOutcome, String> {
    let sc = &prepared.scenario;
    let sync = &sc.spec.sync;
    // The cluster of the source's syncsim.yaml `cluster:` section, as `syncsim sync` uses it
    // (for an Application: the one beside its first source).
    let settings = &prepared.settings;
    let described = crate::rehearsal::cluster_description(&settings.config_anchor, None)
        .map_err(|e| crate::error::render_chain(&e))?;
    let dest = prepared.plan_options.dest_namespace.clone();
    let app_opts = settings.sync_options;
    let rules = |objects: &[Object]| {
        crate::cluster::ApiRules::new(
            &described,
            objects,
            &dest,
            app_opts.create_namespace,
            crate::apiserver::UpdateOptions {
                force: false,
                replace: app_opts.replace,
            },
        )
    };
    if let Some((objects, plan)) = &prepared.live {
        cluster.set_api_rules(rules(objects));
        cluster.set_desired(objects);
        let eopts = EngineOptions {
            app: cluster.network().trim_start_matches("syncsim-").to_string(),
            timeout: sync.timeout.map_or(DEFAULT_TIMEOUT, |d| d.0),
            dest_namespace: dest.clone(),
            ..EngineOptions::default()
        };
        let report = engine::run(plan, cluster, &eopts, &opts.cancel, &mut |_| {}).await;
        if report.outcome != engine::Outcome::Succeeded {
            return Err(format!(
                "the `live:` state did not sync, so there is nothing to re-sync: {} ({})",
                report.phase, report.message
            ));
        }
        cluster.finish_rollouts().await;
        cluster.set_desired(&prepared.objects);
    }
    cluster.set_api_rules(rules(&prepared.objects));
    let namespace = crate::rehearsal::namespace_task(
        app_opts.create_namespace,
        &dest,
        settings.managed_namespace_metadata.as_ref(),
        &prepared.plan,
        |ns| described.has_namespace(ns),
    );
    let eopts = EngineOptions {
        app: cluster.network().trim_start_matches("syncsim-").to_string(),
        wave_delay: sync.wave_delay.map_or(Duration::ZERO, |d| d.0),
        timeout: sync.timeout.map_or(DEFAULT_TIMEOUT, |d| d.0),
        discovery: Some(Arc::new(crate::apiserver::Discovery::new(
            &described,
            &prepared.objects,
        ))),
        dest_namespace: dest,
        extra_tasks: namespace.into_iter().collect(),
        ..EngineOptions::default()
    };
    let times = sync.times.unwrap_or(1);
    let mut fired = Vec::new();
    let mut captured = BTreeMap::new();
    let mut last = None;
    for i in 0..times {
        let plan = if i == 0 {
            prepared.plan.clone()
        } else {
            // A new operation: generateName hooks get a new name from the new start time.
            let popts = PlanOptions {
                started_at_unix: prepared.plan_options.started_at_unix.max(unix_now())
                    + i64::from(i),
                ..prepared.plan_options.clone()
            };
            plan::build(&prepared.objects, &popts).map_err(|e| crate::error::render_chain(&e))?
        };
        let fc = FaultCluster::new(
            opts.rt.clone(),
            cluster.clone(),
            &plan,
            &sc.spec.faults,
            images.clone(),
        )?;
        let mut recreated_keys = Vec::new();
        let report = engine::run(&plan, &fc, &eopts, &opts.cancel, &mut |ev| {
            fc.observe(&ev);
            if let RunEvent::HookDeleted { key, reason } = &ev {
                if reason == "BeforeHookCreation" {
                    recreated_keys.push(key.clone());
                }
            }
            tracing::debug!("{}: {ev:?}", sc.name);
        })
        .await;
        let (f, c) = fc.finish().await;
        fired.extend(f.into_iter().map(|x| {
            if times > 1 {
                format!("sync {}: {x}", i + 1)
            } else {
                x
            }
        }));
        captured = c;
        let recreated: Vec<ObjectKey> = plan
            .tasks()
            .filter(|t| recreated_keys.contains(&t.key().to_string()))
            .map(|t| t.key())
            .collect();
        let interrupted = expect::interrupted(&report);
        last = Some((plan, report, recreated));
        if interrupted {
            break;
        }
    }
    let (plan, report, recreated) = last.expect("times >= 1");
    let mut existing = Vec::new();
    for t in &report.tasks {
        let key = t.task.key();
        if !existing.contains(&key) && cluster.get(&key).await.is_some() {
            existing.push(key);
        }
    }
    let logs_of = |key: ObjectKey, fallback: Vec<String>| {
        let captured = captured.get(&key).cloned();
        let exists = existing.contains(&key);
        async move {
            let live = if exists {
                cluster.logs(&key, LOG_LINES).await
            } else {
                Vec::new()
            };
            if !live.is_empty() {
                live
            } else {
                captured.filter(|c| !c.is_empty()).unwrap_or(fallback)
            }
        }
    };
    let mut logs = BTreeMap::new();
    for l in &sc.spec.expect.logs {
        if let Some(t) = expect::tasks_named(&report, &l.task).last() {
            logs.insert(
                l.task.clone(),
                logs_of(t.task.key(), t.log_tail.clone()).await,
            );
        }
    }
    let mut failed_logs = Vec::new();
    for t in report.tasks.iter().filter(|t| t.completed_unsuccessfully()) {
        let lines = logs_of(t.task.key(), t.log_tail.clone()).await;
        let start = lines.len().saturating_sub(SHOWN_LOG_LINES);
        failed_logs.push((
            format!("{}/{}", t.task.kind(), t.task.name()),
            lines[start..].to_vec(),
        ));
    }
    let mut exec = Vec::new();
    for check in &sc.spec.expect.exec {
        exec.push(run_exec(opts, cluster, &plan, &check.in_, &check.command).await);
    }
    let obs = Observed {
        plan: &plan,
        report: Some(&report),
        existing,
        recreated,
        logs,
        exec,
    };
    let unmet = expect::evaluate(&sc.spec.expect, &obs);
    Ok(SyncOutcome {
        report,
        unmet,
        failed_logs,
        fired,
    })
}

/// Runs `command` in the newest running container of workload `target`.
async fn run_exec(
    opts: &RunOptions,
    cluster: &DockerCluster,
    plan: &Plan,
    target: &str,
    command: &[String],
) -> Result<crate::runtime::ExecResult, String> {
    let task = plan
        .tasks()
        .find(|t| {
            select::pod_spec_pointer(t.kind()).is_some()
                && select::matches(target, t.kind(), t.name(), t.object.generate_name())
        })
        .ok_or_else(|| format!("`{target}` is not a task of the plan"))?;
    let key = task.key();
    let ids = cluster.containers_of(&key);
    for id in ids.iter().rev() {
        if let Ok(s) = opts.rt.inspect_container(id).await {
            if s.status == ContainerStatus::Running {
                return opts
                    .rt
                    .exec(id, command, EXEC_TIMEOUT)
                    .await
                    .map_err(|e| crate::error::render_chain(&e));
            }
        }
    }
    Err(format!(
        "no running container of {}/{} ({} container(s) seen)",
        key.kind,
        key.name,
        ids.len()
    ))
}
