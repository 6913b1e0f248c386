//! `syncsim down`: remove what syncsim left on the engine (kept or crashed runs), by label, and
//! the kept-environment record. PVC volumes (the data) stay unless `--volumes`.
use super::CliError;
use crate::{error, rehearsal};
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct DownArgs {
    /// Only this application's objects.
    #[arg(long, conflicts_with = "all")]
    pub app: Option<String>,
    /// Every syncsim object on the engine.
    #[arg(long)]
    pub all: bool,
    /// Also remove PersistentVolumeClaim volumes (the data a kept environment's databases
    /// wrote); by default they stay and a later sync of the app reuses them.
    #[arg(long)]
    pub volumes: bool,
}

/// Removes containers, then networks, then volumes carrying syncsim's labels (claim volumes
/// only with `--volumes`), then the record(s).
pub async fn run(args: DownArgs) -> Result<i32, CliError> {
    if args.app.is_none() && !args.all {
        return Err(CliError::BadInput(
            "say which objects to remove: `--app NAME` or `--all`".into(),
        ));
    }
    if let Some(app) = &args.app {
        rehearsal::validate_app(app)?;
    }
    let rt = rehearsal::connect().await?;
    let r = rehearsal::down(&*rt, args.app.as_deref(), args.volumes).await?;
    for e in &r.errors {
        eprintln!("{e}");
    }
    eprintln!(
        "removed {} containers, {} networks, {} volumes, {} environment records",
        r.containers, r.networks, r.volumes, r.records
    );
    if r.kept_volumes > 0 {
        eprintln!(
            "kept {} PersistentVolumeClaim volumes (data); `--volumes` removes them too",
            r.kept_volumes
        );
    }
    Ok(if r.errors.is_empty() {
        error::SUCCESS
    } else {
        error::ENVIRONMENT
    })
}
