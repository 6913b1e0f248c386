//! A Service's proxy container: set up in the background when the Service is applied (the apply
//! itself is an API call, as on a cluster, where kube-proxy programs the Service's routing
//! asynchronously too), fed with the Ready endpoints while the cluster runs, removed with the
//! Service.
use super::{endpoint_lines, proxy_command, write_endpoints_command, Endpoint, ServiceSpec};
use crate::{
    cluster::{error::Error, sim::Inner},
    runtime::{ContainerSpec, NetworkAttachment},
};
use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex, OnceLock,
    },
    time::{Duration, Instant},
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How often a proxy compares its endpoints with the Ready pods: an in-memory check, so often
/// enough that a pod's readiness reaches the proxy about as soon as it reaches the engine (a
/// Service's clients start in the next wave, right after the gate opens).
const FEED_POLL: Duration = Duration::from_millis(20);

/// What the proxy's task reports back.
#[derive(Debug, Default)]
struct Shared {
    /// The container's id, once created.
    id: OnceLock<String>,
    /// How long creating and starting the container took, once done.
    setup: Mutex<Option<Duration>>,
    /// Endpoint updates so far (one `exec` each, for every port whose endpoints changed).
    updates: AtomicUsize,
}

/// A proxy being set up or running, and the task that keeps its endpoints current.
#[derive(Debug)]
pub(crate) struct ProxyHandle {
    /// The container's name (Docker takes a name wherever it takes an id).
    pub container: String,
    shared: Arc<Shared>,
    stop: CancellationToken,
    /// `true` once the setup is over (succeeded or failed).
    set_up: watch::Receiver<bool>,
    /// The engine's step the Service was applied in.
    pub step: u64,
    task: tokio::task::JoinHandle<()>,
}

impl ProxyHandle {
    /// Stops updating the endpoints (the container keeps running). A setup in flight completes
    /// first, so that the container it creates is recorded and removed with the rest.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Turns `true` once the setup is over (the container exists, or creating it failed).
    pub fn set_up_signal(&self) -> watch::Receiver<bool> {
        self.set_up.clone()
    }

    /// Stops the task and waits for it; the container's id when it was created.
    pub async fn stopped(self) -> Option<String> {
        self.stop.cancel();
        let _ = self.task.await;
        self.shared.id.get().cloned()
    }

    /// How long creating and starting the container took (`None` while in flight or failed).
    pub fn setup(&self) -> Option<Duration> {
        *self.shared.setup.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Endpoint files rewritten so far.
    pub fn updates(&self) -> usize {
        self.shared.updates.load(Ordering::Relaxed)
    }
}

/// The proxy's Docker container name.
pub(crate) fn container_name(app: &str, svc: &ServiceSpec) -> String {
    format!("syncsim-{app}-svc-{}-{}", svc.namespace, svc.name)
}

/// Starts setting up the proxy of `svc`, answering to the Service's names, and the task that
/// rewrites its endpoint files whenever the Ready pods it selects change. Only a missing proxy
/// image fails here (a fault of the machine, named with its fix); the container is created and
/// started in the background.
pub(crate) async fn start(inner: &Arc<Inner>, svc: ServiceSpec) -> Result<ProxyHandle, Error> {
    let image = inner.opts.service_proxy_image.clone();
    if let Err(error) = inner.ensure_image(&image, Some("Never")).await {
        return Err(Error::ServiceProxyImage {
            service: format!("{}/{}", svc.namespace, svc.name),
            image,
            error,
        });
    }
    let name = container_name(&inner.opts.app, &svc);
    let shared = Arc::new(Shared::default());
    let stop = CancellationToken::new();
    let (done_tx, set_up) = watch::channel(false);
    let step = inner.step();
    let task = tokio::spawn(run(
        inner.clone(),
        step,
        svc,
        image,
        name.clone(),
        shared.clone(),
        stop.clone(),
        done_tx,
    ));
    Ok(ProxyHandle {
        container: name,
        shared,
        stop,
        set_up,
        step,
        task,
    })
}

/// The proxy's task: setup, then feeding until stopped.
#[allow(clippy::too_many_arguments)]
async fn run(
    inner: Arc<Inner>,
    step: u64,
    svc: ServiceSpec,
    image: String,
    name: String,
    shared: Arc<Shared>,
    stop: CancellationToken,
    done: watch::Sender<bool>,
) {
    if !give_way(&inner, step, &stop).await {
        // Stopped before it was set up (teardown): nothing to create.
        let _ = done.send(true);
        return;
    }
    let started = Instant::now();
    let setup = set_up(&inner, &svc, image, &name, &shared).await;
    let _ = done.send(true);
    match setup {
        Ok(()) => {
            *shared.setup.lock().unwrap_or_else(|e| e.into_inner()) = Some(started.elapsed());
            tokio::select! {
                () = stop.cancelled() => {}
                () = feed(&inner, &name, &svc, &shared) => {}
            }
        }
        Err(e) => tracing::warn!(
            "Service {}/{}: its proxy could not start, so its name does not resolve: {}",
            svc.namespace,
            svc.name,
            crate::error::render_chain(&e)
        ),
    }
}

/// Waits until the pods of the proxy's own step have been started (the step is applied and
/// its controllers have started what they can), at most [`GIVE_WAY_LIMIT`]; `false` when the
/// proxy was stopped meanwhile.
///
/// On 2 cores every container start costs the engine about a quarter of a second, and starts
/// contend: a proxy started alongside its step's pods delays them, while started after them it
/// is set up while they boot, long before a pod of a later step needs it (those wait for it,
/// see `realise::proxies_set_up`).
async fn give_way(inner: &Inner, step: u64, stop: &CancellationToken) -> bool {
    let until = tokio::time::Instant::now() + GIVE_WAY_LIMIT;
    loop {
        if stop.is_cancelled() {
            return false;
        }
        if inner.step() > step && inner.controllers_settled_in(step) {
            return true;
        }
        if tokio::time::Instant::now() >= until {
            return true;
        }
        tokio::select! {
            () = tokio::time::sleep(GIVE_WAY_POLL) => {}
            () = stop.cancelled() => return false,
        }
    }
}

/// The longest a proxy waits for its step's pods to start (a stuck start must not hold back
/// the Service).
const GIVE_WAY_LIMIT: Duration = Duration::from_secs(3);
/// How often it looks.
const GIVE_WAY_POLL: Duration = Duration::from_millis(10);

async fn set_up(
    inner: &Inner,
    svc: &ServiceSpec,
    image: String,
    name: &str,
    shared: &Shared,
) -> Result<(), crate::runtime::Error> {
    // A proxy left by a kept environment is replaced.
    inner.rt.remove_container(name).await?;
    let spec = ContainerSpec {
        name: name.to_string(),
        image,
        entrypoint: Some(proxy_command(svc)),
        hostname: Some(svc.name.clone()),
        network: NetworkAttachment::Network {
            name: inner.network.clone(),
            aliases: svc.names(""),
        },
        labels: inner.labels(&format!("/Service/{}/{}", svc.namespace, svc.name)),
        ..ContainerSpec::default()
    };
    let id = inner.rt.create_container(&spec).await?;
    inner.ledger.record_container(&id, name);
    let _ = shared.id.set(id.clone());
    inner.rt.start_container(&id).await
}

/// Keeps the proxy's endpoint files equal to the Ready pods the Service selects.
async fn feed(inner: &Inner, id: &str, svc: &ServiceSpec, shared: &Shared) {
    // The proxy starts with an empty file per port (see `proxy_command`).
    let mut written: BTreeMap<u16, String> =
        svc.tcp_ports().map(|p| (p.port, String::new())).collect();
    loop {
        let pods: Vec<Endpoint> = inner.endpoints();
        let changed: Vec<(u16, String)> = endpoint_lines(svc, &pods)
            .into_iter()
            .filter(|(port, lines)| written.get(port) != Some(lines))
            .collect();
        if !changed.is_empty() {
            let files: Vec<(u16, &str)> = changed.iter().map(|(p, l)| (*p, l.as_str())).collect();
            let cmd = write_endpoints_command(&files);
            match inner.rt.exec(id, &cmd, Duration::from_secs(5)).await {
                Ok(r) if r.exit_code == 0 => {
                    for (port, lines) in changed {
                        tracing::debug!(
                            "Service {}/{} port {port}: endpoints {:?}",
                            svc.namespace,
                            svc.name,
                            lines.lines().collect::<Vec<_>>()
                        );
                        written.insert(port, lines);
                    }
                    shared.updates.fetch_add(1, Ordering::Relaxed);
                }
                Ok(r) => tracing::debug!("proxy {}: update failed: {}", svc.name, r.output),
                Err(e) => tracing::debug!("proxy {}: update failed: {e}", svc.name),
            }
        }
        tokio::time::sleep(FEED_POLL).await;
    }
}
