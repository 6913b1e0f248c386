//! `syncsim build SOURCE`: build the images listed in `syncsim.yaml` that are missing or stale
//! (the step `syncsim sync` runs first).
use super::{print, CliError};
use crate::{error, rehearsal};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// The source whose `syncsim.yaml` to use (found next to it, then in its parents up to the
    /// git root).
    pub source: String,
    /// Use this build config instead of looking for `syncsim.yaml`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Rebuild every image, even those up to date.
    #[arg(long)]
    pub force: bool,
}

/// Runs the subcommand; returns the process exit code.
pub async fn run(args: BuildArgs) -> Result<i32, CliError> {
    let rt = rehearsal::connect().await?;
    let built = rehearsal::build_images(
        &args.source,
        args.config.as_deref(),
        true,
        args.force,
        &*rt,
        &mut print::build_event,
    )
    .await?;
    if let Some(b) = &built {
        print::built(b);
    }
    Ok(error::SUCCESS)
}
