//! `syncsim build SOURCE`: build the images listed in `syncsim.yaml` that are missing or stale
//! (the step `syncsim sync` runs first).
use super::{print, CliError};
use crate::{error, rehearsal};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// The source whose `syncsim.yaml` to use (found next to it, then in its parents up to the
    /// git root; for an Argo CD Application file, next to its first source's directory).
    pub source: String,
    /// For a file of Applications, the one to use.
    #[arg(long, value_name = "NAME")]
    pub app: Option<String>,
    /// Local checkout of an Application's repository: `DIR` for its first repoURL, or
    /// `URL=DIR` (repeatable) [default: the checkout holding the Application file].
    #[arg(long = "repo", value_name = "DIR|URL=DIR")]
    pub repos: Vec<String>,
    /// Use this build config instead of looking for `syncsim.yaml`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Rebuild every image, even those up to date.
    #[arg(long)]
    pub force: bool,
}

/// Runs the subcommand; returns the process exit code.
pub async fn run(args: BuildArgs) -> Result<i32, CliError> {
    // An Application's images are those of its source: render it to find where that is.
    let mut anchor = args.source.clone();
    if args.config.is_none() && std::path::Path::new(&args.source).is_file() {
        let src = rehearsal::application::SourceOptions {
            app: args.app.clone(),
            repos: args.repos.clone(),
            ..Default::default()
        };
        let loaded = rehearsal::application::load(&args.source, &src)?;
        if let Some(dir) = loaded
            .application
            .and_then(|a| a.source_dirs.first().cloned())
        {
            anchor = dir.display().to_string();
        }
    }
    let rt = rehearsal::connect().await?;
    let built = rehearsal::build_images(
        &anchor,
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
