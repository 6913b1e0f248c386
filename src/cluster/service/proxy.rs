//! A Service's proxy container: created when the Service is applied, fed with the Ready
//! endpoints while the cluster runs, removed with the Service.
use super::{endpoint_lines, proxy_command, write_endpoints_command, Endpoint, ServiceSpec};
use crate::{
    cluster::{error::Error, sim::Inner},
    runtime::{ContainerSpec, ListedKind, NetworkAttachment},
};
use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

/// A running proxy and the task that keeps its endpoints current.
#[derive(Debug)]
pub(crate) struct ProxyHandle {
    pub container: String,
    task: tokio::task::JoinHandle<()>,
    /// How long creating and starting the container took.
    pub setup: Duration,
    /// Endpoint files rewritten so far (one `exec` each).
    pub updates: Arc<AtomicUsize>,
}

impl ProxyHandle {
    /// Stops updating the endpoints (the container keeps running).
    pub fn stop(&self) {
        self.task.abort();
    }
}

/// The proxy's Docker container name.
pub(crate) fn container_name(app: &str, svc: &ServiceSpec) -> String {
    format!("syncsim-{app}-svc-{}-{}", svc.namespace, svc.name)
}

/// Creates and starts the proxy of `svc`, answering to the Service's names, and the task that
/// rewrites its endpoint files whenever the Ready pods it selects change.
pub(crate) async fn start(inner: &Arc<Inner>, svc: ServiceSpec) -> Result<ProxyHandle, Error> {
    let started = Instant::now();
    let image = inner.opts.service_proxy_image.clone();
    if let Err(error) = inner.ensure_image(&image, Some("Never")).await {
        return Err(Error::ServiceProxyImage {
            service: format!("{}/{}", svc.namespace, svc.name),
            image,
            error,
        });
    }
    let name = container_name(&inner.opts.app, &svc);
    // A proxy left by a kept environment is replaced.
    inner.rt.remove_container(&name).await?;
    let spec = ContainerSpec {
        name: name.clone(),
        image,
        entrypoint: Some(proxy_command(&svc)),
        hostname: Some(svc.name.clone()),
        network: NetworkAttachment::Network {
            name: inner.network.clone(),
            aliases: svc.names(""),
        },
        labels: inner.labels(&format!("/Service/{}/{}", svc.namespace, svc.name)),
        ..ContainerSpec::default()
    };
    let id = inner.rt.create_container(&spec).await?;
    inner.ledger.record(ListedKind::Container, &id);
    inner.rt.start_container(&id).await?;
    let updates = Arc::new(AtomicUsize::new(0));
    let task = tokio::spawn(feed(inner.clone(), id.clone(), svc, updates.clone()));
    Ok(ProxyHandle {
        container: id,
        task,
        setup: started.elapsed(),
        updates,
    })
}

/// Keeps the proxy's endpoint files equal to the Ready pods the Service selects.
async fn feed(inner: Arc<Inner>, id: String, svc: ServiceSpec, updates: Arc<AtomicUsize>) {
    let mut written: BTreeMap<u16, String> = BTreeMap::new();
    loop {
        let pods: Vec<Endpoint> = inner.endpoints();
        for (port, lines) in endpoint_lines(&svc, &pods) {
            if written.get(&port) == Some(&lines) {
                continue;
            }
            let cmd = write_endpoints_command(port, &lines);
            match inner.rt.exec(&id, &cmd, Duration::from_secs(5)).await {
                Ok(r) if r.exit_code == 0 => {
                    tracing::debug!(
                        "Service {}/{} port {port}: endpoints {:?}",
                        svc.namespace,
                        svc.name,
                        lines.lines().collect::<Vec<_>>()
                    );
                    written.insert(port, lines);
                    updates.fetch_add(1, Ordering::Relaxed);
                }
                Ok(r) => tracing::debug!("proxy {}: update failed: {}", svc.name, r.output),
                Err(e) => tracing::debug!("proxy {}: update failed: {e}", svc.name),
            }
        }
        tokio::time::sleep(inner.opts.poll_interval).await;
    }
}
