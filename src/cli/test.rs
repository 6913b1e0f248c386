//! `syncsim test [PATHS…]`: run scenario files, each on its own Docker environment.
use crate::{
    error::{self, ExitCode},
    runtime::{docker::DockerRuntime, ContainerRuntime},
    scenario::{self, Prepared, RunOptions, Verdict},
};
use anyhow::Context;
use clap::Args;
use futures_util::StreamExt;
use std::{path::PathBuf, sync::Arc};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Args)]
pub struct TestArgs {
    /// Scenario files, or directories (every `*.yaml` in them, README excluded).
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// How many scenarios to run at once (each has its own network and volumes).
    #[arg(short = 'j', long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// Write a JUnit XML report (one test case per scenario) to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Runs the subcommand; returns the exit code: 0 all passed, 1 any failed (or could not run),
/// 2 a scenario file is bad (nothing is run then), 3 Docker is unreachable.
pub async fn run(args: TestArgs) -> anyhow::Result<i32> {
    let files = match scenario::discover(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(error::BAD_INPUT);
        }
    };
    // Parse and prepare everything first: a bad file stops the run before any container.
    let mut prepared: Vec<Prepared> = Vec::new();
    let mut bad = Vec::new();
    for f in &files {
        match scenario::read(f).and_then(scenario::prepare) {
            Ok(p) => prepared.push(p),
            Err(e) => bad.push(e),
        }
    }
    if !bad.is_empty() {
        let code = bad
            .iter()
            .map(ExitCode::exit_code)
            .max()
            .unwrap_or(error::BAD_INPUT);
        for e in &bad {
            eprintln!("{}", error::render_chain(e));
        }
        eprintln!(
            "error: {} of {} scenario file(s) cannot be used; nothing was run",
            bad.len(),
            files.len()
        );
        return Ok(code);
    }
    let rt: Arc<dyn ContainerRuntime> = match DockerRuntime::connect().await {
        Ok(rt) => Arc::new(rt),
        Err(e) => {
            eprintln!("{}", error::render_chain(&e));
            return Ok(error::ENVIRONMENT);
        }
    };
    if let Err(e) = rt.ping().await {
        eprintln!("{}", error::render_chain(&e));
        return Ok(error::ENVIRONMENT);
    }
    let opts = RunOptions {
        rt,
        cancel: CancellationToken::new(),
        force: CancellationToken::new(),
    };
    spawn_signal_handler(opts.cancel.clone(), opts.force.clone());

    let started = tokio::time::Instant::now();
    eprintln!(
        "syncsim test: {} scenario(s), {} at a time",
        prepared.len(),
        args.jobs
    );
    let mut results: Vec<(usize, scenario::ScenarioResult)> =
        futures_util::stream::iter(prepared.iter().enumerate())
            .map(|(i, p)| {
                let opts = opts.clone();
                async move {
                    eprintln!("RUN   {} ({})", p.scenario.name, p.scenario.path.display());
                    let r = scenario::run(p, &opts).await;
                    print!("{}", scenario::render_result(&r));
                    (i, r)
                }
            })
            .buffer_unordered(usize::from(args.jobs))
            .collect()
            .await;
    results.sort_by_key(|(i, _)| *i);
    let results: Vec<_> = results.into_iter().map(|(_, r)| r).collect();
    let elapsed = started.elapsed();
    println!("{}", scenario::render_summary(&results, elapsed));
    if let Some(path) = &args.junit {
        std::fs::write(path, scenario::to_junit(&results, elapsed))
            .with_context(|| format!("failed to write JUnit report {}", path.display()))?;
    }
    if opts.cancel.is_cancelled() {
        return Ok(error::INTERRUPTED);
    }
    let all_pass = results.iter().all(|r| r.verdict == Verdict::Pass);
    Ok(if all_pass {
        error::SUCCESS
    } else {
        error::SYNC_FAILED
    })
}

/// First Ctrl-C/SIGTERM: stop the syncs and tear down; second: tear down without grace; third:
/// exit at once (leftovers can be removed with `syncsim down --all`).
fn spawn_signal_handler(cancel: CancellationToken, force: CancellationToken) {
    tokio::spawn(async move {
        for count in 1.. {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{signal, SignalKind};
                match signal(SignalKind::terminate()) {
                    Ok(mut term) => {
                        tokio::select! {
                            _ = tokio::signal::ctrl_c() => {}
                            _ = term.recv() => {}
                        }
                    }
                    Err(_) => {
                        let _ = tokio::signal::ctrl_c().await;
                    }
                }
            }
            #[cfg(not(unix))]
            {
                let _ = tokio::signal::ctrl_c().await;
            }
            match count {
                1 => {
                    eprintln!(
                        "\ninterrupted: stopping scenarios and cleaning up (Ctrl-C again to force)"
                    );
                    cancel.cancel();
                }
                2 => {
                    eprintln!("\nforcing cleanup (Ctrl-C again to exit at once; `syncsim down --all` removes leftovers)");
                    force.cancel();
                }
                _ => std::process::exit(error::INTERRUPTED),
            }
        }
    });
}
