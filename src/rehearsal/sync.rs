//! The rehearsal story, told once: resolve the source → render and plan → build images →
//! open or adopt the environment → run the operation → keep or tear down. Callers (the CLI)
//! see it as [`Event`]s and a [`Synced`]. A source that renders Argo CD Applications (an app of
//! apps) continues in [`super::apps`].
use super::{
    app::{recorded_source, validate_app},
    application::{self, Flags, Settings, SourceOptions},
    apps::{self, ChildSync},
    argocd_cm::ArgoCdConfig,
    env::Environment,
    images::{build_images, cluster_description, missing_images, Built, MissingImage},
    signal::Interrupts,
    source::{plan_options, Rendered},
    Error,
};
use crate::{
    apiserver::{ClusterDescription, Discovery, UpdateOptions},
    build::BuildEvent,
    cluster::{probe::Timing, ApiRules, ClusterOptions, PodWaiting, TeardownReport},
    engine::{EngineOptions, Outcome, RunEvent, SyncReport},
    manifest::source::{Application, ManagedNamespaceMetadata},
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
    /// Kustomize directory, plain directory, file (an Application file too), or `-` for stdin.
    pub source: String,
    /// `--app`: the app name, and for an Application file the Application to sync. `None`: the
    /// Application's name, else the source's name.
    pub app: Option<String>,
    /// `--repo DIR` / `--repo URL=DIR`: the checkouts serving an Application's `repoURL`s.
    pub repos: Vec<String>,
    /// `--dest-namespace`; `None`: the Application's `destination.namespace`, else `default`.
    pub dest_namespace: Option<String>,
    /// `--revision`; `None`: the Application's resolved revision, else `HEAD`.
    pub revision: Option<String>,
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
    /// `--sync-option` flags, on top of the Application's `syncPolicy.syncOptions`
    /// (`CreateNamespace=true` creates the destination namespace first as a PreSync task,
    /// §2.1.4; `Replace=true`; `PruneLast=true`).
    pub sync_options: Vec<(String, bool)>,
    /// `--force`: a refused update deletes and re-creates the object (§6.2).
    pub force: bool,
    /// Rehearse the hang of images that can be neither found nor pulled instead of stopping
    /// before the operation.
    pub allow_missing_images: bool,
    /// Size cap of each hook's captured log (`--hook-log-bytes`): the tail is kept.
    pub hook_log_bytes: usize,
    /// `--argocd-cm`: health customizations and kustomize build options.
    pub argocd: ArgoCdConfig,
}

/// The result of a rehearsal: the operation's report, the Application synced (when SOURCE was
/// one) and, for an app of apps, each child Application's sync in the parent's order.
#[derive(Debug, Clone)]
pub struct Synced {
    pub report: SyncReport,
    pub application: Option<Application>,
    pub children: Vec<ChildSync>,
}

impl Synced {
    /// The exit code of the whole rehearsal: the worst of the parent's and the children's.
    pub fn exit_code(&self) -> i32 {
        let codes = std::iter::once(self.report.outcome.exit_code())
            .chain(self.children.iter().map(ChildSync::exit_code));
        if let Some(c) = codes.clone().find(|&c| c == crate::error::INTERRUPTED) {
            return c;
        }
        codes.max().unwrap_or(crate::error::SUCCESS)
    }
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
    /// Something about the Application's settings worth knowing (a sync option without effect).
    Note(&'a str),
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
    /// The parent of an app of apps applied child Application `app`, which starts syncing.
    ChildStarted { app: &'a str, automated: bool },
    /// Progress of a child Application's operation.
    ChildRun { app: &'a str, event: RunEvent },
    /// A child Application's sync ended, or could not run.
    ChildSynced(&'a ChildSync),
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

/// Loads SOURCE and resolves its settings (an Application's fields as defaults under the
/// flags), then plans it.
///
/// # Errors
///
/// [`Error::Manifest`], [`Error::Plan`], [`Error::BadInput`].
pub fn prepare(
    source: &str,
    src: &SourceOptions,
    flags: &Flags,
) -> Result<(Settings, Rendered), Error> {
    let loaded = application::load(source, src)?;
    let settings = Settings::resolve(source, &loaded, flags)?;
    let plan = crate::plan::build(
        &loaded.objects,
        &plan_options(&settings.dest_namespace, &settings.revision),
    )?;
    Ok((
        settings,
        Rendered {
            objects: loaded.objects,
            plan,
        },
    ))
}

/// Runs one rehearsal. The source renders first (an Application's name is the app name), then
/// the app's lock is taken (a second run of the same app is refused at once); `connect` is
/// awaited only once the source renders (bad input never needs the engine). `interrupts` must
/// be installed by the caller before this is called: a signal before the environment is
/// created ends the run with [`Error::Interrupted`], one after it ends the operation and tears
/// the environment down.
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
) -> Result<Synced, Error> {
    // A bad name is refused before the source is even read.
    if let Some(a) = &req.app {
        validate_app(a)?;
    }
    let src = SourceOptions {
        app: req.app.clone(),
        repos: req.repos.clone(),
        kustomize_build_options: req.argocd.kustomize_build_options.clone(),
    };
    let flags = Flags {
        app: req.app.clone(),
        dest_namespace: req.dest_namespace.clone(),
        revision: req.revision.clone(),
        sync_options: req.sync_options.clone(),
    };
    let (settings, rendered) = prepare(&req.source, &src, &flags)?;
    let app = settings.app.clone();
    let _lock = lock_app(&app)?;
    interrupts.check()?;
    for n in &settings.notes {
        on_event(Event::Note(n));
    }
    for w in &rendered.plan.warnings {
        on_event(Event::Warning(w));
    }
    let children = apps::prepare_children(&settings, &rendered, &src)?;
    if !children.is_empty() && req.keep {
        return Err(Error::BadInput(format!(
            "`{}` renders Argo CD Applications (an app of apps): --keep is not supported for \
             an app of apps yet; rehearse it without --keep, or keep one child with \
             `syncsim sync --keep FILE --app NAME`",
            req.source
        )));
    }
    let rt = interrupts.until_cancelled(connect).await??;
    let extras = apps::parent_cluster(&rendered);
    let opened = open(
        req,
        &settings,
        &rendered,
        &rt,
        interrupts,
        Joining::Own {
            config: req.config.as_deref(),
            extras: &extras,
        },
        on_event,
    )
    .await?;
    let Open { env, eopts } = opened;
    let (mut report, children) = if children.is_empty() {
        (
            run(&env, &rendered, &eopts, interrupts, on_event).await,
            Vec::new(),
        )
    } else {
        apps::run_parent(
            req, children, &env, &rendered, &eopts, &rt, interrupts, on_event,
        )
        .await
    };
    finish(&env, &mut report);

    // Keep or tear down before the verdict, so nothing is left on an early exit.
    if req.keep {
        let path = env
            .keep(
                &recorded_source(&req.source),
                &settings.dest_namespace,
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
        let t = teardown(&env, &report, interrupts).await;
        on_event(Event::TornDown(&t));
    }
    Ok(Synced {
        report,
        application: settings.application,
        children,
    })
}

/// Where an environment lives.
pub(super) enum Joining<'a> {
    /// Its own network (`syncsim-<app>`), adopting a kept environment; `config` overrides the
    /// `syncsim.yaml` search; `extras` are what the cluster has besides that description.
    Own {
        config: Option<&'a Path>,
        extras: &'a ClusterDescription,
    },
    /// A child of an app of apps: a fresh environment on its parent's network.
    Network(&'a str),
}

/// An open environment and the options of its operation.
pub(super) struct Open {
    pub env: Environment,
    pub eopts: EngineOptions,
}

/// Builds the images, checks them, opens the environment and sets the API server's rules:
/// everything before the operation.
#[allow(clippy::too_many_arguments)]
pub(super) async fn open(
    req: &SyncRequest,
    settings: &Settings,
    rendered: &Rendered,
    rt: &Arc<dyn ContainerRuntime>,
    interrupts: &Interrupts,
    joining: Joining<'_>,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> Result<Open, Error> {
    let config = match &joining {
        Joining::Own { config, .. } => *config,
        Joining::Network(_) => None,
    };
    // Build before the dry run, so images built here are not reported missing.
    if req.build {
        let built = interrupts
            .until_cancelled(build_images(
                &settings.config_anchor,
                config,
                false,
                false,
                &**rt,
                &mut |ev| on_event(Event::Build(ev)),
            ))
            .await??;
        if let Some(b) = &built {
            on_event(Event::Built(b));
        }
    }
    interrupts.check()?;

    let mut cluster = cluster_description(&settings.config_anchor, config)?;
    if let Joining::Own { extras, .. } = &joining {
        cluster
            .custom_kinds
            .extend(extras.custom_kinds.iter().cloned());
        cluster.namespaces.extend(extras.namespaces.iter().cloned());
    }
    // Syncsim's preflight, not Argo CD's: an image nobody can pull hangs a real sync.
    let missing = missing_images(&**rt, &rendered.objects, &req.images).await;
    if !missing.is_empty() {
        if !req.allow_missing_images {
            return Err(Error::MissingImages(missing));
        }
        on_event(Event::MissingImages(&missing));
    }

    let copts = ClusterOptions {
        app: settings.app.clone(),
        images: req.images.clone(),
        job_backoff_base: req.job_backoff,
        timing: req.timing,
        poll_interval: req.timing.controller_poll(),
        storage_classes: cluster.storage_classes.iter().map(Into::into).collect(),
        allowed_unsafe_sysctls: cluster.allowed_unsafe_sysctls.clone(),
        service_accounts: cluster.service_accounts.clone(),
        seccomp_default: cluster.seccomp_default,
        ..ClusterOptions::default()
    };
    let run_id = copts.run_id.clone();
    // Not abandoned on a signal: what it creates is torn down by the caller (the operation
    // sees the cancelled token at once and ends Interrupted).
    let mut env = match joining {
        Joining::Own { .. } => Environment::open(rt.clone(), copts, &rendered.objects).await?,
        Joining::Network(network) => {
            Environment::join(rt.clone(), copts, network, &rendered.objects)
        }
    };
    env.prune_last = settings.sync_options.prune_last;
    on_event(Event::Opened(&Opened {
        app: settings.app.clone(),
        run_id,
        network: env.cluster.network().to_string(),
        adopted: env.adopted.then_some(env.adopted_objects),
    }));
    let opts = settings.sync_options;
    env.cluster.set_api_rules(ApiRules::new(
        &cluster,
        &rendered.objects,
        &settings.dest_namespace,
        opts.create_namespace,
        UpdateOptions {
            force: req.force,
            replace: opts.replace,
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
        app: settings.app.clone(),
        wave_delay: req.wave_delay,
        timeout: req.timeout,
        prune: req.prune,
        poll_interval: req.timing.engine_poll(),
        discovery: Some(Arc::new(Discovery::new(&cluster, &rendered.objects))),
        dest_namespace: settings.dest_namespace.clone(),
        extra_tasks: namespace_task(
            opts.create_namespace,
            &settings.dest_namespace,
            settings.managed_namespace_metadata.as_ref(),
            &rendered.plan,
            |ns| cluster.has_namespace(ns) || live_namespaces.iter().any(|l| l == ns),
        )
        .into_iter()
        .collect(),
        hook_log_bytes: req.hook_log_bytes,
        health: req.argocd.health,
    };
    Ok(Open { env, eopts })
}

/// Runs the operation on `env`, showing pods that cannot start as they happen.
pub(super) async fn run(
    env: &Environment,
    rendered: &Rendered,
    eopts: &EngineOptions,
    interrupts: &Interrupts,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> SyncReport {
    run_through(env, &env.cluster, rendered, eopts, interrupts, on_event).await
}

/// [`run`] with the engine talking to `cluster` (a wrapper of `env`'s).
pub(super) async fn run_through(
    env: &Environment,
    cluster: &dyn crate::engine::Cluster,
    rendered: &Rendered,
    eopts: &EngineOptions,
    interrupts: &Interrupts,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> SyncReport {
    // Pods that cannot start are shown as they happen (the engine only sees health).
    let on_event = std::sync::Mutex::new(on_event);
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
    let run = env.sync_through(
        cluster,
        &rendered.plan,
        &rendered.objects,
        eopts,
        &interrupts.cancel,
        &mut on_run,
    );
    tokio::select! {
        r = run => r,
        () = waiting => unreachable!("the waiting-pod ticker never ends"),
    }
}

/// What a report gets from the cluster once the operation ended: the pods a timed-out
/// operation was still waiting for, and the predicted duration on a cluster.
pub(super) fn finish(env: &Environment, report: &mut SyncReport) {
    if let Outcome::TimedOut { waiting } = &mut report.outcome {
        for w in env.cluster.waiting_pods() {
            waiting.push_str(&format!("; {w}"));
        }
    }
    report.predicted_cluster_duration = Some(env.cluster.predicted_cluster_duration(report));
    report.shortened = env.cluster.shortened(report);
    report.readiness_lag = env.cluster.readiness_lag();
}

/// Tears `env` down. After an interruption, containers get a grace period to stop (a second
/// signal cuts it short); after a normal end there is nothing to preserve: their volumes go too.
pub(super) async fn teardown(
    env: &Environment,
    report: &SyncReport,
    interrupts: &Interrupts,
) -> TeardownReport {
    let grace = if report.outcome == Outcome::Interrupted {
        Duration::from_secs(3)
    } else {
        Duration::ZERO
    };
    env.teardown_unless_forced(grace, &interrupts.force).await
}

/// Marks the Namespace created by `CreateNamespace=true`: Argo CD does not track it, so it is
/// never pruned.
pub const CREATED_NAMESPACE: &str = "syncsim.dev/created-namespace";

/// The Namespace task Argo CD adds with `CreateNamespace=true` (§2.1.4): a synthetic
/// `Namespace/<dest>` in phase PreSync, when the plan has no Namespace of that name and the
/// namespace does not exist yet (`exists`), or exists and `managedNamespaceMetadata` asks for
/// labels and annotations on it (they go on the Namespace). Like any Namespace it is moved
/// before the first task in it (§2.4): a PreSync hook of an earlier wave in the namespace takes
/// it to that wave.
pub fn namespace_task(
    create_namespace: bool,
    dest_namespace: &str,
    metadata: Option<&ManagedNamespaceMetadata>,
    plan: &crate::plan::Plan,
    exists: impl Fn(&str) -> bool,
) -> Option<crate::plan::Task> {
    let in_source = plan
        .tasks()
        .any(|t| t.group().is_empty() && t.kind() == "Namespace" && t.name() == dest_namespace);
    if !create_namespace
        || dest_namespace.is_empty()
        || in_source
        || (exists(dest_namespace) && metadata.is_none())
    {
        return None;
    }
    let mut annotations = serde_json::Map::new();
    let mut labels = serde_json::Map::new();
    if let Some(m) = metadata {
        for (k, v) in &m.annotations {
            annotations.insert(k.clone(), v.clone().into());
        }
        for (k, v) in &m.labels {
            labels.insert(k.clone(), v.clone().into());
        }
    }
    annotations.insert(CREATED_NAMESPACE.into(), "true".into());
    let mut meta = serde_json::json!({"name": dest_namespace, "annotations": annotations});
    if !labels.is_empty() {
        meta["labels"] = labels.into();
    }
    let yaml =
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": meta}).to_string();
    let objects = crate::manifest::from_yaml_str(&yaml, "(CreateNamespace=true)").ok()?;
    let ns_plan = crate::plan::build(&objects, &crate::plan::PlanOptions::default()).ok()?;
    let mut task = ns_plan.tasks().next()?.clone();
    task.phase = crate::plan::Phase::PreSync;
    task.wave = plan
        .tasks()
        .filter(|t| t.phase == crate::plan::Phase::PreSync && t.namespace() == dest_namespace)
        .map(|t| t.wave)
        .fold(task.wave, i64::min);
    Some(task)
}

#[cfg(test)]
mod tests {
    use super::namespace_task;
    use crate::plan::{Phase, Plan, PlanOptions};

    fn plan(yaml: &str) -> Plan {
        let objects = crate::manifest::from_yaml_str(yaml, "t.yaml").unwrap();
        let opts = PlanOptions {
            dest_namespace: "shortlink".into(),
            ..PlanOptions::default()
        };
        crate::plan::build(&objects, &opts).unwrap()
    }

    #[test]
    fn create_namespace_adds_a_presync_namespace_task_only_when_needed() {
        let empty = plan("");
        let t = namespace_task(true, "shortlink", None, &empty, |_| false).unwrap();
        assert_eq!(
            (t.phase, t.wave, t.kind(), t.name()),
            (Phase::PreSync, 0, "Namespace", "shortlink")
        );
        assert!(namespace_task(false, "shortlink", None, &empty, |_| false).is_none());
        assert!(namespace_task(true, "shortlink", None, &empty, |ns| ns == "shortlink").is_none());
        let ns = plan("apiVersion: v1\nkind: Namespace\nmetadata: {name: shortlink}\n");
        assert!(namespace_task(true, "shortlink", None, &ns, |_| false).is_none());
    }

    #[test]
    fn the_namespace_comes_before_an_earlier_presync_hook_in_it() {
        let hooks = plan(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: init\n  annotations:\n    \
             argocd.argoproj.io/hook: PreSync\n    argocd.argoproj.io/sync-wave: \"-5\"\n\
             ---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: elsewhere\n  \
             namespace: other\n  annotations:\n    argocd.argoproj.io/hook: PreSync\n    \
             argocd.argoproj.io/sync-wave: \"-9\"\n",
        );
        let t = namespace_task(true, "shortlink", None, &hooks, |_| false).unwrap();
        assert_eq!((t.phase, t.wave), (Phase::PreSync, -5));
    }

    #[test]
    fn managed_namespace_metadata_goes_on_the_namespace_even_when_it_exists() {
        let m = crate::manifest::source::ManagedNamespaceMetadata {
            labels: [("team".to_string(), "links".to_string())].into(),
            annotations: [("owner".to_string(), "sre".to_string())].into(),
        };
        let t = namespace_task(true, "shortlink", Some(&m), &plan(""), |_| true).unwrap();
        let meta = &t.object.value["metadata"];
        assert_eq!(meta["labels"]["team"], "links");
        assert_eq!(meta["annotations"]["owner"], "sre");
        assert_eq!(meta["annotations"][super::CREATED_NAMESPACE], "true");
        assert!(namespace_task(false, "shortlink", Some(&m), &plan(""), |_| true).is_none());
    }
}
