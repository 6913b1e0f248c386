//! `syncsim watch SOURCE`: Argo CD's automated sync policy on the local engine. Syncs, then
//! polls the source; when it changes (debounced) and the app is OutOfSync, syncs again (with
//! `--prune` = `automated.prune`); with `--self-heal`, a workload whose container is removed is
//! re-applied by a selective sync without hooks (§6.3, §6.4). Ctrl-C stops watching and tears
//! the environment down, unless `--keep`. The policy is [`crate::rehearsal::autosync`].
use super::{
    args::{parse_image_map, parse_job_backoff, parse_timeout, parse_wave_delay},
    print, CliError,
};
use crate::{
    engine::{Outcome, RetryPolicy},
    error,
    rehearsal::{
        self,
        autosync::{PolicyEvent, PolicyOptions},
        Interrupts, WatchEvent, WatchRequest,
    },
    report,
};
use clap::Args;
use std::{io::IsTerminal, time::Duration};

#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Kustomize directory, plain directory of manifests, a file, or a file holding Argo CD
    /// Application(s) (its settings are the defaults: automated.prune/selfHeal, retry, …).
    pub source: String,
    /// Application name; for a file of Applications, the one to watch [default: the
    /// Application's name, else the source folder's name].
    #[arg(long)]
    pub app: Option<String>,
    /// Local checkout of an Application's repository: `DIR` for its first repoURL, or
    /// `URL=DIR` (repeatable) [default: the checkout holding the Application file].
    #[arg(long = "repo", value_name = "DIR|URL=DIR")]
    pub repos: Vec<String>,
    /// Namespace for objects without one (Argo CD's destination namespace) [default: the
    /// Application's destination.namespace, else `default`].
    #[arg(long, value_name = "NS")]
    pub dest_namespace: Option<String>,
    /// Delete objects removed from the source (`automated.prune: true`) [default: the
    /// Application's automated.prune].
    #[arg(long)]
    pub prune: bool,
    /// Re-apply workloads whose containers were removed, without hooks (`automated.selfHeal`)
    /// [default: the Application's automated.selfHeal].
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
    #[arg(long, value_parser = parse_timeout, default_value = "10m")]
    pub timeout: Duration,
    /// How often to look at the source and the containers.
    #[arg(long, value_parser = parse_timeout, default_value = "500ms")]
    pub interval: Duration,
    /// A change is synced once the source has been quiet this long.
    #[arg(long, value_parser = parse_timeout, default_value = "500ms")]
    pub debounce: Duration,
    /// Base of the Job retry backoff (Kubernetes uses 10s).
    #[arg(long, value_parser = parse_job_backoff, default_value = "1s")]
    pub job_backoff: Duration,
    /// Retries of a failed automated sync (0 = none, negative = unlimited). Each retry restarts
    /// the operation from scratch [default: the Application's retry.limit, else 5, Argo CD's
    /// default for automated syncs].
    #[arg(long, allow_negative_numbers = true)]
    pub retry_limit: Option<i64>,
    /// Retry backoff base: the n-th retry waits base × factor^n, capped [default: the
    /// Application's retry.backoff (duration, factor, maxDuration), else 5s, ×2, at most 3m].
    #[arg(long, value_parser = parse_timeout)]
    pub retry_backoff: Option<Duration>,
}

/// Prints the policy's events: notices and progress on stderr, reports on stdout.
struct Printer {
    progress: Option<report::Progress>,
}

impl Printer {
    fn finish(&mut self) {
        if let Some(p) = self.progress.take() {
            p.finish();
        }
    }

    fn event(&mut self, args: &WatchArgs, ev: WatchEvent<'_>) {
        match ev {
            WatchEvent::Warning(w) => eprintln!("warning: {w}"),
            WatchEvent::Note(n) => eprintln!("note: {n}"),
            WatchEvent::Watching(p) => eprintln!(
                "syncsim: watching {} for app `{}` (automated sync{}{}, {}; Ctrl-C stops{})",
                args.source,
                p.app,
                if p.prune { ", prune" } else { "" },
                if p.self_heal { ", self-heal" } else { "" },
                retry_text(&p.retry),
                if args.keep {
                    " and keeps the environment"
                } else {
                    " and tears down"
                },
            ),
            WatchEvent::Opened(o) => tracing::info!("{}", print::opened_line(o)),
            WatchEvent::Policy(ev) => self.policy(ev),
            WatchEvent::Kept { path } => {
                self.finish();
                eprintln!(
                    "kept: the environment stays up (recorded in {})",
                    path.display()
                );
            }
            WatchEvent::TornDown(t) => {
                self.finish();
                for e in &t.errors {
                    eprintln!("warning: cleanup: {e}");
                }
                eprintln!(
                    "torn down: {} containers, {} networks, {} volumes removed",
                    t.containers, t.networks, t.volumes
                );
            }
        }
    }

    fn policy(&mut self, ev: PolicyEvent<'_>) {
        match ev {
            PolicyEvent::Syncing(why) => eprintln!("{why}"),
            PolicyEvent::Run(ev) => self
                .progress
                .get_or_insert_with(|| report::Progress::new(std::io::stderr().is_terminal()))
                .report(&ev),
            PolicyEvent::Synced(r) => {
                self.finish();
                print!("{}", report::render(r));
            }
            PolicyEvent::AlreadySynced => {
                eprintln!("the kept environment is Synced with the source: nothing to do")
            }
            PolicyEvent::ChangedButSynced => eprintln!(
                "source changed, but the app is Synced: Argo CD's automated sync does not \
                 run (hooks never make an app OutOfSync; `syncsim sync` re-runs them)"
            ),
            PolicyEvent::Warning(w) => eprintln!("warning: {w}"),
            PolicyEvent::RenderFailed(e) => eprintln!(
                "{}\n(the source does not render; still watching)",
                error::render_chain(e)
            ),
            PolicyEvent::RetryScheduled {
                message,
                attempt,
                wait,
            } => eprintln!(
                "{message}. Retrying attempt #{attempt} in {}.",
                humantime::format_duration(wait)
            ),
            PolicyEvent::RetriesExhausted { message, retried } => {
                if retried > 0 {
                    eprintln!("{message} (retried {retried} times).");
                }
            }
            PolicyEvent::Healed { drifted, report: r } => {
                self.finish();
                let names: Vec<String> = drifted.iter().map(|k| k.to_string()).collect();
                eprintln!(
                    "self-heal: {} drifted; selective sync without hooks",
                    names.join(", ")
                );
                print!("{}", report::render(r));
            }
        }
    }
}

/// Runs the subcommand; returns the process exit code: 1 when the last sync failed, else 130
/// (a watch ends only when interrupted).
pub async fn run(args: WatchArgs) -> Result<i32, CliError> {
    let req = WatchRequest {
        source: args.source.clone(),
        app: args.app.clone(),
        repos: args.repos.clone(),
        dest_namespace: args.dest_namespace.clone(),
        images: args.images.clone(),
        wave_delay: args.wave_delay,
        timeout: args.timeout,
        job_backoff: args.job_backoff,
        prune: args.prune,
        keep: args.keep,
        retry_limit: args.retry_limit,
        retry_backoff: args.retry_backoff,
        policy: PolicyOptions {
            self_heal: args.self_heal,
            interval: args.interval,
            debounce: args.debounce,
            ..PolicyOptions::default()
        },
    };
    let interrupts = Interrupts::install("`syncsim down` removes them");
    let mut printer = Printer { progress: None };
    let last = rehearsal::watch(&req, rehearsal::connect(), &interrupts, &mut |ev| {
        printer.event(&args, ev)
    })
    .await?;
    Ok(match last.map(|r| r.outcome) {
        Some(Outcome::Failed) => error::SYNC_FAILED,
        _ => error::INTERRUPTED,
    })
}

/// `retry: limit 5, 5s × 2^n up to 3m`.
fn retry_text(p: &RetryPolicy) -> String {
    let limit = match p.limit {
        0 => return "no retries".into(),
        l if l < 0 => "unlimited".to_string(),
        l => l.to_string(),
    };
    let cap = if p.max_duration.is_zero() {
        String::new()
    } else {
        format!(" up to {}", humantime::format_duration(p.max_duration))
    };
    format!(
        "retry: limit {limit}, {} × {}^n{cap}",
        humantime::format_duration(p.duration),
        p.factor
    )
}
