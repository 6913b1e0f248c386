//! `syncsim down`: remove what syncsim left on the engine (kept or crashed runs), by label.
use crate::{
    error,
    runtime::{
        docker::DockerRuntime, ContainerRuntime, ListedKind, LABEL_APP, LABEL_MANAGED_BY,
        MANAGED_BY_VALUE,
    },
};
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct DownArgs {
    /// Only this application's objects.
    #[arg(long, conflicts_with = "all")]
    pub app: Option<String>,
    /// Every syncsim object on the engine.
    #[arg(long)]
    pub all: bool,
}

/// Removes containers, then networks, then volumes carrying syncsim's labels.
pub async fn run(args: DownArgs) -> anyhow::Result<i32> {
    if args.app.is_none() && !args.all {
        eprintln!("error: say which objects to remove: `--app NAME` or `--all`");
        return Ok(error::BAD_INPUT);
    }
    let rt = match DockerRuntime::connect().await {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{}", error::render_chain(&e));
            return Ok(error::ENVIRONMENT);
        }
    };
    let mut labels = vec![(LABEL_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string())];
    if let Some(app) = &args.app {
        // The same name `sync --app` gave the objects.
        labels.push((LABEL_APP.to_string(), super::sync::sanitize(app)));
    }
    let mut listed = rt.list_labelled(&labels).await?;
    listed.sort_by_key(|l| l.kind);
    let mut counts = [0usize; 3];
    let mut failed = false;
    for l in &listed {
        let r = match l.kind {
            ListedKind::Container => rt.remove_container(&l.id).await,
            ListedKind::Network => rt.remove_network(&l.id).await,
            ListedKind::Volume => rt.remove_volume(&l.id).await,
        };
        match r {
            Ok(()) => counts[l.kind as usize] += 1,
            Err(e) => {
                failed = true;
                eprintln!("{}", error::render_chain(&e));
            }
        }
    }
    eprintln!(
        "removed {} containers, {} networks, {} volumes",
        counts[0], counts[1], counts[2]
    );
    Ok(if failed {
        error::ENVIRONMENT
    } else {
        error::SUCCESS
    })
}
