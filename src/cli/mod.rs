//! Command-line interface: clap types and one file per subcommand: argument parsing and
//! printing only. The story behind each subcommand is in [`crate::rehearsal`].
mod args;
pub mod build;
mod bytes;
mod diff;
mod down;
mod plan;
mod print;
mod replay;
mod report;
mod status;
pub mod sync;
mod test;
mod watch;

pub use build::BuildArgs;
pub use diff::DiffArgs;
pub use down::DownArgs;
pub use plan::PlanArgs;
pub use replay::ReplayArgs;
pub use report::ReportArgs;
pub use status::StatusArgs;
pub use sync::SyncArgs;
pub use test::TestArgs;
pub use watch::WatchArgs;

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
    /// Render a saved JSON report (`sync -o json`) as a self-contained HTML timeline.
    Report(ReportArgs),
    /// Compare two plans or runs step by step (JSON reports, plans, SOURCEs or DIR@REV):
    /// moved, added and removed tasks, policies, outcomes, durations. Exit 1 when they differ.
    Diff(DiffArgs),
    /// Compare a sync Argo CD recorded (an Application's status.operationState, from `kubectl
    /// get application X -o yaml`) with syncsim's plan, step by step; `--rehearse` makes the
    /// recorded failure recur on Docker. Exit 1 when they disagree.
    Replay(ReplayArgs),
}

/// A subcommand failed: the rehearsal layer's error, one exit code per failure class.
pub type CliError = crate::rehearsal::Error;

/// Runs the parsed command and returns the process exit code. Async so that `sync` can drive
/// Docker; `plan` itself does no async work.
pub async fn run(cli: Cli) -> Result<i32, CliError> {
    match cli.command {
        Command::Plan(args) => plan::run(&args, &mut std::io::stdout().lock()),
        Command::Sync(args) => sync::run(args).await,
        Command::Build(args) => build::run(args).await,
        Command::Down(args) => down::run(args).await,
        Command::Test(args) => test::run(args).await,
        Command::Status(args) => status::run(args).await,
        Command::Watch(args) => watch::run(args).await,
        Command::Report(args) => Ok(report::run(&args)),
        Command::Diff(args) => Ok(diff::run(&args)),
        Command::Replay(args) => replay::run(args).await,
    }
}
