//! `syncsim test [PATHS…]`: run scenario files, each on its own Docker environment.
use super::CliError;
use crate::{
    error::{self, ExitCode},
    rehearsal::{self, Interrupts},
    scenario::{self, Partition, Prepared, RunOptions, Verdict},
};
use clap::Args;
use futures_util::StreamExt;
use std::path::PathBuf;

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
    /// Run only this machine's share of the scenario files: `count:K/N` (or `K/N`, round
    /// robin) or `hash:K/N` (by path), like nextest. Shards are disjoint and together
    /// complete when every machine lists the same paths.
    #[arg(long, value_name = "[count:|hash:]K/N")]
    pub partition: Option<Partition>,
    /// Print the scenario files that would run (after `--partition`), one a line, and exit.
    #[arg(long)]
    pub list: bool,
    /// Write each scenario's HTML timeline (as `syncsim report --html`) into DIR, as
    /// `<scenario file stem>.html` (created if missing; plan-only scenarios have none).
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,
}

/// Runs the subcommand; returns the exit code: 0 all passed, 1 any failed (or could not run),
/// 2 a scenario file is bad (nothing is run then), 3 Docker is unreachable.
pub async fn run(args: TestArgs) -> Result<i32, CliError> {
    // First thing: from here on a signal never kills the process before it cleans up.
    let interrupts = Interrupts::install("`syncsim down --all` removes leftovers");
    let files = match scenario::discover(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(error::BAD_INPUT);
        }
    };
    let files = match &args.partition {
        Some(p) => {
            let mine = p.select(&files);
            eprintln!(
                "syncsim test: partition {p}: {} of {} scenario file(s)",
                mine.len(),
                files.len()
            );
            mine
        }
        None => files,
    };
    if args.list {
        for f in &files {
            println!("{}", f.display());
        }
        return Ok(error::SUCCESS);
    }
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
    let rt = interrupts.until_cancelled(rehearsal::connect()).await??;
    let opts = RunOptions {
        rt,
        cancel: interrupts.cancel,
        force: interrupts.force,
    };

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
        std::fs::write(path, scenario::to_junit(&results, elapsed)).map_err(|source| {
            CliError::Output {
                what: format!("JUnit report {}", path.display()),
                source,
            }
        })?;
    }
    if let Some(dir) = &args.html {
        write_html(dir, &results)?;
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

/// One HTML timeline per scenario that ran a sync: `DIR/<file stem>.html`, `-2`, `-3`… when two
/// files share a stem.
fn write_html(dir: &std::path::Path, results: &[scenario::ScenarioResult]) -> Result<(), CliError> {
    let failed = |what: String, source| CliError::Output { what, source };
    std::fs::create_dir_all(dir)
        .map_err(|e| failed(format!("HTML report directory {}", dir.display()), e))?;
    let mut used: Vec<String> = Vec::new();
    for r in results {
        let Some(report) = &r.report else { continue };
        let stem = std::path::Path::new(&r.path)
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "scenario".into());
        let mut name = stem.clone();
        let mut n = 1;
        while used.contains(&name) {
            n += 1;
            name = format!("{stem}-{n}");
        }
        used.push(name.clone());
        let path = dir.join(format!("{name}.html"));
        crate::report::html::write(&path, &crate::report::to_json(report))
            .map_err(|e| failed(format!("HTML report {}", path.display()), e))?;
        eprintln!("syncsim test: {} → {}", r.name, path.display());
    }
    Ok(())
}
