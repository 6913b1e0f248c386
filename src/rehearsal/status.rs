//! `status`'s story: a kept environment against a render, with live health. Read-only.
use super::{
    app::validate_app,
    compare::{compare, Compared},
    source::render,
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

/// Reads `app`'s record (`app` is checked, see `validate_app`), renders `source` (default: the recorded one),
/// compares, and inspects the recorded containers for live health.
///
/// # Errors
///
/// [`Error::NotKept`] without a record; the source's and the engine's errors.
pub async fn status(
    app: &str,
    source: Option<&str>,
    connect: impl Future<Output = Result<Arc<dyn ContainerRuntime>, Error>>,
) -> Result<Status, Error> {
    let app = validate_app(app)?;
    let record = EnvRecord::load(&app)?.ok_or_else(|| Error::NotKept { app: app.clone() })?;
    let source = source.map_or_else(|| record.source.clone(), str::to_string);
    let popts = PlanOptions {
        dest_namespace: record.dest_namespace.clone(),
        ..PlanOptions::default()
    };
    let rendered = render(&source, &popts)?;
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
    let rows = compare(&rendered.plan, &record)
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
