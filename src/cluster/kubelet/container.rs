//! One main container of a running pod: its state, restarts and probes.
use crate::{
    cluster::{
        pod::PostStart,
        probe::{self, Observation, Probe, ProbeKind, ProbeStatus, ProbeTracker, Timing},
        sim::Inner,
    },
    runtime::{ContainerState, ContainerStatus},
};
use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, SystemTime},
};
use tokio::{sync::Notify, time::Instant};

/// One main container of a running pod.
#[derive(Debug)]
pub(super) struct Ctr {
    pub(super) name: String,
    pub(super) id: String,
    pub(super) state: ContainerStatus,
    pub(super) started_at: Instant,
    pub(super) timing: Timing,
    /// When this start's startup probe passed (since the start), for the cluster prediction.
    started_probe_passed: Option<Duration>,
    /// Readiness of this start was observed already (recorded once per start).
    observed_ready: bool,
    pub(super) readiness: Option<ProbeTracker>,
    pub(super) liveness: Option<ProbeTracker>,
    pub(super) startup: Option<ProbeTracker>,
    pub(super) probes: Vec<Probe>,
    /// Run after every start (`lifecycle.postStart`), and the pod as its messages name it
    /// (`name_namespace`).
    pub(super) post_start: Option<(PostStart, String)>,
    pub(super) ready: bool,
    pub(super) restarts: u32,
    /// When a crashed container may be started again (CrashLoopBackOff meanwhile).
    pub(super) restart_at: Option<Instant>,
    pub(super) last_exit: Option<(i64, bool)>,
    /// Exit of this container counted as a Job failure already (OnFailure restarts).
    pub(super) failures_untaken: u32,
    pub(super) done: bool,
    /// The Docker container no longer exists (removed behind our back): only a new pod helps.
    pub(super) gone: bool,
    /// The last inspection of this start, while it runs: a running container is inspected
    /// again only when Docker says it stopped, or every [`REINSPECT`] (an inspection every
    /// poll of every container was a quarter of the engine's CPU on 2 cores).
    inspected: Option<(Instant, ContainerState)>,
    /// Set by [`Self::waiter`] when the container stops.
    stopped: Arc<AtomicBool>,
    /// Waits on Docker for this start to end (wait API); aborted on restart and with the pod.
    waiter: Option<tokio::task::JoinHandle<()>>,
    /// Whom the waiter wakes (the pod's controller), kept for restarts.
    wake: Option<Arc<Notify>>,
}

/// How long a postStart command may run (the kubelet waits without a limit; a sync that
/// waits this long has failed anyway).
const POST_START_LIMIT: Duration = Duration::from_secs(600);

/// How often a running container that Docker has not reported stopped is inspected anyway.
const REINSPECT: Duration = Duration::from_secs(1);

impl Drop for Ctr {
    fn drop(&mut self) {
        if let Some(w) = &self.waiter {
            w.abort();
        }
    }
}

impl Ctr {
    /// A container known by `id` (`None`: it was removed behind our back), not started yet.
    pub(super) fn new(
        name: String,
        id: Option<String>,
        probes: Vec<Probe>,
        timing: Timing,
    ) -> Self {
        Ctr {
            timing,
            started_probe_passed: None,
            observed_ready: false,
            name,
            gone: id.is_none(),
            id: id.unwrap_or_default(),
            state: ContainerStatus::Created,
            started_at: Instant::now(),
            readiness: None,
            liveness: None,
            startup: None,
            probes,
            post_start: None,
            ready: false,
            restarts: 0,
            restart_at: None,
            last_exit: None,
            failures_untaken: 0,
            done: false,
            inspected: None,
            stopped: Default::default(),
            waiter: None,
            wake: None,
        }
    }

    /// Starts watching this start of the container: Docker's wait API sets [`Self::stopped`]
    /// and wakes the pod's controller (`exited`) the moment it stops.
    pub(super) fn watch(&mut self, inner: &Inner, exited: &Arc<Notify>) {
        if let Some(w) = self.waiter.take() {
            w.abort();
        }
        self.inspected = None;
        self.wake = Some(exited.clone());
        self.stopped.store(false, Ordering::SeqCst);
        let (rt, id) = (inner.rt.clone(), self.id.clone());
        let (stopped, exited) = (self.stopped.clone(), exited.clone());
        self.waiter = Some(tokio::spawn(async move {
            let _ = rt.wait_exit(&id).await;
            stopped.store(true, Ordering::SeqCst);
            exited.notify_one();
        }));
    }

    /// Whether this container is watched by [`Self::watch`].
    pub(super) fn watched(&self) -> bool {
        self.waiter.is_some()
    }

    /// The container's state: the cached inspection while it runs, is watched, has not been
    /// reported stopped and is younger than [`REINSPECT`]; else a fresh one.
    pub(super) async fn state(
        &mut self,
        inner: &Inner,
    ) -> Result<ContainerState, crate::runtime::Error> {
        if let Some((at, s)) = &self.inspected {
            if self.waiter.is_some()
                && !self.stopped.load(Ordering::SeqCst)
                && at.elapsed() < REINSPECT
            {
                return Ok(s.clone());
            }
        }
        let s = inner.rt.inspect_container(&self.id).await?;
        self.inspected =
            (s.status == ContainerStatus::Running).then(|| (Instant::now(), s.clone()));
        Ok(s)
    }

    pub(super) fn on_started(&mut self) {
        let now = Instant::now();
        self.started_at = now;
        self.state = ContainerStatus::Running;
        self.ready = false;
        self.startup = None;
        self.readiness = None;
        self.liveness = None;
        self.started_probe_passed = None;
        self.observed_ready = false;
        for p in &self.probes {
            let t = Some(ProbeTracker::with_timing(p, now, self.timing));
            match p.kind {
                ProbeKind::Startup => self.startup = t,
                ProbeKind::Readiness => self.readiness = t,
                ProbeKind::Liveness => self.liveness = t,
            }
        }
        if self.readiness.is_none() && self.startup.is_none() {
            // No probe: Ready once running.
            self.ready = true;
        }
    }

    /// When a probe of this container is due next (`None`: nothing to probe).
    pub(super) fn next_probe_at(&self) -> Option<Instant> {
        if let Some(t) = &self.startup {
            if *t.status() != ProbeStatus::Ready {
                return (!t.is_settled()).then(|| t.next_probe_at());
            }
        }
        [&self.readiness, &self.liveness]
            .into_iter()
            .flatten()
            .filter(|t| !t.is_settled())
            .map(ProbeTracker::next_probe_at)
            .min()
    }

    /// Records, the first time this start is Ready, how much later the kubelet's schedule would
    /// have seen it (see `probe/timing.rs`). `passed`: when the passing probe began.
    fn observe_ready(&mut self, inner: &Inner, passed: Instant) {
        if self.observed_ready {
            return;
        }
        self.observed_ready = true;
        let since_start = passed.saturating_duration_since(self.started_at);
        tracing::debug!(
            "container {}: Ready, probe passed {} ms after its start",
            self.id,
            since_start.as_millis()
        );
        let startup = self
            .started_probe_passed
            .map(|at| (probe_of(&self.probes, ProbeKind::Startup), at));
        let readiness = self
            .readiness
            .is_some()
            .then(|| (probe_of(&self.probes, ProbeKind::Readiness), since_start));
        let extra = probe::kubelet_extra(startup, readiness);
        let at = SystemTime::now() - Instant::now().saturating_duration_since(passed);
        inner.observe(Observation::Ready { at, extra });
    }

    /// Runs the probes that are due; a failed liveness/startup probe restarts the container.
    pub(super) async fn run_probes(&mut self, inner: &Inner, state: &ContainerState) {
        let now = Instant::now();
        if let Some(t) = self.startup.as_mut() {
            if *t.status() != ProbeStatus::Ready {
                if now >= t.next_probe_at() {
                    let began = Instant::now();
                    let r = probe::run_once(
                        inner.rt.as_ref(),
                        state,
                        probe_of(&self.probes, ProbeKind::Startup),
                    )
                    .await;
                    t.record(Instant::now(), &r);
                    if *t.status() == ProbeStatus::Ready {
                        self.started_probe_passed =
                            Some(began.saturating_duration_since(self.started_at));
                    }
                }
                match t.status() {
                    ProbeStatus::Failed { message } => {
                        tracing::debug!("{}: {message}", self.name);
                        self.restart_now(inner).await;
                        return;
                    }
                    ProbeStatus::Ready => {
                        // Started: readiness and liveness begin now.
                        let now = Instant::now();
                        if let Some(p) = self.probes.iter().find(|p| p.kind == ProbeKind::Readiness)
                        {
                            self.readiness = Some(ProbeTracker::with_timing(p, now, self.timing));
                        } else {
                            self.ready = true;
                            self.observe_ready(inner, now);
                        }
                        if let Some(p) = self.probes.iter().find(|p| p.kind == ProbeKind::Liveness)
                        {
                            self.liveness = Some(ProbeTracker::with_timing(p, now, self.timing));
                        }
                    }
                    _ => return,
                }
            }
        }
        if let Some(t) = self.readiness.as_mut() {
            if now >= t.next_probe_at() {
                // A probe that failed before: the check may have passed right after it ended.
                let failed_before = t.last_probe().filter(|_| *t.status() != ProbeStatus::Ready);
                let began = Instant::now();
                let r = probe::run_once(
                    inner.rt.as_ref(),
                    state,
                    probe_of(&self.probes, ProbeKind::Readiness),
                )
                .await;
                let ended = Instant::now();
                t.record(ended, &r);
                self.ready = *t.status() == ProbeStatus::Ready;
                if let (true, false, Some(failed)) =
                    (self.ready, self.observed_ready, failed_before)
                {
                    let lag = ended.saturating_duration_since(failed);
                    tracing::debug!(
                        "container {}: readiness seen {} ms after the last failing probe ended \
                         (the passing probe took {} ms)",
                        self.id,
                        lag.as_millis(),
                        ended.saturating_duration_since(began).as_millis()
                    );
                    inner.observe(Observation::ReadinessLag { lag });
                }
                if self.ready {
                    self.observe_ready(inner, began);
                }
            }
        }
        if let Some(t) = self.liveness.as_mut() {
            if now >= t.next_probe_at() {
                let r = probe::run_once(
                    inner.rt.as_ref(),
                    state,
                    probe_of(&self.probes, ProbeKind::Liveness),
                )
                .await;
                if let ProbeStatus::Failed { message } = t.record(Instant::now(), &r) {
                    tracing::debug!("{}: {message}", self.name);
                    self.restart_now(inner).await;
                }
            }
        }
    }

    /// Runs the postStart handler of this start, as the kubelet does before it goes on: when
    /// it fails the container is killed (`FailedPostStartHook`), and restarted per the pod's
    /// policy like any container that stopped.
    pub(super) async fn run_post_start(&mut self, inner: &Inner) {
        let Some((handler, pod)) = self.post_start.clone() else {
            return;
        };
        let failed = match &handler {
            PostStart::Sleep(d) => {
                tokio::time::sleep(*d).await;
                None
            }
            PostStart::Exec(cmd) => {
                let run = inner.rt.exec(&self.id, cmd, POST_START_LIMIT);
                let error = match tokio::time::timeout(POST_START_LIMIT, run).await {
                    Err(_) => Some(format!("did not finish within {POST_START_LIMIT:?}")),
                    Ok(Err(e)) => Some(e.to_string()),
                    Ok(Ok(r)) if r.exit_code == 0 => None,
                    Ok(Ok(r)) => Some(format!(
                        "command '{}' exited with {}: , message: {:?}",
                        cmd.join(" "),
                        r.exit_code,
                        r.output
                    )),
                };
                // pkg/kubelet/lifecycle/handlers.go, `Run`.
                error.map(|e| {
                    format!(
                        "Exec lifecycle hook ([{}]) for Container {:?} in Pod {pod:?} failed - error: {e}",
                        cmd.join(" "),
                        self.name
                    )
                })
            }
        };
        if let Some(message) = failed {
            tracing::warn!("FailedPostStartHook: {message}");
            let _ = inner
                .rt
                .stop_container(&self.id, Duration::from_secs(1))
                .await;
        }
    }

    /// Kubelet kills a container whose liveness/startup probe failed; it is then restarted.
    async fn restart_now(&mut self, inner: &Inner) {
        let _ = inner
            .rt
            .stop_container(&self.id, Duration::from_secs(1))
            .await;
        self.restarts += 1;
        if inner.rt.start_container(&self.id).await.is_ok() {
            self.on_started();
            if let Some(wake) = self.wake.clone() {
                self.watch(inner, &wake);
            }
            self.run_post_start(inner).await;
        }
    }
}

fn probe_of(probes: &[Probe], kind: ProbeKind) -> &Probe {
    probes
        .iter()
        .find(|p| p.kind == kind)
        .expect("tracker exists only for a parsed probe")
}
