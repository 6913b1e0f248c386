//! `down`'s story: remove what syncsim left on the engine, by label, and the records.
//!
//! `down` of an app that a `sync`/`watch` is operating on is refused (exit 3, naming the
//! holder of the app's lock): stopping that run is its own Ctrl-C's job, which tears down what
//! it created. `down --app` holds the app's lock while it removes, so no run starts meanwhile.
use super::{app::validate_app, Error};
use crate::{
    runtime::{
        self, ContainerRuntime, Listed, ListedKind, LABEL_APP, LABEL_MANAGED_BY, LABEL_RESOURCE,
        MANAGED_BY_VALUE,
    },
    state::{self, AppLock, EnvRecord, StateError},
};

/// What `down` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownReport {
    pub containers: usize,
    pub networks: usize,
    pub volumes: usize,
    pub records: usize,
    /// PersistentVolumeClaim volumes left in place (without `--volumes`).
    pub kept_volumes: usize,
    /// Removals that failed, rendered.
    pub errors: Vec<String>,
}

impl DownReport {
    /// Docker objects removed.
    pub fn removed(&self) -> usize {
        self.containers + self.networks + self.volumes
    }
}

/// Whether a listed volume backs a PersistentVolumeClaim (a StatefulSet claim or a PVC):
/// labelled with a `…/PersistentVolumeClaim/…` resource.
pub fn is_claim_volume(l: &Listed) -> bool {
    l.kind == ListedKind::Volume
        && l.labels
            .get(LABEL_RESOURCE)
            .is_some_and(|r| r.starts_with("/PersistentVolumeClaim/"))
}

/// Removes containers, then networks, then volumes carrying syncsim's labels (of `app` only,
/// when given; claim volumes only with `volumes`), then the record(s).
///
/// # Errors
///
/// Listing failed or the state directory is unusable; single removals that fail are in the
/// report.
pub async fn down(
    rt: &dyn ContainerRuntime,
    app: Option<&str>,
    volumes: bool,
) -> Result<DownReport, Error> {
    let app = app.map(validate_app).transpose()?;
    let _lock = match &app {
        Some(app) => Some(AppLock::acquire(app, &format!("syncsim down --app {app}"))?),
        None => {
            refuse_busy_apps()?;
            None
        }
    };
    let mut out = remove_labelled(rt, app.as_deref(), volumes).await?;
    let apps = match app {
        Some(app) => vec![app],
        None => EnvRecord::list_apps()?,
    };
    for app in apps {
        match EnvRecord::remove(&app) {
            Ok(true) => out.records += 1,
            Ok(false) => {}
            Err(e) => out.errors.push(crate::error::render_chain(&e)),
        }
    }
    Ok(out)
}

/// `down --all` while runs are going on would pull their environments from under them.
fn refuse_busy_apps() -> Result<(), Error> {
    let dir = state::state_dir()?;
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(());
    };
    let mut busy = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "lock") {
            let app = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            if let Some(holder) = AppLock::holder(&app)? {
                busy.push(format!("`{app}` ({holder})"));
            }
        }
    }
    if busy.is_empty() {
        Ok(())
    } else {
        Err(StateError::Locked {
            app: busy.join(", "),
            holder: "a syncsim run".into(),
        }
        .into())
    }
}

/// Removes what an earlier run of `app` left on the engine (the caller holds the app's lock):
/// the objects labelled with the app; claim volumes only with `volumes`. Records stay.
///
/// # Errors
///
/// Listing failed; single removals that fail are in the report.
pub async fn sweep(
    rt: &dyn ContainerRuntime,
    app: &str,
    volumes: bool,
) -> Result<DownReport, runtime::Error> {
    remove_labelled(rt, Some(app), volumes).await
}

async fn remove_labelled(
    rt: &dyn ContainerRuntime,
    app: Option<&str>,
    volumes: bool,
) -> Result<DownReport, runtime::Error> {
    let mut labels = vec![(LABEL_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string())];
    if let Some(app) = app {
        // The same name `sync --app` gave the objects.
        labels.push((LABEL_APP.to_string(), app.to_string()));
    }
    let mut listed = rt.list_labelled(&labels).await?;
    listed.sort_by_key(|l| l.kind);
    let mut out = DownReport::default();
    for l in &listed {
        if !volumes && is_claim_volume(l) {
            out.kept_volumes += 1;
            continue;
        }
        match rt.remove_listed(l.kind, &l.id).await {
            Ok(()) => match l.kind {
                ListedKind::Container => out.containers += 1,
                ListedKind::Network => out.networks += 1,
                ListedKind::Volume => out.volumes += 1,
            },
            Err(e) => out.errors.push(crate::error::render_chain(&e)),
        }
    }
    Ok(out)
}
