//! The rehearsal story, told once: resolve the source → render and plan → build images →
//! open or adopt the environment → run the operation → keep or tear down. Callers (the CLI)
//! see it as [`Event`]s and a [`SyncReport`].
use super::{
    app::{app_name, recorded_source},
    env::Environment,
    images::{build_images, cluster_description, missing_images, Built, MissingImage},
    signal::Interrupts,
    source::{plan_options, render},
    Error,
};
use crate::{
    apiserver::{Discovery, UpdateOptions},
    build::BuildEvent,
    cluster::{probe::Timing, ApiRules, ClusterOptions, PodWaiting, TeardownReport},
    engine::{EngineOptions, Outcome, RunEvent, SyncReport},
    runtime::ContainerRuntime,
    state::AppLock,
};
use std::{
    future::Future,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

/// One sync, as `syncsim sync` asks for it.
#[derive(Debug, Clone)]
pub struct SyncRequest {
    /// Kustomize directory, plain directory, file, or `-` for stdin.
    pub source: String,
    /// `--app` (sanitized); `None`: the source's name.
    pub app: Option<String>,
    pub dest_namespace: String,
    pub revision: String,
    /// `FROM=TO` image rewrites.
    pub images: Vec<(String, String)>,
    /// How probes, backoffs and the engine spend waiting time.
    pub timing: Timing,
    pub wave_delay: Duration,
    pub timeout: Duration,
    pub job_backoff: Duration,
    /// Keep the environment and record it instead of tearing it down.
    pub keep: bool,
    /// Delete what the environment holds beyond the source.
    pub prune: bool,
    /// Build the images of `syncsim.yaml` first.
    pub build: bool,
    /// A build config instead of the `syncsim.yaml` search.
    pub config: Option<PathBuf>,
    /// The application's `CreateNamespace=true` (`--sync-option`): the destination namespace
    /// is created first, as a PreSync task (§2.1.4).
    pub create_namespace: bool,
    /// The application's `Replace=true` (`--sync-option`).
    pub replace: bool,
    /// `--force`: a refused update deletes and re-creates the object (§6.2).
    pub force: bool,
    /// Rehearse the hang of images that can be neither found nor pulled instead of stopping
    /// before the operation.
    pub allow_missing_images: bool,
    /// Size cap of each hook's captured log (`--hook-log-bytes`): the tail is kept.
    pub hook_log_bytes: usize,
}

/// The environment a run opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub app: String,
    pub run_id: String,
    pub network: String,
    /// Objects of the kept environment adopted, if one was.
    pub adopted: Option<usize>,
}

/// What happens during a rehearsal, in order.
#[derive(Debug)]
pub enum Event<'a> {
    /// A plan warning (something Argo CD would not warn about, or would do unexpectedly).
    Warning(&'a crate::plan::Warning),
    /// Progress of the image build step.
    Build(BuildEvent<'a>),
    /// The build step is over.
    Built(&'a Built),
    /// Images that can be neither found nor pulled, rehearsed anyway (`--allow-missing-images`).
    MissingImages(&'a [MissingImage]),
    /// The environment is open.
    Opened(&'a Opened),
    /// A pod cannot start yet and stays Pending (as on a cluster).
    PodWaiting(&'a PodWaiting),
    /// Progress of the operation.
    Run(RunEvent),
    /// The environment is kept and recorded at `path`.
    Kept {
        app: &'a str,
        network: &'a str,
        path: &'a Path,
    },
    /// The environment is gone.
    TornDown(&'a TeardownReport),
}

/// The app's lock for this process (see [`AppLock`]), with a warning when it takes over the
/// lock of a run that ended without releasing it.
pub(super) fn lock_app(app: &str) -> Result<AppLock, Error> {
    let command: Vec<String> = std::env::args().collect();
    let lock = AppLock::acquire(app, &command.join(" "))?;
    if let Some(old) = &lock.took_over {
        tracing::warn!(
            "app `{app}`: the last run, {old}, ended without releasing its lock (killed?); taking over and removing what it left"
        );
    }
    Ok(lock)
}

/// Runs one rehearsal. The app's lock is taken first (a second run of the same app is refused
/// at once); `connect` is awaited only once the source renders (bad input never needs the
/// engine). `interrupts` must be installed by the caller before this is called: a signal
/// before the environment is created ends the run with [`Error::Interrupted`], one after it
/// ends the operation and tears the environment down.
///
/// # Errors
///
/// Every way the rehearsal cannot run, one class each ([`Error`]). A sync that runs and
/// fails is not an error: it is the report's outcome.
pub async fn sync(
    req: &SyncRequest,
    connect: impl Future<Output = Result<Arc<dyn ContainerRuntime>, Error>>,
    interrupts: &Interrupts,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> Result<SyncReport, Error> {
    let app = app_name(req.app.as_deref(), &req.source)?;
    let _lock = lock_app(&app)?;
    let rendered = render(
        &req.source,
        &plan_options(&req.dest_namespace, &req.revision),
    )?;
    interrupts.check()?;
    for w in &rendered.plan.warnings {
        on_event(Event::Warning(w));
    }
    let rt = interrupts.until_cancelled(connect).await??;

    // Build before the dry run, so images built here are not reported missing.
    if req.build {
        let built = interrupts
            .until_cancelled(build_images(
                &req.source,
                req.config.as_deref(),
                false,
                false,
                &*rt,
                &mut |ev| on_event(Event::Build(ev)),
            ))
            .await??;
        if let Some(b) = &built {
            on_event(Event::Built(b));
        }
    }
    interrupts.check()?;

    let cluster = cluster_description(&req.source, req.config.as_deref())?;
    // Syncsim's preflight, not Argo CD's: an image nobody can pull hangs a real sync.
    let missing = missing_images(&*rt, &rendered.objects, &req.images).await;
    if !missing.is_empty() {
        if !req.allow_missing_images {
            return Err(Error::MissingImages(missing));
        }
        on_event(Event::MissingImages(&missing));
    }

    let copts = ClusterOptions {
        app: app.clone(),
        images: req.images.clone(),
        job_backoff_base: req.job_backoff,
        timing: req.timing,
        poll_interval: req.timing.controller_poll(),
        storage_classes: cluster.storage_classes.iter().map(Into::into).collect(),
        ..ClusterOptions::default()
    };
    let run_id = copts.run_id.clone();
    // Not abandoned on a signal: what it creates is torn down below (the operation sees the
    // cancelled token at once and ends Interrupted).
    let env = Environment::open(rt, copts, &rendered.objects).await?;
    on_event(Event::Opened(&Opened {
        app: app.clone(),
        run_id,
        network: env.cluster.network().to_string(),
        adopted: env.adopted.then_some(env.adopted_objects),
    }));
    env.cluster.set_api_rules(ApiRules::new(
        &cluster,
        &rendered.objects,
        &req.dest_namespace,
        req.create_namespace,
        UpdateOptions {
            force: req.force,
            replace: req.replace,
        },
    ));

    let live_namespaces: Vec<String> = env
        .cluster
        .snapshot()
        .into_iter()
        .filter(|r| r.group.is_empty() && r.kind == "Namespace")
        .map(|r| r.name)
        .collect();
    let eopts = EngineOptions {
        app: app.clone(),
        wave_delay: req.wave_delay,
        timeout: req.timeout,
        prune: req.prune,
        poll_interval: req.timing.engine_poll(),
        discovery: Some(Arc::new(Discovery::new(&cluster, &rendered.objects))),
        dest_namespace: req.dest_namespace.clone(),
        extra_tasks: namespace_task(
            req.create_namespace,
            &req.dest_namespace,
            &rendered.objects,
            |ns| cluster.has_namespace(ns) || live_namespaces.iter().any(|l| l == ns),
        )
        .into_iter()
        .collect(),
        hook_log_bytes: req.hook_log_bytes,
    };
    let mut report = {
        // Pods that cannot start are shown as they happen (the engine only sees health).
        let on_event = std::sync::Mutex::new(&mut *on_event);
        let emit = |ev: Event<'_>| (on_event.lock().unwrap_or_else(|e| e.into_inner()))(ev);
        let waiting = async {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                for w in env.cluster.take_new_waiting_pods() {
                    emit(Event::PodWaiting(&w));
                }
            }
        };
        let mut on_run = |ev| emit(Event::Run(ev));
        let run = env.sync(
            &rendered.plan,
            &rendered.objects,
            &eopts,
            &interrupts.cancel,
            &mut on_run,
        );
        tokio::select! {
            r = run => r,
            () = waiting => unreachable!("the waiting-pod ticker never ends"),
        }
    };
    if let Outcome::TimedOut { waiting } = &mut report.outcome {
        for w in env.cluster.waiting_pods() {
            waiting.push_str(&format!("; {w}"));
        }
    }
    report.predicted_cluster_duration = Some(env.cluster.predicted_cluster_duration(&report));
    report.shortened = env.cluster.shortened(&report);

    // Keep or tear down before the verdict, so nothing is left on an early exit.
    if req.keep {
        let path = env
            .keep(
                &recorded_source(&req.source),
                &req.dest_namespace,
                &req.images,
                Some(&report),
            )
            .await?;
        on_event(Event::Kept {
            app: &app,
            network: env.cluster.network(),
            path: &path,
        });
    } else {
        // After an interruption, containers get a grace period to stop (a second signal cuts
        // it short); after a normal end there is nothing to preserve: their volumes go too.
        let grace = if report.outcome == Outcome::Interrupted {
            Duration::from_secs(3)
        } else {
            Duration::ZERO
        };
        let t = env.teardown_unless_forced(grace, &interrupts.force).await;
        on_event(Event::TornDown(&t));
    }
    Ok(report)
}

/// Marks the Namespace created by `CreateNamespace=true`: Argo CD does not track it, so it is
/// never pruned.
pub const CREATED_NAMESPACE: &str = "syncsim.dev/created-namespace";

/// The Namespace task Argo CD adds with `CreateNamespace=true` (§2.1.4): a synthetic
/// `Namespace/<dest>` in phase PreSync, when the source has no Namespace of that name and the
/// namespace does not exist yet (`exists`).
pub fn namespace_task(
    create_namespace: bool,
    dest_namespace: &str,
    objects: &[crate::manifest::Object],
    exists: impl Fn(&str) -> bool,
) -> Option<crate::plan::Task> {
    let in_source = objects
        .iter()
        .any(|o| o.group().is_empty() && o.kind() == "Namespace" && o.name() == dest_namespace);
    if !create_namespace || dest_namespace.is_empty() || in_source || exists(dest_namespace) {
        return None;
    }
    let yaml = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {dest_namespace}\n  \
         annotations: {{{CREATED_NAMESPACE}: \"true\"}}\n"
    );
    let objects = crate::manifest::from_yaml_str(&yaml, "(CreateNamespace=true)").ok()?;
    let plan = crate::plan::build(&objects, &crate::plan::PlanOptions::default()).ok()?;
    let mut task = plan.tasks().next()?.clone();
    task.phase = crate::plan::Phase::PreSync;
    Some(task)
}

#[cfg(test)]
mod tests {
    use super::namespace_task;

    #[test]
    fn create_namespace_adds_a_presync_namespace_task_only_when_needed() {
        let t = namespace_task(true, "shortlink", &[], |_| false).unwrap();
        assert_eq!(
            (t.phase, t.kind(), t.name()),
            (crate::plan::Phase::PreSync, "Namespace", "shortlink")
        );
        assert!(namespace_task(false, "shortlink", &[], |_| false).is_none());
        assert!(namespace_task(true, "shortlink", &[], |ns| ns == "shortlink").is_none());
        let ns = crate::manifest::from_yaml_str(
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: shortlink}\n",
            "ns.yaml",
        )
        .unwrap();
        assert!(namespace_task(true, "shortlink", &ns, |_| false).is_none());
    }
}
