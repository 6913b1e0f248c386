//! A pod spec resolved against the cluster: its ConfigMaps, Secrets, claims and the Services
//! it answers to.
use super::PodInput;
use crate::{
    cluster::{
        pod::{self, ConfigKind, PodContext, PodError},
        sim::Inner,
    },
    manifest::Object,
};

/// The pod's containers and volumes (synchronous: the lookups borrow a snapshot).
pub(super) fn translate(inner: &Inner, input: &PodInput) -> Result<pod::PodPlan, PodError> {
    translate_ahead(inner, input, &[])
}

/// [`translate`] for a pod that starts once the Services `ahead` are applied too (those of the
/// step it belongs to: they are applied before its workload creates it).
pub(super) fn translate_ahead(
    inner: &Inner,
    input: &PodInput,
    ahead: &[Object],
) -> Result<pod::PodPlan, PodError> {
    let labels = inner.labels(&input.owner.to_string());
    let aliases = service_aliases(inner, input);
    // ConfigMaps and Secrets as applied right now (a pod sees what exists when it starts).
    let configs: Vec<(ConfigKind, Object)> = [ConfigKind::ConfigMap, ConfigKind::Secret]
        .into_iter()
        .flat_map(|k| {
            inner
                .configs(&k.to_string(), &input.namespace)
                .into_iter()
                .map(move |o| (k, o))
        })
        .collect();
    let lookup = |kind: ConfigKind, name: &str| {
        configs
            .iter()
            .find(|(k, o)| *k == kind && o.name() == name)
            .map(|(_, o)| o)
    };
    let claim = |claim: &str| {
        input
            .claim_volumes
            .get(claim)
            .cloned()
            .or_else(|| inner.consume_pvc(&input.namespace, claim))
    };
    let mut ctx = PodContext::new(
        &input.pod_name,
        &input.namespace,
        &inner.network,
        &lookup,
        &claim,
    );
    ctx.container_prefix = format!("syncsim-{}-{}-", inner.opts.app, input.pod_name);
    ctx.labels = labels;
    ctx.pod_labels = input.labels.clone();
    ctx.pod_annotations = input.annotations.clone();
    ctx.aliases = aliases;
    ctx.images = inner.opts.images.iter().cloned().collect();
    ctx.publish_ports = !inner.pods_reachable();
    // Services as they will be when the pod starts (its environment is fixed then).
    let mut services = inner.configs("Service", &input.namespace);
    for s in ahead.iter().filter(|s| s.namespace() == input.namespace) {
        services.retain(|applied| applied.name() != s.name());
        services.push(s.clone());
    }
    ctx.service_links = pod::service_links(&services);
    ctx.seccomp_default = inner.opts.seccomp_default;
    pod::pod_containers(&input.spec, &ctx)
}

/// DNS aliases of a pod: its own name, the applied Services realised as plain DNS that select
/// it, and `<pod>.<svc>…` for the applied headless ones (see `cluster::service`).
fn service_aliases(inner: &Inner, input: &PodInput) -> Vec<String> {
    crate::cluster::service::pod_aliases(inner, &input.namespace, &input.pod_name, &input.labels)
}
