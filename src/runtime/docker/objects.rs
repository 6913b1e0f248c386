//! Networks, volumes, and the labelled listing that teardown sweeps.
use super::{
    client::{to_docker_labels, to_labels, DockerRuntime},
    errors::{classify, message, status},
};
use crate::runtime::{Error, Listed, ListedKind, NetworkSpec, Result, VolumeSpec};
use bollard::{
    models::{NetworkCreateRequest, NetworkDisconnectRequest, VolumeCreateRequest},
    query_parameters::{
        ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder,
        RemoveVolumeOptionsBuilder,
    },
};
use std::collections::HashMap;

/// Whether this process reaches the addresses of containers on `network`: its gateway, the
/// bridge's address on the engine's machine, is an address of this network namespace (binding
/// to it succeeds only then). An engine in a VM or a rootless one keeps its bridge elsewhere.
pub(super) async fn reaches_network(rt: &DockerRuntime, network: &str) -> Result<bool> {
    let inspected = rt
        .docker
        .inspect_network(network, None)
        .await
        .map_err(|e| classify(e, "inspect network", network))?;
    let gateways: Vec<std::net::IpAddr> = inspected
        .ipam
        .and_then(|i| i.config)
        .into_iter()
        .flatten()
        .filter_map(|c| c.gateway?.parse().ok())
        .collect();
    Ok(gateways
        .into_iter()
        .any(|ip| std::net::UdpSocket::bind((ip, 0)).is_ok()))
}

pub(super) async fn create_network(rt: &DockerRuntime, spec: &NetworkSpec) -> Result<String> {
    // API 1.41 happily creates a second network with the same name (CheckDuplicate is gone
    // from current request models), which would make names ambiguous: refuse instead.
    match rt.docker.inspect_network(&spec.name, None).await {
        Ok(existing) if existing.name.as_deref() == Some(spec.name.as_str()) => {
            return Err(Error::Operation {
                op: "create network",
                object: spec.name.clone(),
                source: "a network with this name already exists".into(),
            });
        }
        Ok(_) => {}
        Err(e) if status(&e) == Some(404) => {}
        Err(e) => return Err(classify(e, "create network", &spec.name)),
    }
    let request = NetworkCreateRequest {
        name: spec.name.clone(),
        driver: Some("bridge".into()),
        labels: Some(to_docker_labels(&spec.labels)),
        ..Default::default()
    };
    let created = rt
        .docker
        .create_network(request)
        .await
        .map_err(|e| classify(e, "create network", &spec.name))?;
    // The check above and the create are not atomic: two creators that both passed the check
    // made two networks of one name. Each looks at the engine's answer and the one that did not
    // create the oldest network removes its own and fails at once (never a hang on an
    // ambiguous name later).
    let filters = HashMap::from([("name", vec![spec.name.clone()])]);
    let same_name: Vec<_> = rt
        .docker
        .list_networks(Some(
            ListNetworksOptionsBuilder::new().filters(&filters).build(),
        ))
        .await
        .map_err(|e| classify(e, "create network", &spec.name))?
        .into_iter()
        .filter(|n| n.name.as_deref() == Some(spec.name.as_str()))
        .collect();
    if same_name.len() > 1 {
        let oldest = same_name
            .iter()
            .min_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)))
            .and_then(|n| n.id.clone());
        if oldest.as_deref() != Some(created.id.as_str()) {
            let _ = rt.docker.remove_network(&created.id).await;
            return Err(Error::Operation {
                op: "create network",
                object: spec.name.clone(),
                source: "another process created a network with this name at the same time".into(),
            });
        }
    }
    Ok(created.id)
}

pub(super) async fn remove_network(rt: &DockerRuntime, name: &str) -> Result<()> {
    match rt.docker.remove_network(name).await {
        Ok(()) => Ok(()),
        Err(e) if status(&e) == Some(404) => Ok(()),
        Err(e) => Err(classify(e, "remove network", name)),
    }
}

pub(super) async fn create_volume(rt: &DockerRuntime, spec: &VolumeSpec) -> Result<String> {
    let request = VolumeCreateRequest {
        name: Some(spec.name.clone()),
        labels: Some(to_docker_labels(&spec.labels)),
        ..Default::default()
    };
    let volume = rt
        .docker
        .create_volume(request)
        .await
        .map_err(|e| classify(e, "create volume", &spec.name))?;
    Ok(volume.name)
}

pub(super) async fn remove_volume(rt: &DockerRuntime, name: &str) -> Result<()> {
    let options = RemoveVolumeOptionsBuilder::new().force(false).build();
    match rt.docker.remove_volume(name, Some(options)).await {
        Ok(()) => Ok(()),
        Err(e) if status(&e) == Some(404) => Ok(()),
        Err(e) => Err(classify(e, "remove volume", name)),
    }
}

pub(super) async fn disconnect_network(rt: &DockerRuntime, network: &str, id: &str) -> Result<()> {
    let request = NetworkDisconnectRequest {
        container: id.to_string(),
        force: Some(true),
    };
    match rt.docker.disconnect_network(network, request).await {
        Ok(()) => Ok(()),
        Err(e) if status(&e) == Some(404) => Ok(()),
        Err(e) if message(&e).contains("is not connected") => Ok(()),
        Err(e) => Err(classify(
            e,
            "disconnect container from network",
            &format!("{id}` from `{network}"),
        )),
    }
}

pub(super) async fn list_labelled(
    rt: &DockerRuntime,
    labels: &[(String, String)],
) -> Result<Vec<Listed>> {
    let object = labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    if labels.is_empty() {
        // An empty filter would match every object on the engine, including `bridge`.
        return Err(Error::Operation {
            op: "list objects labelled",
            object,
            source: "refusing to list without a label filter".into(),
        });
    }
    let filters = HashMap::from([(
        "label",
        labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>(),
    )]);
    let op = "list objects labelled";
    let mut listed = Vec::new();
    let containers = rt
        .docker
        .list_containers(Some(
            ListContainersOptionsBuilder::new()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(|e| classify(e, op, &object))?;
    for c in containers {
        let id = c.id.unwrap_or_default();
        let name = c
            .names
            .and_then(|n| n.into_iter().next())
            .map(|n| n.trim_start_matches('/').to_string())
            .unwrap_or_else(|| id.clone());
        listed.push(Listed {
            kind: ListedKind::Container,
            id,
            name,
            labels: to_labels(c.labels),
        });
    }
    let networks = rt
        .docker
        .list_networks(Some(
            ListNetworksOptionsBuilder::new().filters(&filters).build(),
        ))
        .await
        .map_err(|e| classify(e, op, &object))?;
    for n in networks {
        let id = n.id.unwrap_or_default();
        listed.push(Listed {
            kind: ListedKind::Network,
            name: n.name.unwrap_or_else(|| id.clone()),
            id,
            labels: to_labels(n.labels),
        });
    }
    let volumes = rt
        .docker
        .list_volumes(Some(
            ListVolumesOptionsBuilder::new().filters(&filters).build(),
        ))
        .await
        .map_err(|e| classify(e, op, &object))?;
    for v in volumes.volumes.unwrap_or_default() {
        listed.push(Listed {
            kind: ListedKind::Volume,
            id: v.name.clone(),
            name: v.name,
            labels: v.labels.into_iter().collect(),
        });
    }
    listed.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    Ok(listed)
}
