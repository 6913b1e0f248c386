//! `syncsim sync SOURCE`: rehearse an Argo CD sync on the local Docker engine.
use super::{
    args::{
        parse_image_map, parse_job_backoff, parse_sync_option, parse_timeout, parse_wave_delay,
    },
    print, CliError,
};
use crate::{
    cluster::probe::Timing,
    engine::Outcome,
    rehearsal::{self, ArgoCdConfig, Event, Interrupts, SyncRequest},
    report,
};
use clap::Args;
use std::{io::IsTerminal, time::Duration};

#[derive(Debug, Clone, Args)]
pub struct SyncArgs {
    /// Kustomize directory, plain directory of manifests, a file, `-` for stdin, or a file
    /// holding Argo CD Application(s).
    pub source: String,
    /// Application name: Docker network `syncsim-<app>`, label `dev.syncsim.app`; for a file of
    /// Applications, the one to sync [default: the Application's name, else the source
    /// folder's name].
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
    /// Sync revision, used to name generateName hooks [default: the Application's resolved
    /// revision, else `HEAD`].
    #[arg(long, value_name = "REV")]
    pub revision: Option<String>,
    /// Argo CD's argocd-cm ConfigMap: its Application health check
    /// (`resource.customizations.health.argoproj.io_Application`) makes an app of apps wait for
    /// each child to be Healthy before the next wave; `kustomize.buildOptions` applies to
    /// Applications' kustomize sources.
    #[arg(long = "argocd-cm", value_name = "FILE")]
    pub argocd_cm: Option<std::path::PathBuf>,
    /// Run image TO wherever a manifest says FROM (repeatable).
    #[arg(long = "image", value_name = "FROM=TO", value_parser = parse_image_map)]
    pub images: Vec<(String, String)>,
    /// How to spend waiting time: `fast` probes readiness from the container's start, adaptively
    /// (failure budgets keep their cluster length); `cluster` follows the kubelet's schedule
    /// (initialDelaySeconds, then every periodSeconds), Job backoff from 10s and Argo CD's 2s
    /// wave delay. Both report the predicted duration on a cluster.
    #[arg(long, value_parser = parse_timing, default_value = "fast")]
    pub timing: Timing,
    /// Sleep after each non-final wave, like ARGOCD_SYNC_WAVE_DELAY (Argo CD's default is 2s)
    /// [default: 0 with `--timing fast`, 2s with `--timing cluster`].
    #[arg(long, env = "ARGOCD_SYNC_WAVE_DELAY", value_parser = parse_wave_delay)]
    pub wave_delay: Option<Duration>,
    /// Give up where Argo CD would wait forever (e.g. a resource that never becomes healthy);
    /// at most 30d.
    #[arg(long, value_parser = parse_timeout, default_value = "10m")]
    pub timeout: Duration,
    /// Base of the Job retry backoff (Kubernetes uses 10s); at most 1h
    /// [default: 1s with `--timing fast`, 10s with `--timing cluster`].
    #[arg(long, value_parser = parse_job_backoff)]
    pub job_backoff: Option<Duration>,
    /// Leave the environment running and record it: a later `sync` of the same app adopts it
    /// (unchanged objects untouched, hooks re-run), `status` compares it, `down` removes it.
    #[arg(long)]
    pub keep: bool,
    /// Delete objects of a kept environment that the source no longer has (`argocd app sync
    /// --prune`); without it they are reported `PruneSkipped`.
    #[arg(long)]
    pub prune: bool,
    /// Output format of the final report on stdout.
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: Output,
    /// Write a JUnit XML report (one test case per task) to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,
    /// Do not build the images of `syncsim.yaml` first.
    #[arg(long)]
    pub no_build: bool,
    /// Build config to use instead of the `syncsim.yaml` found next to SOURCE or above it.
    #[arg(long, value_name = "FILE", conflicts_with = "no_build")]
    pub config: Option<std::path::PathBuf>,
    /// An application sync option (repeatable), on top of an Application's
    /// `syncPolicy.syncOptions`: `CreateNamespace=true` creates the destination namespace first,
    /// as Argo CD does; `Replace=true` replaces instead of applying; `PruneLast=true` prunes
    /// after every other wave.
    #[arg(long = "sync-option", value_name = "NAME=true|false", value_parser = parse_sync_option)]
    pub sync_options: Vec<(String, bool)>,
    /// Like `argocd app sync --force`: an update the API server refuses (an immutable field)
    /// deletes and re-creates the object.
    #[arg(long)]
    pub force: bool,
    /// Rehearse with images that can be neither found nor pulled: their pods stay Pending
    /// (ImagePullBackOff) and the run ends at --timeout, as the sync would hang on a cluster.
    #[arg(long)]
    pub allow_missing_images: bool,
    /// Keep the last SIZE of every hook's log (succeeded or failed) in the reports, captured
    /// before a delete policy removes the hook; `0` keeps none. B, KiB or MiB.
    #[arg(long, value_name = "SIZE", default_value = "64KiB", value_parser = super::bytes::parse_hook_log_bytes)]
    pub hook_log_bytes: usize,
    /// Write the run's HTML timeline (as `syncsim report --html`) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
}

fn parse_timing(s: &str) -> Result<Timing, String> {
    s.parse()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
}

/// Prints the rehearsal's events: progress and notices on stderr.
struct Printer {
    progress: report::Progress,
}

impl Printer {
    fn new() -> Self {
        Self {
            progress: report::Progress::new(std::io::stderr().is_terminal()),
        }
    }

    fn event(&mut self, ev: Event<'_>) {
        match ev {
            Event::Warning(w) => eprintln!("warning: {w}"),
            Event::Note(n) => eprintln!("note: {n}"),
            Event::ChildStarted { app, automated } => self.progress.println(format!(
                "child Application `{app}` applied: its sync starts{}",
                if automated {
                    " (automated)"
                } else {
                    " (not automated: on a cluster it stays OutOfSync until someone syncs it; syncsim rehearses that sync)"
                }
            )),
            Event::ChildRun { app, event } => {
                if let Some(line) = print::child_run_line(app, &event) {
                    self.progress.println(line);
                }
            }
            Event::ChildSynced(c) => self.progress.println(print::child_synced_line(c)),
            Event::Build(ev) => print::build_event(ev),
            Event::Built(b) => print::built(b),
            Event::Opened(o) => eprintln!("{}", print::opened_line(o)),
            Event::MissingImages(missing) => {
                for m in missing {
                    eprintln!("warning: image {m}: its pods will stay Pending (ImagePullBackOff), as on a cluster (--allow-missing-images)");
                }
            }
            Event::PodWaiting(w) => self.progress.println(format!("  waiting: {w}")),
            Event::Run(ev) => self.progress.report(&ev),
            Event::Kept { app, network, path } => {
                self.progress.finish();
                eprintln!("kept: containers, network `{network}` and volumes stay up (recorded in {}); re-sync with `syncsim sync`, inspect with `syncsim status --app {app}`, remove with `syncsim down --app {app}`", path.display());
            }
            Event::TornDown(t) => {
                self.progress.finish();
                print::teardown(t);
            }
        }
    }
}

/// Runs the subcommand; returns the process exit code.
pub async fn run(args: SyncArgs) -> Result<i32, CliError> {
    // First thing: from here on a signal never kills the process before it cleans up.
    let interrupts = Interrupts::install("`syncsim down` removes them");
    let argocd = match &args.argocd_cm {
        Some(p) => ArgoCdConfig::load(p)?,
        None => ArgoCdConfig::default(),
    };
    let req = SyncRequest {
        source: args.source.clone(),
        app: args.app.clone(),
        repos: args.repos.clone(),
        dest_namespace: args.dest_namespace.clone(),
        revision: args.revision.clone(),
        images: args.images.clone(),
        timing: args.timing,
        wave_delay: args.wave_delay.unwrap_or(args.timing.wave_delay()),
        timeout: args.timeout,
        job_backoff: args.job_backoff.unwrap_or(args.timing.job_backoff()),
        keep: args.keep,
        prune: args.prune,
        build: !args.no_build,
        config: args.config.clone(),
        sync_options: args.sync_options.clone(),
        force: args.force,
        allow_missing_images: args.allow_missing_images,
        hook_log_bytes: args.hook_log_bytes,
        argocd,
    };
    let mut printer = Printer::new();
    let synced = rehearsal::sync(&req, rehearsal::connect(), &interrupts, &mut |ev| {
        printer.event(ev)
    })
    .await?;
    let children = print::child_reports(&synced);
    let report = &synced.report;
    let app = synced.application.as_ref();
    match args.output {
        Output::Text => print!("{}", report::render_all(report, app, &children)),
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report::to_json_all(
                report,
                app,
                &children,
                synced.exit_code()
            ))
            .expect("the JSON report serializes")
        ),
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, report::to_junit_all(report, &children)).map_err(|source| {
            CliError::Output {
                what: format!("JUnit report {}", path.display()),
                source,
            }
        })?;
    }
    if let Some(path) = &args.html {
        report::html::write(path, &report::to_json(report)).map_err(|source| CliError::Output {
            what: format!("HTML report {}", path.display()),
            source,
        })?;
    }
    if let Outcome::TimedOut { waiting } = &report.outcome {
        eprintln!(
            "error: Argo CD would still be Running: {} (syncsim gave up after --timeout {})",
            timed_out_reason(waiting),
            humantime::format_duration(args.timeout)
        );
    }
    // A signal during the teardown of a finished operation still means "interrupted".
    if interrupts.cancel.is_cancelled() {
        return Ok(crate::error::INTERRUPTED);
    }
    Ok(synced.exit_code())
}

/// What the operation was waiting for, never empty: a timeout shorter than the first step
/// ends before the operation has a message.
fn timed_out_reason(waiting: &str) -> String {
    if waiting.trim().is_empty() {
        "the operation had not finished its first step (the dry run and the first wave's apply need more than --timeout)".to_string()
    } else {
        waiting.to_string()
    }
}
