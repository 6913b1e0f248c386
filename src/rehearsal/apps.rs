//! App of apps: a source that renders Argo CD Applications (docs/argo-cd-semantics.md §5.5,
//! §9). The parent's operation applies each child Application in its sync wave like any
//! resource; applying one starts the child's own sync, from its own source, on the parent's
//! Docker network (one cluster: children reach each other's Services).
//!
//! An Application has no health check since Argo CD 1.8, so by default a child never holds
//! back the parent's next wave and the children sync at the same time. With the documented
//! Application health check in `--argocd-cm` the parent waits, wave by wave, until each child
//! reports Healthy: syncsim reports a child `Progressing` while its operation runs, then the
//! health of its resources (Argo CD's aggregation: the worst, hooks left out, a resource that
//! does not exist is `Missing`).
//!
//! Every child renders and plans before anything runs: a bad child is bad input (exit 2).
use super::{
    application::{Flags, Settings, SourceOptions},
    signal::Interrupts,
    source::{plan_options, Rendered},
    sync::{finish, lock_app, open, run_through, Event, Joining, SyncRequest},
    Error,
};
use crate::{
    apiserver::{ClusterDescription, CustomKind, Scope},
    cluster::DockerCluster,
    engine::{ApplyOutcome, Cluster, ClusterError, EngineOptions, Outcome, SyncReport},
    health::{Health, HealthStatus},
    manifest::{self, source, Object, ObjectKey},
    plan::Task,
    runtime::ContainerRuntime,
    state::AppLock,
};
use async_trait::async_trait;
use futures_util::{stream::FuturesUnordered, StreamExt};
use serde_json::{json, Value};
use std::{
    collections::BTreeMap,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

/// One child Application's part of the rehearsal.
#[derive(Debug, Clone)]
pub struct ChildSync {
    /// The child Application's name (its app name).
    pub name: String,
    /// Its settings.
    pub application: Option<source::Application>,
    /// The parent's sync wave it was applied in.
    pub wave: i64,
    /// Its operation, when it ran.
    pub report: Option<SyncReport>,
    /// Why it did not run (the parent never applied it, an image is missing …).
    pub error: Option<String>,
    /// The exit code of that error (0 when the parent never applied it: the parent's outcome
    /// says why).
    pub error_code: i32,
}

impl ChildSync {
    pub fn exit_code(&self) -> i32 {
        match &self.report {
            Some(r) => r.outcome.exit_code(),
            None => self.error_code,
        }
    }
}

/// A child rendered and planned.
#[derive(Debug, Clone)]
pub(super) struct Child {
    key: ObjectKey,
    wave: i64,
    settings: Settings,
    rendered: Rendered,
}

/// Whether `obj` is an Argo CD Application.
fn is_application(obj: &Object) -> bool {
    source::is_application(obj)
}

/// The Application tasks of a render (not hooks), in the parent's order.
pub fn child_tasks(rendered: &Rendered) -> Vec<&Task> {
    rendered
        .plan
        .tasks()
        .filter(|t| !t.hook && is_application(&t.object))
        .collect()
}

/// What the cluster of a parent has besides its `syncsim.yaml` description: Argo CD runs on it,
/// so the Application kind is served and the namespaces of the Applications exist.
pub(super) fn parent_cluster(rendered: &Rendered) -> ClusterDescription {
    let tasks = child_tasks(rendered);
    let mut d = ClusterDescription {
        custom_kinds: Vec::new(),
        namespaces: Vec::new(),
        ..ClusterDescription::default()
    };
    if tasks.is_empty() {
        return d;
    }
    d.custom_kinds.push(CustomKind {
        group: "argoproj.io".into(),
        kind: "Application".into(),
        versions: vec!["v1alpha1".into()],
        scope: Scope::Namespaced,
        declared_in: "Argo CD (installed on the cluster it syncs to)".into(),
    });
    for t in tasks {
        if !d.namespaces.iter().any(|n| n == t.namespace()) {
            d.namespaces.push(t.namespace().to_string());
        }
    }
    d
}

/// Renders and plans every child Application of `rendered` (in the parent's order).
///
/// # Errors
///
/// A child that does not render or plan (exit 2, naming its file and field), two children of
/// one name, or a child named like its parent.
pub(super) fn prepare_children(
    parent: &Settings,
    rendered: &Rendered,
    src: &SourceOptions,
) -> Result<Vec<Child>, Error> {
    let mut out: Vec<Child> = Vec::new();
    for t in child_tasks(rendered) {
        // Repositories resolve from the checkout holding the child's file; a child read from
        // another revision has no file of its own: its parent's stands in.
        let origin = Path::new(&t.object.origin.file);
        let anchor = if origin.is_file() {
            origin.to_path_buf()
        } else {
            parent
                .application
                .as_ref()
                .map(|a| a.file.clone().into())
                .unwrap_or_else(|| origin.to_path_buf())
        };
        let opts = source::Options {
            app: None,
            repos: &src.repos,
            search_path: None,
            kustomize_build_options: src.kustomize_build_options.as_deref(),
        };
        let one = std::slice::from_ref(&t.object);
        let r = source::load_application_file(&anchor, one, &opts)
            .map_err(|e| manifest::Error::Application(Box::new(e)))?;
        let loaded = manifest::Loaded {
            objects: r.objects,
            renderer: manifest::Renderer::Application {
                name: r.application.name.clone(),
                sources: r.renderers,
            },
            application: Some(Box::new(r.application)),
        };
        let shown = anchor.display().to_string();
        let settings = Settings::resolve(&shown, &loaded, &Flags::default())?;
        if settings.app == parent.app || out.iter().any(|c| c.settings.app == settings.app) {
            return Err(Error::BadInput(format!(
                "{shown}: Application `{}`: metadata.name: two Applications of this app of apps \
                 are named `{}`; syncsim names each child's containers after it, so give every \
                 Application its own name",
                t.name(),
                settings.app
            )));
        }
        let plan = crate::plan::build(
            &loaded.objects,
            &plan_options(&settings.dest_namespace, &settings.revision),
        )?;
        out.push(Child {
            key: t.key(),
            wave: t.wave,
            settings,
            rendered: Rendered {
                objects: loaded.objects,
                plan,
            },
        });
    }
    Ok(out)
}

/// What the parent's operation sees of a child Application.
#[derive(Clone)]
struct ChildState {
    /// Before its operation ends: Progressing, with what it is doing.
    health: Health,
    sync: &'static str,
    /// Once its operation ended: its cluster and its resources, for the live health.
    done: Option<(DockerCluster, Vec<ObjectKey>)>,
}

type States = Arc<Mutex<BTreeMap<ObjectKey, ChildState>>>;

fn lock(states: &States) -> std::sync::MutexGuard<'_, BTreeMap<ObjectKey, ChildState>> {
    states.lock().unwrap_or_else(|e| e.into_inner())
}

/// The parent's cluster: applying a child Application starts its sync; reading one gives it
/// the `status` Argo CD's controller would write (`health`, `sync`).
struct AppsCluster {
    inner: DockerCluster,
    states: States,
    started: tokio::sync::mpsc::UnboundedSender<ObjectKey>,
    health: crate::health::Customizations,
}

#[async_trait]
impl Cluster for AppsCluster {
    async fn dry_run(&self, task: &Task) -> Result<(), ClusterError> {
        self.inner.dry_run(task).await
    }

    async fn apply(&self, task: &Task) -> Result<ApplyOutcome, ClusterError> {
        let out = self.inner.apply(task).await?;
        if !task.hook && is_application(&task.object) {
            let key = task.key();
            let mut states = lock(&self.states);
            if !states.contains_key(&key) {
                states.insert(
                    key.clone(),
                    ChildState {
                        health: Health::new(HealthStatus::Progressing, "starting its sync"),
                        sync: "OutOfSync",
                        done: None,
                    },
                );
                let _ = self.started.send(key);
            }
        }
        Ok(out)
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), ClusterError> {
        self.inner.delete(key).await
    }

    async fn get(&self, key: &ObjectKey) -> Option<Value> {
        let mut live = self.inner.get(key).await?;
        let state = lock(&self.states).get(key).cloned();
        if let Some(state) = state {
            let health = match &state.done {
                Some((cluster, keys)) => app_health(cluster, keys, self.health).await,
                None => state.health,
            };
            live["status"] = json!({
                "health": {"status": health.status.as_str(), "message": health.message},
                "sync": {"status": state.sync},
            });
        }
        Some(live)
    }

    async fn logs(&self, key: &ObjectKey, tail: usize) -> Vec<String> {
        self.inner.logs(key, tail).await
    }

    async fn step_applied(&self, upcoming: &[Vec<&Task>]) {
        self.inner.step_applied(upcoming).await;
    }
}

/// An application's health from its resources (Argo CD's aggregation): the worst status, a
/// resource without a health check not counting, one that does not exist `Missing`.
async fn app_health(
    cluster: &DockerCluster,
    keys: &[ObjectKey],
    custom: crate::health::Customizations,
) -> Health {
    let mut worst = Health::new(HealthStatus::Healthy, "");
    for key in keys {
        let h = match cluster.get(key).await {
            None => Some(Health::new(HealthStatus::Missing, "")),
            Some(live) => match custom.assess(&live) {
                Ok(h) => h,
                Err(e) => Some(Health::from_error(&e)),
            },
        };
        if let Some(h) = h {
            if worst.status.is_worse(h.status) {
                let why = if h.message.is_empty() {
                    h.status.as_str().to_string()
                } else {
                    h.message.clone()
                };
                worst = Health::new(h.status, format!("{}/{}: {why}", key.kind, key.name));
            }
        }
    }
    worst
}

/// What every child's sync shares.
struct Ctx<'a> {
    req: &'a SyncRequest,
    rt: &'a Arc<dyn ContainerRuntime>,
    interrupts: &'a Interrupts,
    network: String,
    states: States,
    emit: &'a (dyn Fn(Event<'_>) + Sync),
}

/// A child's sync, and what must stay up until the end (its environment, its lock).
type ChildRun = (ChildSync, Option<super::env::Environment>, Option<AppLock>);

/// Runs the parent's operation through [`AppsCluster`], each child's sync as the parent
/// applies it, then waits for the children. Tears the children down (the caller tears the
/// parent down).
#[allow(clippy::too_many_arguments)]
pub(super) async fn run_parent(
    req: &SyncRequest,
    children: Vec<Child>,
    env: &super::env::Environment,
    rendered: &Rendered,
    eopts: &EngineOptions,
    rt: &Arc<dyn ContainerRuntime>,
    interrupts: &Interrupts,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> (SyncReport, Vec<ChildSync>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let states: States = Arc::default();
    let wrapper = AppsCluster {
        inner: env.cluster.clone(),
        states: states.clone(),
        started: tx,
        health: req.argocd.health,
    };
    let on_event = Mutex::new(on_event);
    let emit = |ev: Event<'_>| (on_event.lock().unwrap_or_else(|e| e.into_inner()))(ev);
    let ctx = Ctx {
        req,
        rt,
        interrupts,
        network: env.cluster.network().to_string(),
        states,
        emit: &emit,
    };
    let by_key: BTreeMap<ObjectKey, &Child> = children.iter().map(|c| (c.key.clone(), c)).collect();
    let mut running = FuturesUnordered::new();
    let mut runs: Vec<ChildRun> = Vec::new();
    let report = {
        let mut on_parent = |ev: Event<'_>| emit(ev);
        let parent = run_through(env, &wrapper, rendered, eopts, interrupts, &mut on_parent);
        tokio::pin!(parent);
        loop {
            tokio::select! {
                r = &mut parent => break r,
                Some(key) = rx.recv() => {
                    if let Some(c) = by_key.get(&key) {
                        running.push(run_child(&ctx, c));
                    }
                }
                Some(done) = running.next(), if !running.is_empty() => runs.push(done),
            }
        }
    };
    // The parent's operation is over; the children it applied finish their own.
    while let Ok(key) = rx.try_recv() {
        if let Some(c) = by_key.get(&key) {
            running.push(run_child(&ctx, c));
        }
    }
    while let Some(done) = running.next().await {
        runs.push(done);
    }
    let grace = if interrupts.cancel.is_cancelled() {
        Duration::from_secs(3)
    } else {
        Duration::ZERO
    };
    let mut out = Vec::new();
    for c in &children {
        let pos = runs.iter().position(|(s, _, _)| s.name == c.settings.app);
        let sync = match pos.map(|i| runs.remove(i)) {
            Some((sync, env, lock)) => {
                if let Some(env) = env {
                    let t = env.teardown_unless_forced(grace, &interrupts.force).await;
                    emit(Event::TornDown(&t));
                }
                drop(lock);
                sync
            }
            None => ChildSync {
                name: c.settings.app.clone(),
                application: c.settings.application.clone(),
                wave: c.wave,
                report: None,
                error: Some(format!(
                    "not synced: the parent's operation did not apply Application `{}`",
                    c.key.name
                )),
                error_code: crate::error::SUCCESS,
            },
        };
        out.push(sync);
    }
    (report, out)
}

fn set_state(ctx: &Ctx<'_>, key: &ObjectKey, f: impl FnOnce(&mut ChildState)) {
    if let Some(s) = lock(&ctx.states).get_mut(key) {
        f(s);
    }
}

async fn run_child(ctx: &Ctx<'_>, child: &Child) -> ChildRun {
    let s = &child.settings;
    let app = s.app.as_str();
    let failed = |error: &Error| ChildSync {
        name: app.to_string(),
        application: s.application.clone(),
        wave: child.wave,
        report: None,
        error: Some(crate::error::render_chain(error)),
        error_code: error.exit_code(),
    };
    let fail_state = |ctx: &Ctx<'_>, error: &Error| {
        set_state(ctx, &child.key, |st| {
            st.health = Health::new(HealthStatus::Unknown, crate::error::render_chain(error));
        });
    };
    (ctx.emit)(Event::ChildStarted {
        app,
        automated: s
            .application
            .as_ref()
            .is_some_and(|a| a.automated.is_some()),
    });
    let lock = match lock_app(app) {
        Ok(l) => l,
        Err(e) => {
            fail_state(ctx, &e);
            let sync = failed(&e);
            (ctx.emit)(Event::ChildSynced(&sync));
            return (sync, None, None);
        }
    };
    for n in &s.notes {
        (ctx.emit)(Event::Note(n));
    }
    for w in &child.rendered.plan.warnings {
        (ctx.emit)(Event::Warning(w));
    }
    let opened = open(
        ctx.req,
        s,
        &child.rendered,
        ctx.rt,
        ctx.interrupts,
        Joining::Network(&ctx.network),
        &mut |ev| (ctx.emit)(ev),
    )
    .await;
    let open = match opened {
        Ok(o) => o,
        Err(e) => {
            fail_state(ctx, &e);
            let sync = failed(&e);
            (ctx.emit)(Event::ChildSynced(&sync));
            return (sync, None, Some(lock));
        }
    };
    set_state(ctx, &child.key, |st| {
        st.health = Health::new(HealthStatus::Progressing, "its sync operation is running");
    });
    let mut report = run_through(
        &open.env,
        &open.env.cluster,
        &child.rendered,
        &open.eopts,
        ctx.interrupts,
        &mut |ev| match ev {
            Event::Run(event) => (ctx.emit)(Event::ChildRun { app, event }),
            other => (ctx.emit)(other),
        },
    )
    .await;
    finish(&open.env, &mut report);
    let resources: Vec<ObjectKey> = child
        .rendered
        .plan
        .tasks()
        .filter(|t| !t.hook)
        .map(Task::key)
        .collect();
    set_state(ctx, &child.key, |st| {
        st.sync = if report.outcome == Outcome::Succeeded {
            "Synced"
        } else {
            "OutOfSync"
        };
        st.done = Some((open.env.cluster.clone(), resources));
    });
    let sync = ChildSync {
        name: app.to_string(),
        application: s.application.clone(),
        wave: child.wave,
        report: Some(report),
        error: None,
        error_code: crate::error::SUCCESS,
    };
    (ctx.emit)(Event::ChildSynced(&sync));
    (sync, Some(open.env), Some(lock))
}
