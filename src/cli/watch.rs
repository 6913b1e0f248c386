//! `syncsim watch SOURCE`: Argo CD's automated sync policy on the local engine. Syncs, then
//! polls the source; when it changes (debounced) and the app is OutOfSync, syncs again (with
//! `--prune` = `automated.prune`); with `--self-heal`, a workload whose container is removed is
//! re-applied by a selective sync without hooks (§6.3, §6.4). Ctrl-C stops watching and tears
//! the environment down, unless `--keep`.
use super::sync::{
    default_app_name, parse_image_map, parse_wave_delay, recorded_source, sanitize,
    spawn_signal_handler,
};
use crate::{
    cluster::ClusterOptions,
    engine::{EngineOptions, Outcome, RetryPolicy, SyncReport},
    error, manifest,
    manifest::Object,
    plan::{self, Plan, PlanOptions},
    report,
    runtime::{docker::DockerRuntime, ContainerRuntime},
    state::{app_sync_status, compare, fingerprint, EnvRecord, Environment, SyncStatus},
};
use clap::Args;
use std::{io::IsTerminal, path::Path, sync::Arc, time::Duration};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Kustomize directory, plain directory of manifests or a file.
    pub source: String,
    /// Application name [default: the source folder's name].
    #[arg(long)]
    pub app: Option<String>,
    /// Namespace for objects without one (Argo CD's destination namespace).
    #[arg(long, default_value = "default")]
    pub dest_namespace: String,
    /// Delete objects removed from the source (`automated.prune: true`).
    #[arg(long)]
    pub prune: bool,
    /// Re-apply workloads whose containers were removed, without hooks (`automated.selfHeal`).
    #[arg(long)]
    pub self_heal: bool,
    /// On Ctrl-C, keep the environment (and its record) instead of tearing it down.
    #[arg(long)]
    pub keep: bool,
    /// Run image TO wherever a manifest says FROM (repeatable).
    #[arg(long = "image", value_name = "FROM=TO", value_parser = parse_image_map)]
    pub images: Vec<(String, String)>,
    /// Sleep after each non-final wave, like ARGOCD_SYNC_WAVE_DELAY.
    #[arg(long, env = "ARGOCD_SYNC_WAVE_DELAY", value_parser = parse_wave_delay, default_value = "0")]
    pub wave_delay: Duration,
    /// Give up on one sync where Argo CD would wait forever.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10m")]
    pub timeout: Duration,
    /// How often to look at the source and the containers.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "500ms")]
    pub interval: Duration,
    /// A change is synced once the source has been quiet this long.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "500ms")]
    pub debounce: Duration,
    /// Base of the Job retry backoff (Kubernetes uses 10s).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "1s")]
    pub job_backoff: Duration,
    /// Retries of a failed automated sync (Argo CD's default for automated syncs is 5; 0 = none,
    /// negative = unlimited). Each retry restarts the operation from scratch.
    #[arg(long, default_value_t = 5, allow_negative_numbers = true)]
    pub retry_limit: i64,
    /// Retry backoff base: the n-th retry waits base × 2^n, at most 3m (Argo CD: 5s).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    pub retry_backoff: Duration,
}

/// One render of the source.
struct Rendered {
    objects: Vec<Object>,
    plan: Plan,
}

fn render(args: &WatchArgs) -> Result<Rendered, String> {
    let loaded = manifest::load(&args.source, &manifest::LoadOptions::default())
        .map_err(|e| error::render_chain(&e))?;
    let opts = PlanOptions {
        dest_namespace: args.dest_namespace.clone(),
        started_at_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
        ..PlanOptions::default()
    };
    let plan = plan::build(&loaded.objects, &opts).map_err(|e| error::render_chain(&e))?;
    for w in &plan.warnings {
        eprintln!("warning: {w}");
    }
    Ok(Rendered {
        objects: loaded.objects,
        plan,
    })
}

/// Runs the subcommand; returns the process exit code.
pub async fn run(args: WatchArgs) -> anyhow::Result<i32> {
    if args.source == "-" {
        eprintln!("error: `watch` needs a file or directory to watch, not stdin");
        return Ok(error::BAD_INPUT);
    }
    let app = args
        .app
        .clone()
        .map(|a| sanitize(&a))
        .unwrap_or_else(|| default_app_name(&args.source));
    let mut current = match render(&args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return Ok(error::BAD_INPUT);
        }
    };
    let rt: Arc<dyn ContainerRuntime> = match DockerRuntime::connect().await {
        Ok(rt) => Arc::new(rt),
        Err(e) => {
            eprintln!("{}", error::render_chain(&e));
            return Ok(error::ENVIRONMENT);
        }
    };
    let copts = ClusterOptions {
        app: app.clone(),
        images: args.images.clone(),
        job_backoff_base: args.job_backoff,
        ..ClusterOptions::default()
    };
    let env = Environment::open(rt, copts, &current.objects).await?;
    let cancel = CancellationToken::new();
    let force = CancellationToken::new();
    spawn_signal_handler(cancel.clone(), force.clone());
    let eopts = EngineOptions {
        app: app.clone(),
        wave_delay: args.wave_delay,
        timeout: args.timeout,
        prune: args.prune,
        ..EngineOptions::default()
    };
    eprintln!(
        "syncsim: watching {} for app `{app}` (automated sync{}{}; Ctrl-C stops{})",
        args.source,
        if args.prune { ", prune" } else { "" },
        if args.self_heal { ", self-heal" } else { "" },
        if args.keep {
            " and keeps the environment"
        } else {
            " and tears down"
        },
    );

    let out_of_sync = |env: &Environment, plan: &Plan| {
        let record = EnvRecord {
            objects: env.cluster.snapshot(),
            ..empty_record(&app)
        };
        app_sync_status(&compare(plan, &record)) == SyncStatus::OutOfSync
    };
    let retry = RetryPolicy {
        limit: args.retry_limit,
        duration: args.retry_backoff,
        ..RetryPolicy::default()
    };
    // Retries of the last automated sync so far, and when the next one is due.
    let mut retried: u32 = 0;
    let mut retry_at: Option<Instant> = None;
    let mut last: Option<SyncReport> = None;
    if !env.adopted || out_of_sync(&env, &current.plan) {
        let r = sync_once(&env, &current, &eopts, &cancel, "initial sync").await;
        retry_at = schedule_retry(&retry, &r, retried);
        last = Some(r);
    } else {
        eprintln!("the kept environment is Synced with the source: nothing to do");
    }

    let source = Path::new(&args.source).to_path_buf();
    let mut seen = fingerprint(&source);
    let mut changed_at: Option<Instant> = None;
    let mut heal_after = Instant::now();
    let mut heal_backoff = Duration::from_secs(2);
    while !cancel.is_cancelled() {
        tokio::select! {
            _ = tokio::time::sleep(args.interval) => {}
            _ = cancel.cancelled() => break,
        }
        let now_fp = fingerprint(&source);
        if now_fp != seen {
            seen = now_fp;
            changed_at = Some(Instant::now());
            // A new revision resets the retries of the previous one (§6.3).
            retried = 0;
            retry_at = None;
            continue;
        }
        if retry_at.is_some_and(|t| Instant::now() >= t) {
            retried += 1;
            let r = sync_once(
                &env,
                &current,
                &eopts,
                &cancel,
                &format!("retrying the failed automated sync (attempt #{retried})"),
            )
            .await;
            retry_at = schedule_retry(&retry, &r, retried);
            last = Some(r);
            continue;
        }
        if changed_at.is_some_and(|t| t.elapsed() >= args.debounce) {
            changed_at = None;
            match render(&args) {
                Err(e) => eprintln!("{e}\n(the source does not render; still watching)"),
                Ok(next) => {
                    current = next;
                    if out_of_sync(&env, &current.plan) {
                        let r = sync_once(
                            &env,
                            &current,
                            &eopts,
                            &cancel,
                            "source changed: automated sync",
                        )
                        .await;
                        retry_at = schedule_retry(&retry, &r, retried);
                        last = Some(r);
                    } else {
                        eprintln!(
                            "source changed, but the app is Synced: Argo CD's automated sync does not \
                             run (hooks never make an app OutOfSync; `syncsim sync` re-runs them)"
                        );
                    }
                }
            }
            continue;
        }
        if args.self_heal && Instant::now() >= heal_after {
            let mut progress = report::Progress::new(std::io::stderr().is_terminal());
            let drifted = env.cluster.drifted();
            if let Some(r) = env
                .self_heal(&current.plan, &eopts, &cancel, &mut |ev| {
                    progress.report(&ev)
                })
                .await
            {
                progress.finish();
                let names: Vec<String> = drifted.iter().map(|k| k.to_string()).collect();
                eprintln!(
                    "self-heal: {} drifted; selective sync without hooks",
                    names.join(", ")
                );
                print!("{}", report::render(&r));
                // Argo CD's self-heal backoff: 2 s, ×3, capped at 300 s, reset once healthy.
                heal_after = Instant::now() + heal_backoff;
                heal_backoff = (heal_backoff * 3).min(Duration::from_secs(300));
            } else {
                heal_backoff = Duration::from_secs(2);
            }
        }
    }

    if args.keep {
        let path = env
            .keep(
                &recorded_source(&args.source),
                &args.dest_namespace,
                &args.images,
                last.as_ref(),
            )
            .await?;
        eprintln!(
            "kept: the environment stays up (recorded in {})",
            path.display()
        );
    } else {
        let t = tokio::select! {
            t = env.teardown(Duration::from_secs(3)) => t,
            _ = force.cancelled() => env.teardown(Duration::ZERO).await,
        };
        for e in &t.errors {
            eprintln!("warning: cleanup: {e}");
        }
        eprintln!(
            "torn down: {} containers, {} networks, {} volumes removed",
            t.containers, t.networks, t.volumes
        );
    }
    Ok(match last.map(|r| r.outcome) {
        Some(Outcome::Failed) => error::SYNC_FAILED,
        _ => error::INTERRUPTED,
    })
}

/// After an automated sync: when it failed and the policy allows another retry, says so as Argo
/// CD does (`<message>. Retrying attempt #n …`) and returns when to retry; when retries are
/// exhausted, says `(retried n times)`.
fn schedule_retry(policy: &RetryPolicy, r: &SyncReport, retried: u32) -> Option<Instant> {
    if r.outcome != Outcome::Failed {
        return None;
    }
    if policy.should_retry(retried) {
        let wait = policy.delay(retried + 1);
        eprintln!(
            "{}. Retrying attempt #{} in {}.",
            r.message.trim_end_matches('.'),
            retried + 1,
            humantime::format_duration(wait)
        );
        Some(Instant::now() + wait)
    } else {
        if retried > 0 {
            eprintln!(
                "{} (retried {retried} times).",
                r.message.trim_end_matches('.')
            );
        }
        None
    }
}

async fn sync_once(
    env: &Environment,
    r: &Rendered,
    eopts: &EngineOptions,
    cancel: &CancellationToken,
    why: &str,
) -> SyncReport {
    eprintln!("{why}");
    let mut progress = report::Progress::new(std::io::stderr().is_terminal());
    let report = env
        .sync(&r.plan, &r.objects, eopts, cancel, &mut |ev| {
            progress.report(&ev)
        })
        .await;
    progress.finish();
    print!("{}", report::render(&report));
    report
}

fn empty_record(app: &str) -> EnvRecord {
    EnvRecord {
        version: crate::state::RECORD_VERSION,
        app: app.to_string(),
        network: String::new(),
        source: String::new(),
        dest_namespace: String::new(),
        images: Vec::new(),
        saved_at: String::new(),
        last_operation: None,
        objects: Vec::new(),
    }
}
