//! Command-line interface: clap types and one file per subcommand. No logic beyond turning flags
//! into options.
pub mod build;
mod down;
mod plan;
mod status;
pub mod sync;
mod test;
mod watch;

pub use build::BuildArgs;
pub use down::DownArgs;
pub use plan::PlanArgs;
pub use status::StatusArgs;
pub use sync::SyncArgs;
pub use test::TestArgs;
pub use watch::WatchArgs;

use crate::{error::ExitCode, manifest};
use clap::{ArgAction, Parser, Subcommand};

/// Rehearse an Argo CD sync (phases, waves, hooks) on a local Docker engine, without a cluster.
#[derive(Debug, Parser)]
#[command(name = "syncsim", version, about)]
pub struct Cli {
    /// More output on stderr (-v: info, -vv: debug, -vvv: trace). `SYNCSIM_LOG` overrides.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the sync plan Argo CD would follow: steps of (phase, wave) with their tasks.
    Plan(PlanArgs),
    /// Rehearse the sync on the local Docker engine: Sync-phase workloads as containers, hooks
    /// in phase/wave order, Argo CD's gating and fail-fast; report like `argocd app sync`.
    Sync(SyncArgs),
    /// Build the images listed in `syncsim.yaml` that are missing or stale (what `sync` does
    /// first).
    Build(BuildArgs),
    /// Run scenario files: a sync per scenario on its own environment, with patches, faults
    /// and expectations; PASS/FAIL per scenario (see scenarios/README.md).
    Test(TestArgs),
    /// Remove what syncsim left on the Docker engine (kept or crashed runs), by label.
    Down(DownArgs),
    /// Show a kept environment like `argocd app get`: sync status against the source, live
    /// health, last operation.
    Status(StatusArgs),
    /// Argo CD's automated sync policy: sync, then re-sync when the source changes
    /// (`--prune`), re-apply removed workloads without hooks (`--self-heal`); Ctrl-C stops.
    Watch(WatchArgs),
}

/// A subcommand failed. Renders as `error: …` plus `caused by: …` lines
/// ([`crate::error::render_chain`]).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Loading the source failed.
    #[error(transparent)]
    Manifest(#[from] manifest::Error),
    /// Building the plan failed.
    #[error(transparent)]
    Plan(#[from] crate::plan::Error),
    /// A sync or down run failed outside the rehearsed operation (Docker, files).
    #[error(transparent)]
    Run(#[from] anyhow::Error),
    /// Writing the output failed (e.g. a closed pipe).
    #[error("failed to write the output")]
    Output(#[source] std::io::Error),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Manifest(e) => e.exit_code(),
            CliError::Plan(e) => e.exit_code(),
            CliError::Output(_) | CliError::Run(_) => crate::error::ENVIRONMENT,
        }
    }
}

impl ExitCode for CliError {
    fn exit_code(&self) -> i32 {
        CliError::exit_code(self)
    }
}

/// Runs the parsed command and returns the process exit code. Async so that `sync` can drive
/// Docker; `plan` itself does no async work.
pub async fn run(cli: Cli) -> Result<i32, CliError> {
    match cli.command {
        Command::Plan(args) => plan::run(&args, &mut std::io::stdout().lock()),
        Command::Sync(args) => Ok(sync::run(args).await?),
        Command::Build(args) => Ok(build::run(args).await),
        Command::Down(args) => Ok(down::run(args).await?),
        Command::Test(args) => Ok(test::run(args).await?),
        Command::Status(args) => Ok(status::run(args).await?),
        Command::Watch(args) => Ok(watch::run(args).await?),
    }
}
