//! `syncsim replay APPLICATION.yaml`: Argo CD's recorded operation against syncsim's plan,
//! or against a rehearsal that makes the recorded failure recur (`--rehearse`).
use super::CliError;
use crate::{
    error::{self, ExitCode},
    rehearsal::{self, Interrupts},
    replay::{self, Syncsim},
    scenario::{self, RunOptions, Verdict},
};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Arguments of `syncsim replay`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// An Argo CD Application with its recorded operation, as `kubectl get application NAME
    /// -n argocd -o yaml` prints it (spec and status.operationState).
    pub application: PathBuf,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    pub output: Format,
    /// Render the source at REV instead of the recorded revision (`HEAD`: the working tree,
    /// uncommitted changes included).
    #[arg(long, value_name = "REV")]
    pub revision: Option<String>,
    /// Local checkout of the Application's repository: `DIR` for its first repoURL, or
    /// `URL=DIR` (repeatable) [default: the checkout holding APPLICATION.yaml].
    #[arg(long = "repo", value_name = "DIR|URL=DIR")]
    pub repos: Vec<String>,
    /// Run the sync on Docker with faults that make the recorded failure recur, then compare
    /// the rehearsal with the record (images from `compose/build-images.sh` for the example).
    #[arg(long)]
    pub rehearse: bool,
    /// Write the replay as a scenario file (`syncsim test FILE` runs it); with --rehearse,
    /// the rehearsal runs exactly this scenario.
    #[arg(long, value_name = "FILE")]
    pub write_scenario: Option<PathBuf>,
}

/// Output format of `syncsim replay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

fn fail(e: &(dyn std::error::Error + 'static), code: i32) -> i32 {
    eprintln!("{}", error::render_chain(e));
    code
}

/// Runs the subcommand: 0 Argo CD's record and syncsim agree, 1 they disagree, 2 bad input,
/// 3 environment (Docker, kustomize), 130 interrupted.
pub async fn run(args: ReplayArgs) -> Result<i32, CliError> {
    let interrupts = Interrupts::install("`syncsim down --all` removes leftovers");
    let req = replay::Request {
        file: args.application.clone(),
        revision: args.revision.clone(),
        repos: args.repos.clone(),
    };
    let loaded = match replay::load(&req) {
        Ok(l) => l,
        Err(e) => return Ok(fail(&e, e.exit_code())),
    };
    let mut report = None;
    // The rehearsal missed an expectation taken from the record (printed above).
    let mut rehearsal_failed = false;
    if args.rehearse || args.write_scenario.is_some() {
        let dir = match replay::scenario::source_dir(&loaded, &args.repos) {
            Ok(d) => d,
            Err(e) => return Ok(fail(&e, e.exit_code())),
        };
        // The scenario lives where it is written; an unwritten one (plain --rehearse) beside
        // the record, so that its relative source resolves the same way.
        let at = args
            .write_scenario
            .clone()
            .unwrap_or_else(|| args.application.with_extension("replay.yaml"));
        let written = replay::scenario::write(&loaded, &dir, &at);
        for w in &written.warnings {
            eprintln!("warning: {w}");
        }
        if let Some(path) = &args.write_scenario {
            std::fs::write(path, &written.yaml).map_err(|source| CliError::Output {
                what: format!("scenario {}", path.display()),
                source,
            })?;
            eprintln!(
                "syncsim replay: wrote {} (run it with `syncsim test {}`)",
                path.display(),
                path.display()
            );
        }
        if args.rehearse {
            let sc = match scenario::parse(&written.yaml, &at)
                .and_then(|sc| scenario::prepare_objects(sc, loaded.objects.clone()))
            {
                Ok(p) => p,
                Err(e) => return Ok(fail(&e, e.exit_code())),
            };
            let rt = interrupts.until_cancelled(rehearsal::connect()).await??;
            let opts = RunOptions {
                rt,
                cancel: interrupts.cancel.clone(),
                force: interrupts.force.clone(),
            };
            eprintln!("syncsim replay: rehearsing {} on Docker", loaded.record.app);
            let result = scenario::run(&sc, &opts).await;
            eprint!("{}", scenario::render_result(&result));
            if let Verdict::Error(e) = &result.verdict {
                eprintln!("error: the rehearsal could not run: {e}");
                return Ok(if interrupts.cancel.is_cancelled() {
                    error::INTERRUPTED
                } else {
                    error::ENVIRONMENT
                });
            }
            rehearsal_failed = matches!(result.verdict, Verdict::Fail(_));
            report = result.report;
        }
    }
    let syncsim = match &report {
        Some(r) => Syncsim::Rehearsal(r),
        None => Syncsim::Plan,
    };
    let c = replay::compare(
        &loaded.record,
        &loaded.plan,
        syncsim,
        &loaded.dest_namespace(),
        loaded.create_namespace(),
    );
    match args.output {
        Format::Text => print!("{}", replay::render::text(&loaded, &c, report.as_deref())),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&replay::render::json(&loaded, &c, report.as_deref()))
                .expect("the replay JSON serializes")
        ),
    }
    Ok(if c.agree() && !rehearsal_failed {
        error::SUCCESS
    } else {
        error::SYNC_FAILED
    })
}
