//! `syncsim build SOURCE`, and the build step `syncsim sync` runs first: build the images listed
//! in `syncsim.yaml` that are missing or stale.
use crate::{
    build::{self, BuildEvent, BuildOptions},
    error::{self, ExitCode},
    runtime::{docker::DockerRuntime, ContainerRuntime},
};
use clap::Args;
use std::path::{Path, PathBuf};

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
pub async fn run(args: BuildArgs) -> i32 {
    let rt = match DockerRuntime::connect().await {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{}", error::render_chain(&e));
            return error::ENVIRONMENT;
        }
    };
    match build_images(&args.source, args.config.as_deref(), true, args.force, &rt).await {
        Ok(()) => error::SUCCESS,
        Err(code) => code,
    }
}

/// Builds what the config for `source` lists and is missing or stale, printing progress to
/// stderr. Without `--config` and without a config file found, does nothing unless `required`.
/// Returns the exit code to end with on failure (the error is already printed).
pub async fn build_images(
    source: &str,
    config: Option<&Path>,
    required: bool,
    force: bool,
    rt: &dyn ContainerRuntime,
) -> Result<(), i32> {
    let fail = |e: build::Error| {
        eprintln!("{}", error::render_chain(&e));
        e.exit_code()
    };
    let path = match config
        .map(Path::to_path_buf)
        .or_else(|| build::find_config(source))
    {
        Some(p) => p,
        None if required => {
            return Err(fail(build::Error::NoConfig {
                source_path: source.to_string(),
            }))
        }
        None => {
            tracing::info!(
                "no {} for `{source}`: nothing to build",
                build::CONFIG_FILE_NAME
            );
            return Ok(());
        }
    };
    let path = relative_to_cwd(&path);
    let config = build::config::load(&path).map_err(fail)?;
    let started = std::time::Instant::now();
    let mut on_event = |ev: BuildEvent<'_>| match ev {
        BuildEvent::Skipped { image, reason } => tracing::info!("{image}: {reason}"),
        BuildEvent::AlreadyBuilt { image } => {
            tracing::info!("{image}: built by an earlier build command")
        }
        BuildEvent::Started {
            image,
            reason,
            what,
        } => eprintln!("building {image} ({reason}) from {what} …"),
        BuildEvent::Output { line, .. } => {
            // The builder's step headers show where a build is; everything else with -v.
            if line.starts_with("Step ") {
                eprintln!("  {line}");
            } else {
                tracing::info!("  {line}");
            }
        }
        BuildEvent::Finished { image, elapsed } => {
            eprintln!("built {image} in {:.1}s", elapsed.as_secs_f64())
        }
    };
    let summary = build::build_all(&config, rt, &BuildOptions { force }, &mut on_event)
        .await
        .map_err(fail)?;
    eprintln!(
        "images: {} built, {} already present ({}, {:.1}s)",
        summary.built.len(),
        summary.skipped.len(),
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn relative_to_cwd(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}
