//! `watch`'s story: render → open or adopt → the automated-sync policy until interrupted →
//! keep or tear down.
use super::{
    app::{app_name, recorded_source},
    autosync::{self, PolicyEvent, PolicyOptions, Source},
    env::Environment,
    signal::Interrupts,
    source::{plan_options, render, Rendered},
    sync::{lock_app, Opened},
    Error,
};
use crate::{
    cluster::{ClusterOptions, TeardownReport},
    engine::{EngineOptions, SyncReport},
    runtime::ContainerRuntime,
    state,
};
use std::{
    future::Future,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

/// A watch, as `syncsim watch` asks for it.
#[derive(Debug, Clone)]
pub struct WatchRequest {
    /// A file or directory (not stdin).
    pub source: String,
    pub app: Option<String>,
    pub dest_namespace: String,
    pub images: Vec<(String, String)>,
    pub wave_delay: Duration,
    pub timeout: Duration,
    pub job_backoff: Duration,
    /// `automated.prune`.
    pub prune: bool,
    /// Keep the environment when interrupted.
    pub keep: bool,
    pub policy: PolicyOptions,
}

/// What happens during a watch, in order.
#[derive(Debug)]
pub enum WatchEvent<'a> {
    /// A plan warning of the first render.
    Warning(&'a crate::plan::Warning),
    /// The environment is open; the policy starts.
    Opened(&'a Opened),
    Policy(PolicyEvent<'a>),
    Kept {
        path: &'a Path,
    },
    TornDown(&'a TeardownReport),
}

/// A source on disk, fingerprinted by content.
#[derive(Debug, Clone)]
pub struct PathSource {
    pub path: PathBuf,
    pub dest_namespace: String,
}

impl Source for PathSource {
    fn fingerprint(&self) -> String {
        state::fingerprint(&self.path)
    }

    fn render(&self) -> Result<Rendered, Error> {
        render(
            &self.path.to_string_lossy(),
            &plan_options(&self.dest_namespace, "HEAD"),
        )
    }
}

/// Runs a watch until interrupted; returns the last sync's report, if any ran. The app's lock
/// and `interrupts` work as in [`super::sync()`].
///
/// # Errors
///
/// [`Error::BadInput`] for stdin; otherwise as [`super::sync()`] up to the environment.
pub async fn watch(
    req: &WatchRequest,
    connect: impl Future<Output = Result<Arc<dyn ContainerRuntime>, Error>>,
    interrupts: &Interrupts,
    on_event: &mut dyn FnMut(WatchEvent<'_>),
) -> Result<Option<SyncReport>, Error> {
    if req.source == "-" {
        return Err(Error::BadInput(
            "`watch` needs a file or directory to watch, not stdin".into(),
        ));
    }
    let app = app_name(req.app.as_deref(), &req.source)?;
    let _lock = lock_app(&app)?;
    let source = PathSource {
        path: PathBuf::from(&req.source),
        dest_namespace: req.dest_namespace.clone(),
    };
    let initial = source.render()?;
    interrupts.check()?;
    for w in &initial.plan.warnings {
        on_event(WatchEvent::Warning(w));
    }
    let described = super::cluster_description(&req.source, None)?;
    let rt = interrupts.until_cancelled(connect).await??;
    let copts = ClusterOptions {
        app: app.clone(),
        images: req.images.clone(),
        job_backoff_base: req.job_backoff,
        storage_classes: described.storage_classes.iter().map(Into::into).collect(),
        ..ClusterOptions::default()
    };
    let run_id = copts.run_id.clone();
    let mut env = Environment::open(rt, copts, &initial.objects).await?;
    // Every automated sync is checked by the API server, as on a cluster.
    env.api = Some(described);
    on_event(WatchEvent::Opened(&Opened {
        app: app.clone(),
        run_id,
        network: env.cluster.network().to_string(),
        adopted: env.adopted.then_some(env.adopted_objects),
    }));
    let eopts = EngineOptions {
        app: app.clone(),
        wave_delay: req.wave_delay,
        timeout: req.timeout,
        prune: req.prune,
        dest_namespace: req.dest_namespace.clone(),
        ..EngineOptions::default()
    };
    let last = autosync::run(
        &env,
        &source,
        initial,
        &req.policy,
        &eopts,
        &interrupts.cancel,
        &mut |ev| on_event(WatchEvent::Policy(ev)),
    )
    .await;
    if req.keep {
        let path = env
            .keep(
                &recorded_source(&req.source),
                &req.dest_namespace,
                &req.images,
                last.as_ref(),
            )
            .await?;
        on_event(WatchEvent::Kept { path: &path });
    } else {
        let t = env
            .teardown_unless_forced(Duration::from_secs(3), &interrupts.force)
            .await;
        on_event(WatchEvent::TornDown(&t));
    }
    Ok(last)
}
