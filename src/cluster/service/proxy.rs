//! A Service proxy container: set up in the background when its Services are applied (the
//! apply itself is an API call, as on a cluster, where kube-proxy programs a Service's routing
//! asynchronously too), fed with the Ready endpoints while the cluster runs, removed with its
//! Services.
//!
//! Services applied in the same step share one proxy when their TCP ports differ (and none is
//! a hook, which its delete policy may remove mid-sync): their names resolve at the same moment
//! either way (the step's applies are milliseconds apart, and the proxy is set up once the
//! step's pods have started), and each proxy container costs the machine about a third of a
//! second of CPU to create and start, taken on 2 cores from the pods starting alongside.
use super::{
    endpoint_lines, ports_disjoint, proxy_command, write_endpoints_command, Endpoint, ServiceSpec,
};
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
    /// The Services served, and whether another may still join (until the setup begins).
    members: Mutex<Members>,
}

#[derive(Debug, Default)]
struct Members {
    services: Vec<ServiceSpec>,
    closed: bool,
}

/// A proxy being set up or running, and the task that keeps its endpoints current. Clones are
/// handles to the same proxy (one per Service it serves).
#[derive(Debug, Clone)]
pub(crate) struct ProxyHandle(Arc<Proxy>);

#[derive(Debug)]
struct Proxy {
    /// The container's name (Docker takes a name wherever it takes an id).
    container: String,
    shared: Arc<Shared>,
    stop: CancellationToken,
    /// `true` once the setup is over (succeeded or failed).
    set_up: watch::Receiver<bool>,
    /// The engine's step its Services were applied in.
    step: u64,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl ProxyHandle {
    /// The container's name.
    pub fn container(&self) -> &str {
        &self.0.container
    }

    /// The engine's step its Services were applied in.
    pub fn step(&self) -> u64 {
        self.0.step
    }

    /// Whether `other` is a handle to the same proxy.
    pub fn same(&self, other: &ProxyHandle) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Adds `svc` to the Services this proxy will serve, when its setup has not begun and no
    /// TCP port is taken.
    fn try_join(&self, svc: &ServiceSpec) -> bool {
        let mut m = self
            .0
            .shared
            .members
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if m.closed || !m.services.iter().all(|s| ports_disjoint(s, svc)) {
            return false;
        }
        m.services.push(svc.clone());
        true
    }

    /// Stops updating the endpoints (the container keeps running). A setup in flight completes
    /// first, so that the container it creates is recorded and removed with the rest.
    pub fn stop(&self) {
        self.0.stop.cancel();
    }

    /// Turns `true` once the setup is over (the container exists, or creating it failed).
    pub fn set_up_signal(&self) -> watch::Receiver<bool> {
        self.0.set_up.clone()
    }

    /// Stops the task and waits for it; the container's id when it was created.
    pub async fn stopped(&self) -> Option<String> {
        self.0.stop.cancel();
        let task = self.0.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
        self.0.shared.id.get().cloned()
    }

    /// How long creating and starting the container took (`None` while in flight or failed).
    pub fn setup(&self) -> Option<Duration> {
        *self
            .0
            .shared
            .setup
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Endpoint updates so far.
    pub fn updates(&self) -> usize {
        self.0.shared.updates.load(Ordering::Relaxed)
    }
}

/// The proxy's Docker container name.
pub(crate) fn container_name(app: &str, svc: &ServiceSpec) -> String {
    format!("syncsim-{app}-svc-{}-{}", svc.namespace, svc.name)
}

/// Fails when the proxy image is missing (a fault of the machine, named with its fix).
pub(crate) async fn check_image(inner: &Inner, svc: &ServiceSpec) -> Result<(), Error> {
    let image = inner.opts.service_proxy_image.clone();
    match inner.ensure_image(&image, Some("Never")).await {
        Ok(_) => Ok(()),
        Err(error) => Err(Error::ServiceProxyImage {
            service: format!("{}/{}", svc.namespace, svc.name),
            image,
            error,
        }),
    }
}

/// A proxy for `svc`: the first of `open` that belongs to the current step, has not begun its
/// setup and has no TCP port of `svc`, else a new one whose setup starts in the background,
/// along with the task that rewrites its endpoint files whenever the Ready pods its Services
/// select change. Call [`check_image`] first: this does not wait, so that choosing from `open`
/// and recording the choice happen under one lock of the applied Services.
pub(crate) fn start(inner: &Arc<Inner>, svc: ServiceSpec, open: Vec<ProxyHandle>) -> ProxyHandle {
    let step = inner.step();
    if let Some(open) = open
        .into_iter()
        .find(|p| p.step() == step && p.try_join(&svc))
    {
        return open;
    }
    let image = inner.opts.service_proxy_image.clone();
    let name = container_name(&inner.opts.app, &svc);
    let shared = Arc::new(Shared {
        members: Mutex::new(Members {
            services: vec![svc],
            closed: false,
        }),
        ..Shared::default()
    });
    let stop = CancellationToken::new();
    let (done_tx, set_up) = watch::channel(false);
    let step = inner.step();
    let task = tokio::spawn(run(
        inner.clone(),
        step,
        image,
        name.clone(),
        shared.clone(),
        stop.clone(),
        done_tx,
    ));
    ProxyHandle(Arc::new(Proxy {
        container: name,
        shared,
        stop,
        set_up,
        step,
        task: Mutex::new(Some(task)),
    }))
}

/// The proxy's task: setup, then feeding until stopped.
async fn run(
    inner: Arc<Inner>,
    step: u64,
    image: String,
    name: String,
    shared: Arc<Shared>,
    stop: CancellationToken,
    done: watch::Sender<bool>,
) {
    let ready = give_way(&inner, step, &stop).await;
    let services = {
        let mut m = shared.members.lock().unwrap_or_else(|e| e.into_inner());
        m.closed = true;
        m.services.clone()
    };
    if !ready {
        // Stopped before it was set up (teardown): nothing to create.
        let _ = done.send(true);
        return;
    }
    let started = Instant::now();
    let setup = set_up(&inner, &services, image, &name, &shared).await;
    let _ = done.send(true);
    match setup {
        Ok(()) => {
            let took = started.elapsed();
            *shared.setup.lock().unwrap_or_else(|e| e.into_inner()) = Some(took);
            let names: Vec<String> = services
                .iter()
                .map(|s| format!("{}/{}", s.namespace, s.name))
                .collect();
            tracing::debug!(
                "Service proxy {name}: serves {} (set up in {} ms)",
                names.join(", "),
                took.as_millis()
            );
            tokio::select! {
                () = stop.cancelled() => {}
                () = feed(&inner, &name, &services, &shared) => {}
            }
        }
        Err(e) => {
            for svc in &services {
                tracing::warn!(
                    "Service {}/{}: its proxy could not start, so its name does not resolve: {}",
                    svc.namespace,
                    svc.name,
                    crate::error::render_chain(&e)
                );
            }
        }
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
    services: &[ServiceSpec],
    image: String,
    name: &str,
    shared: &Shared,
) -> Result<(), crate::runtime::Error> {
    // A proxy left by a kept environment is replaced: it was named after one of its Services.
    for svc in services {
        inner
            .rt
            .remove_container(&container_name(&inner.opts.app, svc))
            .await?;
    }
    let first = &services[0];
    let spec = ContainerSpec {
        name: name.to_string(),
        image,
        entrypoint: Some(proxy_command(services)),
        hostname: Some(first.name.clone()),
        network: NetworkAttachment::Network {
            name: inner.network.clone(),
            aliases: services.iter().flat_map(|s| s.names("")).collect(),
        },
        labels: inner.labels(&format!("/Service/{}/{}", first.namespace, first.name)),
        ..ContainerSpec::default()
    };
    let id = inner.create_container(&spec).await?;
    let _ = shared.id.set(id.clone());
    inner.rt.start_container(&id).await
}

/// Keeps the proxy's endpoint files equal to the Ready pods its Services select.
async fn feed(inner: &Inner, id: &str, services: &[ServiceSpec], shared: &Shared) {
    // The proxy starts with an empty file per port (see `proxy_command`).
    let mut written: BTreeMap<u16, String> = services
        .iter()
        .flat_map(ServiceSpec::tcp_ports)
        .map(|p| (p.port, String::new()))
        .collect();
    loop {
        let pods: Vec<Endpoint> = inner.endpoints();
        let changed: Vec<(&ServiceSpec, u16, String)> = services
            .iter()
            .flat_map(|svc| {
                endpoint_lines(svc, &pods)
                    .into_iter()
                    .map(move |(port, lines)| (svc, port, lines))
            })
            .filter(|(_, port, lines)| written.get(port) != Some(lines))
            .collect();
        if !changed.is_empty() {
            let files: Vec<(u16, &str)> =
                changed.iter().map(|(_, p, l)| (*p, l.as_str())).collect();
            let cmd = write_endpoints_command(&files);
            match inner.rt.exec(id, &cmd, Duration::from_secs(5)).await {
                Ok(r) if r.exit_code == 0 => {
                    for (svc, port, lines) in changed {
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
                Ok(r) => tracing::debug!("proxy {id}: update failed: {}", r.output),
                Err(e) => tracing::debug!("proxy {id}: update failed: {e}"),
            }
        }
        tokio::time::sleep(FEED_POLL).await;
    }
}
