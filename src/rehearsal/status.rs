//! `status`'s story: a kept environment against a render, with live health. Read-only.
use super::{
    app::validate_app,
    application::{self, Flags, Settings, SourceOptions},
    compare::{compare, Compared},
    Error,
};
use crate::{
    cluster::observed_object,
    health::{self, Health, HealthStatus},
    plan::PlanOptions,
    runtime::{ContainerRuntime, ContainerStatus},
    state::EnvRecord,
};
use std::{collections::BTreeSet, future::Future, sync::Arc};

/// A kept environment compared with its source.
#[derive(Debug, Clone)]
pub struct Status {
    pub app: String,
    /// The source compared with.
    pub source: String,
    pub record: EnvRecord,
    /// Each resource's comparison and live health (`None`: no health, e.g. a ConfigMap).
    pub rows: Vec<(Compared, Option<Health>)>,
}

impl Status {
    /// The app's health: the worst resource health; hooks do not count (§5.4).
    pub fn app_health(&self) -> HealthStatus {
        self.rows
            .iter()
            .filter(|(r, _)| !r.hook)
            .filter_map(|(_, h)| h.as_ref().map(|h| h.status))
            .max()
            .unwrap_or(HealthStatus::Healthy)
    }
}

/// Reads the app's record, renders `source` (default: the recorded one), compares (leaving
/// out the fields of an Application's `ignoreDifferences`), and inspects the recorded
/// containers for live health. The app is `app` (checked, see `validate_app`), else the
/// source's: an Application's name, else its folder's.
///
/// # Errors
///
/// [`Error::BadInput`] with neither an app nor a source, [`Error::NotKept`] without a record;
/// the source's and the engine's errors.
pub async fn status(
    app: Option<&str>,
    source: Option<&str>,
    src: &SourceOptions,
    connect: impl Future<Output = Result<Arc<dyn ContainerRuntime>, Error>>,
) -> Result<Status, Error> {
    let (app, loaded) = match (app, source) {
        (Some(a), s) => (
            validate_app(a)?,
            s.map(|s| application::load(s, src)).transpose()?,
        ),
        (None, Some(s)) => {
            let loaded = application::load(s, src)?;
            let settings = Settings::resolve(s, &loaded, &Flags::default())?;
            (settings.app, Some(loaded))
        }
        (None, None) => {
            return Err(Error::BadInput(
                "say which app: `--app NAME` or a SOURCE".into(),
            ))
        }
    };
    let record = EnvRecord::load(&app)?.ok_or_else(|| Error::NotKept { app: app.clone() })?;
    let source = source.map_or_else(|| record.source.clone(), str::to_string);
    let loaded = match loaded {
        Some(l) => l,
        None => {
            let recorded = SourceOptions {
                app: Some(app.clone()),
                ..src.clone()
            };
            application::load(&source, &recorded)?
        }
    };
    let ignore = loaded
        .application
        .as_ref()
        .map(|a| a.ignore_differences.clone())
        .unwrap_or_default();
    let popts = PlanOptions {
        dest_namespace: record.dest_namespace.clone(),
        ..PlanOptions::default()
    };
    let plan = crate::plan::build(&loaded.objects, &popts)?;
    let rt = connect.await?;
    let ids: Vec<String> = record
        .objects
        .iter()
        .flat_map(|o| o.pods.iter())
        .flat_map(|p| p.containers.iter().map(|c| c.id.clone()))
        .collect();
    let states =
        futures_util::future::join_all(ids.iter().map(|id| rt.inspect_container(id))).await;
    let running: BTreeSet<String> = ids
        .into_iter()
        .zip(states)
        .filter(|(_, s)| matches!(s, Ok(s) if s.status == ContainerStatus::Running))
        .map(|(id, _)| id)
        .collect();
    let rows = compare(&plan, &record, &ignore)
        .into_iter()
        .map(|r| {
            let h = health_of(&r, &running);
            (r, h)
        })
        .collect();
    Ok(Status {
        app,
        source,
        record,
        rows,
    })
}

fn health_of(row: &Compared, running: &BTreeSet<String>) -> Option<Health> {
    let Some(live) = &row.live else {
        return Some(Health::new(HealthStatus::Missing, ""));
    };
    let obj = observed_object(live, &|id| running.contains(id));
    match health::assess(&obj) {
        Ok(h) => h,
        Err(e) => Some(Health::new(HealthStatus::Unknown, e.to_string())),
    }
}
