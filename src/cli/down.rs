//! `syncsim down`: remove what syncsim left on the engine (kept or crashed runs), by label, and
//! the kept-environment record. PVC volumes (the data) stay unless `--volumes`.
use crate::{
    error,
    runtime::{
        docker::DockerRuntime, ContainerRuntime, Listed, ListedKind, LABEL_APP, LABEL_MANAGED_BY,
        LABEL_RESOURCE, MANAGED_BY_VALUE,
    },
    state::EnvRecord,
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
    /// Also remove PersistentVolumeClaim volumes (the data a kept environment's databases
    /// wrote); by default they stay and a later sync of the app reuses them.
    #[arg(long)]
    pub volumes: bool,
}

/// Whether a listed volume backs a PersistentVolumeClaim (a StatefulSet claim or a PVC):
/// labelled with a `…/PersistentVolumeClaim/…` resource.
pub fn is_claim_volume(l: &Listed) -> bool {
    l.kind == ListedKind::Volume
        && l.labels
            .get(LABEL_RESOURCE)
            .is_some_and(|r| r.starts_with("/PersistentVolumeClaim/"))
}

/// Removes containers, then networks, then volumes carrying syncsim's labels (claim volumes
/// only with `--volumes`), then the record(s).
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
    let mut kept_volumes = 0usize;
    let mut failed = false;
    for l in &listed {
        if !args.volumes && is_claim_volume(l) {
            kept_volumes += 1;
            continue;
        }
        match rt.remove_listed(l.kind, &l.id).await {
            Ok(()) => counts[l.kind as usize] += 1,
            Err(e) => {
                failed = true;
                eprintln!("{}", error::render_chain(&e));
            }
        }
    }
    let apps = match &args.app {
        Some(app) => vec![super::sync::sanitize(app)],
        None => EnvRecord::list_apps()?,
    };
    let mut records = 0;
    for app in apps {
        match EnvRecord::remove(&app) {
            Ok(true) => records += 1,
            Ok(false) => {}
            Err(e) => {
                failed = true;
                eprintln!("{}", error::render_chain(&e));
            }
        }
    }
    eprintln!(
        "removed {} containers, {} networks, {} volumes, {records} environment records",
        counts[0], counts[1], counts[2]
    );
    if kept_volumes > 0 {
        eprintln!("kept {kept_volumes} PersistentVolumeClaim volumes (data); `--volumes` removes them too");
    }
    Ok(if failed {
        error::ENVIRONMENT
    } else {
        error::SUCCESS
    })
}
