//! `watch`'s story: render → open or adopt → the automated-sync policy until interrupted →
//! keep or tear down.
use super::{
    app::recorded_source,
    application::{Flags, Settings, SourceOptions},
    autosync::{self, PolicyEvent, PolicyOptions, Source},
    env::Environment,
    signal::Interrupts,
    source::Rendered,
    sync::{lock_app, namespace_task, prepare, Opened},
    Error,
};
use crate::{
    cluster::{ClusterOptions, TeardownReport},
    engine::{EngineOptions, RetryPolicy, SyncReport},
    manifest::source::Application,
    runtime::ContainerRuntime,
    state,
};
use std::{
    future::Future,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

/// A watch, as `syncsim watch` asks for it.
#[derive(Debug, Clone)]
pub struct WatchRequest {
    /// A file or directory (not stdin); an Application file too.
    pub source: String,
    /// `--app`: the app name, and for an Application file the Application to watch.
    pub app: Option<String>,
    /// `--repo DIR` / `--repo URL=DIR`.
    pub repos: Vec<String>,
    /// `--dest-namespace`; `None`: the Application's, else `default`.
    pub dest_namespace: Option<String>,
    pub images: Vec<(String, String)>,
    pub wave_delay: Duration,
    pub timeout: Duration,
    pub job_backoff: Duration,
    /// `--prune`, on top of the Application's `automated.prune`.
    pub prune: bool,
    /// Keep the environment when interrupted.
    pub keep: bool,
    /// `--retry-limit`, instead of the Application's `retry.limit` (else 5).
    pub retry_limit: Option<i64>,
    /// `--retry-backoff`, instead of the Application's `retry.backoff.duration` (else 5s).
    pub retry_backoff: Option<Duration>,
    /// `self_heal` is `--self-heal`, on top of the Application's `automated.selfHeal`; `retry`
    /// is replaced by the resolved policy.
    pub policy: PolicyOptions,
}

/// The automated-sync policy a watch follows: flags on top of the Application's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub app: String,
    pub prune: bool,
    pub self_heal: bool,
    pub retry: RetryPolicy,
}

/// What happens during a watch, in order.
#[derive(Debug)]
pub enum WatchEvent<'a> {
    /// A plan warning of the first render.
    Warning(&'a crate::plan::Warning),
    /// Something about the Application's settings worth knowing.
    Note(&'a str),
    /// The policy the watch follows.
    Watching(&'a Policy),
    /// The environment is open; the policy starts.
    Opened(&'a Opened),
    Policy(PolicyEvent<'a>),
    Kept {
        path: &'a Path,
    },
    TornDown(&'a TeardownReport),
}

/// A source on disk (an Application file with the directories of its sources), fingerprinted
/// by content.
#[derive(Debug)]
pub struct PathSource {
    pub path: PathBuf,
    src: SourceOptions,
    flags: Flags,
    /// The directories an Application's sources rendered from, as of the last render.
    dirs: Mutex<Vec<PathBuf>>,
}

impl PathSource {
    fn with(path: PathBuf, src: SourceOptions, flags: Flags) -> Self {
        Self {
            path,
            src,
            flags,
            dirs: Mutex::default(),
        }
    }

    fn prepare(&self) -> Result<(Settings, Rendered), Error> {
        let r = prepare(&self.path.to_string_lossy(), &self.src, &self.flags)?;
        if let Some(a) = &r.0.application {
            *self.dirs.lock().unwrap_or_else(|e| e.into_inner()) = a.source_dirs.clone();
        }
        Ok(r)
    }
}

impl Source for PathSource {
    fn fingerprint(&self) -> String {
        let mut fp = state::fingerprint(&self.path);
        for d in self.dirs.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            fp.push_str(&state::fingerprint(d));
        }
        fp
    }

    fn render(&self) -> Result<Rendered, Error> {
        self.prepare().map(|(_, r)| r)
    }
}

/// A duration of an Application's retry policy: a bare integer is seconds, else a Go duration
/// (`5s`, `3m`, `1m30s`).
fn go_duration(app: &Application, field: &str, s: &str) -> Result<Duration, Error> {
    let t = s.trim();
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(t).map_err(|e| {
        Error::BadInput(format!(
            "{}: Application `{}`: spec.syncPolicy.retry.backoff.{field}: `{s}` is not a \
             duration ({e}); write seconds or a Go duration such as 5s, 2m or 1m30s",
            app.file, app.name
        ))
    })
}

/// The retry policy of an automated sync: the flags, else the Application's `retry`, else
/// Argo CD's default for automated syncs (`{limit: 5}`, 5s, ×2, at most 3m; §6.5).
pub fn retry_policy(
    app: Option<&Application>,
    limit: Option<i64>,
    backoff: Option<Duration>,
) -> Result<RetryPolicy, Error> {
    let mut p = RetryPolicy::default();
    if let Some((a, r)) = app.and_then(|a| a.retry.as_ref().map(|r| (a, r))) {
        p.limit = r.limit;
        if let Some(b) = &r.backoff {
            if let Some(d) = &b.duration {
                p.duration = go_duration(a, "duration", d)?;
            }
            if let Some(f) = b.factor {
                p.factor = u32::try_from(f).ok().filter(|f| *f >= 1).ok_or_else(|| {
                    Error::BadInput(format!(
                        "{}: Application `{}`: spec.syncPolicy.retry.backoff.factor: `{f}` must \
                         be a whole number of at least 1 (Argo CD's default is 2)",
                        a.file, a.name
                    ))
                })?;
            }
            if let Some(m) = &b.max_duration {
                p.max_duration = go_duration(a, "maxDuration", m)?;
            }
        }
    }
    if let Some(l) = limit {
        p.limit = l;
    }
    if let Some(d) = backoff {
        p.duration = d;
    }
    Ok(p)
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
    if let Some(a) = &req.app {
        super::app::validate_app(a)?;
    }
    let source = PathSource::with(
        PathBuf::from(&req.source),
        SourceOptions {
            app: req.app.clone(),
            repos: req.repos.clone(),
            ..SourceOptions::default()
        },
        Flags {
            app: req.app.clone(),
            dest_namespace: req.dest_namespace.clone(),
            ..Flags::default()
        },
    );
    let (settings, initial) = source.prepare()?;
    if !super::apps::child_tasks(&initial).is_empty() {
        return Err(Error::BadInput(format!(
            "`{}` renders Argo CD Applications (an app of apps): `watch` follows one \
             Application; watch a child instead (`syncsim watch FILE --app NAME`)",
            req.source
        )));
    }
    let app = settings.app.clone();
    let _lock = lock_app(&app)?;
    let automated = settings
        .application
        .as_ref()
        .and_then(|a| a.automated.clone())
        .unwrap_or_default();
    let policy = Policy {
        app: app.clone(),
        prune: req.prune || automated.prune,
        self_heal: req.policy.self_heal || automated.self_heal,
        retry: retry_policy(
            settings.application.as_ref(),
            req.retry_limit,
            req.retry_backoff,
        )?,
    };
    let policy_opts = PolicyOptions {
        self_heal: policy.self_heal,
        retry: policy.retry,
        ignore_differences: settings
            .application
            .as_ref()
            .map(|a| a.ignore_differences.clone())
            .unwrap_or_default(),
        ..req.policy.clone()
    };
    interrupts.check()?;
    for n in &settings.notes {
        on_event(WatchEvent::Note(n));
    }
    for w in &initial.plan.warnings {
        on_event(WatchEvent::Warning(w));
    }
    on_event(WatchEvent::Watching(&policy));
    // The cluster of the source's syncsim.yaml; namespaces that exist are its own and a kept
    // environment's.
    let cluster = super::images::cluster_description(&settings.config_anchor, None)?;
    let rt = interrupts.until_cancelled(connect).await??;
    let copts = ClusterOptions {
        app: app.clone(),
        images: req.images.clone(),
        job_backoff_base: req.job_backoff,
        storage_classes: cluster.storage_classes.iter().map(Into::into).collect(),
        allowed_unsafe_sysctls: cluster.allowed_unsafe_sysctls.clone(),
        service_accounts: cluster.service_accounts.clone(),
        seccomp_default: cluster.seccomp_default,
        ..ClusterOptions::default()
    };
    let run_id = copts.run_id.clone();
    let mut env = Environment::open(rt, copts, &initial.objects).await?;
    // Every automated sync is checked by the API server, as on a cluster.
    env.api = Some(cluster.clone());
    env.prune_last = settings.sync_options.prune_last;
    on_event(WatchEvent::Opened(&Opened {
        app: app.clone(),
        run_id,
        network: env.cluster.network().to_string(),
        adopted: env.adopted.then_some(env.adopted_objects),
    }));
    let live: Vec<String> = env
        .cluster
        .keys()
        .into_iter()
        .filter(|k| k.group.is_empty() && k.kind == "Namespace")
        .map(|k| k.name)
        .collect();
    let eopts = EngineOptions {
        app: app.clone(),
        wave_delay: req.wave_delay,
        timeout: req.timeout,
        prune: policy.prune,
        dest_namespace: settings.dest_namespace.clone(),
        extra_tasks: namespace_task(
            settings.sync_options.create_namespace,
            &settings.dest_namespace,
            settings.managed_namespace_metadata.as_ref(),
            &initial.plan,
            |ns| cluster.has_namespace(ns) || live.iter().any(|l| l == ns),
        )
        .into_iter()
        .collect(),
        ..EngineOptions::default()
    };
    let last = autosync::run(
        &env,
        &source,
        initial,
        &policy_opts,
        &eopts,
        &interrupts.cancel,
        &mut |ev| on_event(WatchEvent::Policy(ev)),
    )
    .await;
    if req.keep {
        let path = env
            .keep(
                &recorded_source(&req.source),
                &settings.dest_namespace,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::source::{Backoff, Retry};

    fn app(retry: Option<Retry>) -> Application {
        Application {
            name: "shortlink".into(),
            file: "argocd/app.yaml".into(),
            retry,
            ..Application::default()
        }
    }

    fn backoff(duration: &str, factor: i64, max: &str) -> Option<Backoff> {
        Some(Backoff {
            duration: Some(duration.into()),
            factor: Some(factor),
            max_duration: Some(max.into()),
        })
    }

    #[test]
    fn the_applications_retry_is_the_default_and_flags_override_it() {
        assert_eq!(
            retry_policy(None, None, None).unwrap(),
            RetryPolicy::default()
        );
        let a = app(Some(Retry {
            limit: 2,
            backoff: backoff("1m30s", 3, "10m"),
        }));
        let p = retry_policy(Some(&a), None, None).unwrap();
        assert_eq!(
            p,
            RetryPolicy {
                limit: 2,
                duration: Duration::from_secs(90),
                factor: 3,
                max_duration: Duration::from_secs(600),
            }
        );
        let bare = app(Some(Retry {
            limit: -1,
            backoff: backoff("7", 2, "0"),
        }));
        let p = retry_policy(Some(&bare), Some(0), Some(Duration::from_secs(1))).unwrap();
        assert_eq!((p.limit, p.duration), (0, Duration::from_secs(1)));
        assert_eq!(p.max_duration, Duration::ZERO);
        // Without `retry` the automated default applies, whatever the Application's name.
        assert_eq!(
            retry_policy(Some(&app(None)), None, None).unwrap(),
            RetryPolicy::default()
        );
    }

    #[test]
    fn a_bad_retry_field_is_bad_input_naming_the_file_and_field() {
        let a = app(Some(Retry {
            limit: 5,
            backoff: backoff("soon", 2, "3m"),
        }));
        let e = retry_policy(Some(&a), None, None).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::BAD_INPUT);
        let msg = e.to_string();
        assert!(
            msg.contains("argocd/app.yaml")
                && msg.contains("spec.syncPolicy.retry.backoff.duration")
                && msg.contains("`soon`"),
            "{msg}"
        );
        let a = app(Some(Retry {
            limit: 5,
            backoff: backoff("5s", 0, "3m"),
        }));
        let msg = retry_policy(Some(&a), None, None).unwrap_err().to_string();
        assert!(msg.contains("backoff.factor"), "{msg}");
    }
}
