//! `syncsim sync SOURCE`: rehearse an Argo CD sync on the local Docker engine.
use crate::{
    cluster::ClusterOptions,
    engine::{EngineOptions, Outcome},
    error, manifest,
    plan::{self, PlanOptions},
    report,
    runtime::{docker::DockerRuntime, ContainerRuntime},
    state::Environment,
};
use anyhow::Context;
use clap::Args;
use std::{io::IsTerminal, sync::Arc, time::Duration};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Args)]
pub struct SyncArgs {
    /// Kustomize directory, plain directory of manifests, a file, or `-` for stdin.
    pub source: String,
    /// Application name: Docker network `syncsim-<app>`, label `dev.syncsim.app`
    /// [default: the source folder's name].
    #[arg(long)]
    pub app: Option<String>,
    /// Namespace for objects without one (Argo CD's destination namespace).
    #[arg(long, default_value = "default")]
    pub dest_namespace: String,
    /// Sync revision, used to name generateName hooks.
    #[arg(long, default_value = "HEAD")]
    pub revision: String,
    /// Run image TO wherever a manifest says FROM (repeatable).
    #[arg(long = "image", value_name = "FROM=TO", value_parser = parse_image_map)]
    pub images: Vec<(String, String)>,
    /// Sleep after each non-final wave, like ARGOCD_SYNC_WAVE_DELAY (Argo CD's default is 2s).
    #[arg(long, env = "ARGOCD_SYNC_WAVE_DELAY", value_parser = parse_wave_delay, default_value = "0")]
    pub wave_delay: Duration,
    /// Give up where Argo CD would wait forever (e.g. a resource that never becomes healthy).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10m")]
    pub timeout: Duration,
    /// Base of the Job retry backoff (Kubernetes uses 10s).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "1s")]
    pub job_backoff: Duration,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
}

pub(crate) fn parse_image_map(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((from, to)) if !from.is_empty() && !to.is_empty() => {
            Ok((from.to_string(), to.to_string()))
        }
        _ => Err(format!(
            "`{s}` is not FROM=TO (e.g. --image postgres:16=syncsim-kit/postgres:15)"
        )),
    }
}

/// Argo CD reads `ARGOCD_SYNC_WAVE_DELAY` as integer seconds; we also accept `500ms`, `2s`.
pub(crate) fn parse_wave_delay(s: &str) -> Result<Duration, String> {
    if let Ok(secs) = s.trim().parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(s).map_err(|e| format!("`{s}`: {e} (use seconds, e.g. 2, or 500ms)"))
}

/// The default app name: the source folder's (or file's) name, made DNS-safe.
pub fn default_app_name(source: &str) -> String {
    if source == "-" {
        return "stdin".into();
    }
    let path = std::path::Path::new(source);
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let raw = if abs.is_dir() {
        abs.file_name().map(|s| s.to_string_lossy().to_string())
    } else {
        abs.file_stem().map(|s| s.to_string_lossy().to_string())
    };
    sanitize(&raw.unwrap_or_else(|| "app".into()))
}

/// `--app` as used in labels and names: lowercase, DNS-safe (`My_App` → `my-app`).
pub(crate) fn sanitize(s: &str) -> String {
    let out: String = s
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        "app".into()
    } else {
        out
    }
}

/// The source as recorded for `status`: absolute, so it resolves from any directory.
pub(crate) fn recorded_source(source: &str) -> String {
    if source == "-" {
        return source.to_string();
    }
    std::fs::canonicalize(source)
        .map(|p| p.to_string_lossy().to_string())
        .unwrap_or_else(|_| source.to_string())
}

/// Escalating signal handling: the first Ctrl-C/SIGTERM cancels the run (graceful teardown),
/// the second asks for a forced teardown, the third exits at once.
pub(crate) fn spawn_signal_handler(cancel: CancellationToken, force: CancellationToken) {
    tokio::spawn(async move {
        let mut count = 0;
        loop {
            wait_for_signal().await;
            count += 1;
            match count {
                1 => {
                    eprintln!("\ninterrupted: stopping and cleaning up (Ctrl-C again to force)");
                    cancel.cancel();
                }
                2 => {
                    eprintln!("\nforcing cleanup (Ctrl-C again to exit at once, leaving objects behind; `syncsim down` removes them)");
                    force.cancel();
                }
                _ => std::process::exit(error::INTERRUPTED),
            }
        }
    });
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the subcommand; returns the process exit code.
pub async fn run(args: SyncArgs) -> anyhow::Result<i32> {
    let loaded = match manifest::load(&args.source, &manifest::LoadOptions::default()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{}", error::render_chain(&e));
            return Ok(e.exit_code());
        }
    };
    tracing::info!(
        "rendered {} objects with {:?}",
        loaded.objects.len(),
        loaded.renderer
    );
    let started_at_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let popts = PlanOptions {
        dest_namespace: args.dest_namespace.clone(),
        revision: args.revision.clone(),
        started_at_unix,
    };
    let plan = match plan::build(&loaded.objects, &popts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}", error::render_chain(&e));
            return Ok(error::BAD_INPUT);
        }
    };
    for w in &plan.warnings {
        eprintln!("warning: {w}");
    }
    let app = args
        .app
        .clone()
        .map(|a| sanitize(&a))
        .unwrap_or_else(|| default_app_name(&args.source));

    let rt: Arc<dyn ContainerRuntime> = match DockerRuntime::connect().await {
        Ok(rt) => Arc::new(rt),
        Err(e) => {
            eprintln!("{}", error::render_chain(&e));
            return Ok(error::ENVIRONMENT);
        }
    };
    match rt.ping().await {
        Ok(v) => tracing::info!("container engine: {v}"),
        Err(e) => {
            eprintln!("{}", error::render_chain(&e));
            return Ok(error::ENVIRONMENT);
        }
    }

    // Build before the dry run, so images built here are not reported missing.
    if !args.no_build {
        let config = args.config.as_deref();
        if let Err(code) =
            super::build::build_images(&args.source, config, false, false, &*rt).await
        {
            return Ok(code);
        }
    }

    let copts = ClusterOptions {
        app: app.clone(),
        images: args.images.clone(),
        job_backoff_base: args.job_backoff,
        ..ClusterOptions::default()
    };
    let run_id = copts.run_id.clone();
    let env = Environment::open(rt.clone(), copts, &loaded.objects).await?;
    let cluster = &env.cluster;
    eprintln!(
        "syncsim: app `{app}`, run {run_id}, network {}{}",
        cluster.network(),
        if env.adopted {
            format!(
                " (adopted the kept environment: {} objects)",
                env.adopted_objects
            )
        } else {
            String::new()
        }
    );

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
    let mut progress = report::Progress::new(std::io::stderr().is_terminal());
    let report = env
        .sync(&plan, &loaded.objects, &eopts, &cancel, &mut |ev| {
            progress.report(&ev)
        })
        .await;
    progress.finish();

    // Teardown (or keep), always before printing the verdict so nothing is left on early exit.
    if args.keep {
        let path = env
            .keep(
                &recorded_source(&args.source),
                &args.dest_namespace,
                &args.images,
                Some(&report),
            )
            .await?;
        eprintln!("kept: containers, network `{}` and volumes stay up (recorded in {}); re-sync with `syncsim sync`, inspect with `syncsim status --app {app}`, remove with `syncsim down --app {app}`", cluster.network(), path.display());
    } else {
        // After an interruption, containers get a grace period to stop (a second Ctrl-C cuts
        // it short); after a normal end there is nothing to preserve: their volumes go too.
        let grace = if report.outcome == Outcome::Interrupted {
            Duration::from_secs(3)
        } else {
            Duration::ZERO
        };
        let t = tokio::select! {
            t = env.teardown(grace) => t,
            _ = force.cancelled() => env.teardown(Duration::ZERO).await,
        };
        tracing::info!(
            "teardown: {} containers, {} networks, {} volumes removed",
            t.containers,
            t.networks,
            t.volumes
        );
        for e in &t.errors {
            eprintln!("warning: cleanup: {e}");
        }
    }

    match args.output {
        Output::Text => print!("{}", report::render(&report)),
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report::to_json(&report))?
        ),
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, report::to_junit(&report))
            .with_context(|| format!("failed to write JUnit report {}", path.display()))?;
    }
    if let Outcome::TimedOut { waiting } = &report.outcome {
        eprintln!(
            "error: Argo CD would still be Running: {waiting} (syncsim gave up after --timeout {})",
            humantime::format_duration(args.timeout)
        );
    }
    Ok(report.outcome.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("k8s/overlays/Local_Dev", "local-dev")]
    #[test_case("-", "stdin")]
    #[test_case("app.yaml", "app")]
    fn default_app_name_is_dns_safe(src: &str, want: &str) {
        assert_eq!(default_app_name(src), want);
    }

    #[test_case("2", Duration::from_secs(2))]
    #[test_case("0", Duration::ZERO)]
    #[test_case("500ms", Duration::from_millis(500))]
    fn wave_delay_accepts_argo_seconds_and_durations(s: &str, d: Duration) {
        assert_eq!(parse_wave_delay(s).unwrap(), d);
    }

    #[test]
    fn image_map_needs_both_sides() {
        assert!(parse_image_map("a=b").is_ok());
        assert!(parse_image_map("a=").is_err());
        assert!(parse_image_map("ab").is_err());
    }
}
