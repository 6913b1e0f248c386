//! Resolve and render a source: load (kustomize, directory, file, stdin) and plan.
use super::Error;
use crate::{
    manifest::{self, Object},
    plan::{self, Plan, PlanOptions},
    util::unix_now,
};

/// One render of a source: its objects and the plan Argo CD would follow.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub objects: Vec<Object>,
    pub plan: Plan,
}

/// Plan options for an operation starting now.
pub fn plan_options(dest_namespace: &str, revision: &str) -> PlanOptions {
    PlanOptions {
        dest_namespace: dest_namespace.to_string(),
        revision: revision.to_string(),
        started_at_unix: unix_now(),
    }
}

/// Loads `source` and builds its plan. The plan's warnings are the caller's to show.
///
/// # Errors
///
/// [`Error::Manifest`] (a missing kustomize is exit 3) or [`Error::Plan`].
pub fn render(source: &str, opts: &PlanOptions) -> Result<Rendered, Error> {
    let loaded = manifest::load(source, &manifest::LoadOptions::default())?;
    tracing::info!(
        "rendered {} objects with {:?}",
        loaded.objects.len(),
        loaded.renderer
    );
    let plan = plan::build(&loaded.objects, opts)?;
    Ok(Rendered {
        objects: loaded.objects,
        plan,
    })
}
