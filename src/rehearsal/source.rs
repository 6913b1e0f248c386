//! A rendered source and the plan options of an operation (loading and settings:
//! [`super::application`]; render and plan: [`super::prepare`]).
use crate::{
    manifest::Object,
    plan::{Plan, PlanOptions},
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
