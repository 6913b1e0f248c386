//! The kubelet: one pod's life on the container runtime.
//!
//! `start` creates the pod's volumes, runs its init containers to completion in order, then
//! creates and starts its containers (the first joins the app network with the pod's DNS aliases,
//! the others share its network namespace). `poll` inspects the containers, runs probes through
//! [`super::probe`] and restarts containers per `restartPolicy` with backoff. Decisions come from
//! plain data (`ContainerState`, probe trackers); only `start`/`poll`/`kill` touch the runtime.
use super::{
    pod::{self, ConfigKind, PodContext, PodVolumeSource, RestartPolicy},
    probe::{self, Probe, ProbeKind, ProbeStatus, ProbeTracker},
    sim::Inner,
};
use crate::{
    manifest::{Object, ObjectKey},
    runtime::{ContainerState, ContainerStatus, ListedKind},
    state::{ContainerRecord, PodRecord},
};
use k8s_openapi::api::core::v1::PodSpec;
use serde_json::{json, Value};
use std::{collections::BTreeMap, time::Duration};
use tokio::time::Instant;

/// What a controller asks the kubelet to run.
#[derive(Debug, Clone)]
pub(crate) struct PodInput {
    pub owner: ObjectKey,
    pub pod_name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub spec: PodSpec,
    /// Volume name in the pod spec → Docker volume (StatefulSet volumeClaimTemplates).
    pub claim_volumes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl PodPhase {
    fn as_str(self) -> &'static str {
        match self {
            PodPhase::Pending => "Pending",
            PodPhase::Running => "Running",
            PodPhase::Succeeded => "Succeeded",
            PodPhase::Failed => "Failed",
        }
    }
}

/// One main container of a running pod.
#[derive(Debug)]
struct Ctr {
    name: String,
    id: String,
    state: ContainerStatus,
    started_at: Instant,
    readiness: Option<ProbeTracker>,
    liveness: Option<ProbeTracker>,
    startup: Option<ProbeTracker>,
    probes: Vec<Probe>,
    ready: bool,
    restarts: u32,
    /// When a crashed container may be started again (CrashLoopBackOff meanwhile).
    restart_at: Option<Instant>,
    last_exit: Option<(i64, bool)>,
    /// Exit of this container counted as a Job failure already (OnFailure restarts).
    failures_untaken: u32,
    done: bool,
    /// The Docker container no longer exists (removed behind our back): only a new pod helps.
    gone: bool,
}

/// A pod realised as containers.
#[derive(Debug)]
pub(crate) struct RunningPod {
    name: String,
    restart: RestartPolicy,
    containers: Vec<Ctr>,
    init_ids: Vec<String>,
    volumes: Vec<String>,
    phase: PodPhase,
    /// Why the pod could not start (`CreateContainerConfigError`, init failure…).
    error: Option<(String, String)>,
    host_ip: Option<String>,
}

fn restart_policy(spec: &PodSpec) -> RestartPolicy {
    match spec.restart_policy.as_deref() {
        Some("Never") => RestartPolicy::Never,
        Some("OnFailure") => RestartPolicy::OnFailure,
        _ => RestartPolicy::Always,
    }
}

impl RunningPod {
    fn failed_to_start(input: &PodInput, reason: &str, message: String) -> Self {
        RunningPod {
            name: input.pod_name.clone(),
            restart: restart_policy(&input.spec),
            containers: Vec::new(),
            init_ids: Vec::new(),
            volumes: Vec::new(),
            phase: if restart_policy(&input.spec) == RestartPolicy::Always {
                PodPhase::Pending
            } else {
                PodPhase::Failed
            },
            error: Some((reason.to_string(), message)),
            host_ip: None,
        }
    }

    /// Creates and starts the pod. Never fails: a pod that cannot start reports why in its
    /// status (as Kubernetes does), and Job pods that cannot start count as failed.
    pub async fn start(inner: &Inner, input: PodInput) -> RunningPod {
        let resource = format!("/Pod/{}/{}", input.namespace, input.pod_name);
        let mut plan = match translate(inner, &input) {
            Ok(p) => p,
            Err(e) => return Self::failed_to_start(&input, "CreateContainerConfigError", e),
        };
        for w in &plan.warnings {
            tracing::warn!("pod {}: {w}", input.pod_name);
        }
        let mut pod = RunningPod {
            name: input.pod_name.clone(),
            restart: plan.restart_policy,
            containers: Vec::new(),
            init_ids: Vec::new(),
            volumes: Vec::new(),
            phase: PodPhase::Pending,
            error: None,
            host_ip: None,
        };
        for v in &plan.volumes {
            if let Err(e) = inner.create_volume(&v.docker_name, &resource).await {
                pod.fail_start("CreateContainerError", e);
                return pod;
            }
            match v.source {
                // Removed with the pod.
                PodVolumeSource::EmptyDir => pod.volumes.push(v.docker_name.clone()),
                // Kept: owned by the PVC (removed at teardown through the ledger).
                PodVolumeSource::Claim { .. } => {}
            }
        }
        // Init containers, in order, each to completion.
        for init in &plan.init_containers {
            let spec = &init.spec;
            let id = match inner.rt.create_container(spec).await {
                Ok(id) => id,
                Err(e) => {
                    pod.fail_start("CreateContainerError", crate::error::render_chain(&e));
                    return pod;
                }
            };
            inner.ledger.record(ListedKind::Container, &id);
            pod.init_ids.push(id.clone());
            if let Err(e) = inner.rt.start_container(&id).await {
                pod.fail_start("RunContainerError", crate::error::render_chain(&e));
                return pod;
            }
            loop {
                match inner.rt.inspect_container(&id).await {
                    Ok(ContainerState {
                        status: ContainerStatus::Exited { code: 0, .. },
                        ..
                    }) => break,
                    Ok(ContainerState {
                        status: ContainerStatus::Exited { code, .. },
                        ..
                    }) => {
                        pod.fail_start(
                            "Init:Error",
                            format!("init container `{}` exited with code {code}", init.name),
                        );
                        return pod;
                    }
                    Ok(_) => tokio::time::sleep(inner.opts.poll_interval).await,
                    Err(e) => {
                        pod.fail_start("Init:Error", crate::error::render_chain(&e));
                        return pod;
                    }
                }
            }
        }
        // Main containers: the first owns the network namespace.
        for i in 0..plan.containers.len() {
            let c = plan.containers[i].clone();
            let id = match inner.rt.create_container(&c.spec).await {
                Ok(id) => id,
                Err(e) => {
                    pod.fail_start("CreateContainerError", crate::error::render_chain(&e));
                    return pod;
                }
            };
            inner.ledger.record(ListedKind::Container, &id);
            if i == 0 {
                plan.join_first(&id);
            }
            let probes: Vec<Probe> = [c.probes.startup, c.probes.readiness, c.probes.liveness]
                .into_iter()
                .flatten()
                .collect();
            pod.containers.push(Ctr::new(c.name, Some(id), probes));
        }
        for i in 0..pod.containers.len() {
            let id = pod.containers[i].id.clone();
            if let Err(e) = inner.rt.start_container(&id).await {
                pod.fail_start("RunContainerError", crate::error::render_chain(&e));
                return pod;
            }
            pod.containers[i].on_started();
        }
        pod.phase = PodPhase::Running;
        pod
    }

    fn fail_start(&mut self, reason: &str, message: String) {
        tracing::debug!("pod {} failed to start: {reason}: {message}", self.name);
        self.error = Some((reason.to_string(), message));
        self.phase = if self.restart == RestartPolicy::Always {
            PodPhase::Pending
        } else {
            PodPhase::Failed
        };
    }

    /// Observes containers, runs due probes, restarts per policy.
    pub async fn poll(&mut self, inner: &Inner) {
        if matches!(self.phase, PodPhase::Succeeded | PodPhase::Failed)
            || self.containers.is_empty()
        {
            return;
        }
        let restart = self.restart;
        // A container that could not be started is retried with back-off, as the kubelet does
        // (Job pods, whose restart policy is not Always, failed instead).
        let retry_start = restart == RestartPolicy::Always
            && matches!(&self.error, Some((reason, _)) if reason == "RunContainerError");
        for c in self.containers.iter_mut() {
            if c.done {
                continue;
            }
            let state = match inner.rt.inspect_container(&c.id).await {
                Ok(s) => s,
                Err(e) => {
                    // Removed behind our back (fault injection, `docker rm`): the pod fails.
                    c.gone = true;
                    c.state = ContainerStatus::Exited {
                        code: 137,
                        oom_killed: false,
                    };
                    c.last_exit = Some((137, false));
                    c.done = restart != RestartPolicy::Always;
                    tracing::debug!("container {} gone: {e}", c.id);
                    continue;
                }
            };
            if self.host_ip.is_none() {
                self.host_ip = state.ip.clone();
            }
            c.state = state.status.clone();
            match &state.status {
                ContainerStatus::Running => c.run_probes(inner, &state).await,
                ContainerStatus::Exited { code, oom_killed } => {
                    c.ready = false;
                    if c.restart_at.is_none() {
                        c.last_exit = Some((*code, *oom_killed));
                        let again = match restart {
                            RestartPolicy::Always => true,
                            RestartPolicy::OnFailure => *code != 0,
                            RestartPolicy::Never => false,
                        };
                        if again {
                            if restart == RestartPolicy::OnFailure {
                                c.failures_untaken += 1;
                            }
                            let exp = c.restarts.min(5);
                            let delay = (inner.opts.restart_backoff_base * 2u32.pow(exp))
                                .min(Duration::from_secs(300));
                            c.restart_at = Some(Instant::now() + delay);
                        } else {
                            c.done = true;
                        }
                    }
                    if c.restart_at.is_some_and(|t| Instant::now() >= t) {
                        c.restart_at = None;
                        c.restarts += 1;
                        if inner.rt.start_container(&c.id).await.is_ok() {
                            c.on_started();
                        }
                    }
                }
                ContainerStatus::Created if retry_start => match c.restart_at {
                    None => {
                        let exp = c.restarts.min(5);
                        let delay = (inner.opts.restart_backoff_base * 2u32.pow(exp))
                            .min(Duration::from_secs(300));
                        c.restart_at = Some(Instant::now() + delay);
                    }
                    Some(t) if Instant::now() >= t => {
                        c.restart_at = None;
                        c.restarts += 1;
                        if inner.rt.start_container(&c.id).await.is_ok() {
                            c.on_started();
                        }
                    }
                    Some(_) => {}
                },
                ContainerStatus::Created => {}
            }
        }
        if retry_start
            && self
                .containers
                .iter()
                .all(|c| c.state == ContainerStatus::Running)
        {
            self.error = None;
            self.phase = PodPhase::Running;
        }
        // Phase.
        if self.restart != RestartPolicy::Always && self.containers.iter().all(|c| c.done) {
            let all_ok = self
                .containers
                .iter()
                .all(|c| matches!(c.last_exit, Some((0, _))));
            self.phase = if all_ok {
                PodPhase::Succeeded
            } else {
                PodPhase::Failed
            };
        }
    }

    /// Re-attaches to a pod of a kept environment: its containers are the recorded ones
    /// (matched by Kubernetes container name). Running containers count as Ready at once (they
    /// passed their probes when kept; probes keep running from now on); missing ones are `gone`.
    pub async fn adopt(inner: &Inner, input: PodInput, rec: &PodRecord) -> RunningPod {
        let plan = match translate(inner, &input) {
            Ok(p) => p,
            Err(e) => return Self::failed_to_start(&input, "CreateContainerConfigError", e),
        };
        let mut pod = RunningPod {
            name: input.pod_name.clone(),
            restart: plan.restart_policy,
            containers: Vec::new(),
            init_ids: rec.init_containers.clone(),
            volumes: rec.volumes.clone(),
            phase: PodPhase::Running,
            error: None,
            host_ip: None,
        };
        for c in plan.containers {
            let id = rec
                .containers
                .iter()
                .find(|r| r.name == c.name)
                .map(|r| r.id.clone());
            let probes: Vec<Probe> = [c.probes.startup, c.probes.readiness, c.probes.liveness]
                .into_iter()
                .flatten()
                .collect();
            let mut ctr = Ctr::new(c.name, id, probes);
            ctr.on_started();
            ctr.startup = None;
            ctr.ready = true;
            pod.containers.push(ctr);
        }
        pod
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A container of the pod was removed: the pod cannot recover by restarting.
    pub fn lost(&self) -> bool {
        self.containers.iter().any(|c| c.gone)
    }

    /// What the environment record keeps of this pod.
    pub fn record(&self) -> PodRecord {
        PodRecord {
            name: self.name.clone(),
            init_containers: self.init_ids.clone(),
            containers: self
                .containers
                .iter()
                .map(|c| ContainerRecord {
                    name: c.name.clone(),
                    id: c.id.clone(),
                })
                .collect(),
            volumes: self.volumes.clone(),
        }
    }

    /// Failures that happened inside the pod (OnFailure restarts) since the last call.
    pub fn take_failures(&mut self) -> u32 {
        self.containers
            .iter_mut()
            .map(|c| std::mem::take(&mut c.failures_untaken))
            .sum()
    }

    /// Kills the pod's containers (Job deadline / backoff limit); they are removed at teardown.
    pub async fn kill(&self, inner: &Inner) {
        for c in &self.containers {
            let _ = inner.rt.stop_container(&c.id, Duration::ZERO).await;
        }
    }

    pub fn phase(&self) -> PodPhase {
        self.phase
    }

    pub fn is_ready(&self) -> bool {
        self.phase == PodPhase::Running
            && !self.containers.is_empty()
            && self.containers.iter().all(|c| c.ready)
    }

    pub fn container_ids(&self) -> Vec<String> {
        self.init_ids
            .iter()
            .chain(self.containers.iter().map(|c| &c.id))
            .cloned()
            .collect()
    }

    pub fn volumes(&self) -> &[String] {
        &self.volumes
    }

    /// The first main container, or the last init container when the pod failed in init.
    pub fn main_container_id(&self) -> Option<String> {
        self.containers
            .first()
            .map(|c| c.id.clone())
            .or_else(|| self.init_ids.last().cloned())
    }

    /// The pod's status as Kubernetes would report it (phase, conditions, containerStatuses).
    pub fn status_json(&self) -> Value {
        let mut statuses = Vec::new();
        for c in &self.containers {
            let state = match (&c.state, c.restart_at) {
                (_, Some(_)) => json!({"waiting": {"reason": "CrashLoopBackOff",
                    "message": format!("back-off restarting failed container {}", c.name)}}),
                (ContainerStatus::Running, _) => json!({"running": {}}),
                (ContainerStatus::Exited { code, oom_killed }, _) => json!({"terminated": {
                    "exitCode": code, "reason": if *oom_killed { "OOMKilled" } else if *code == 0 { "Completed" } else { "Error" }}}),
                (ContainerStatus::Created, _) => {
                    json!({"waiting": {"reason": "ContainerCreating"}})
                }
            };
            let mut s = json!({"name": c.name, "ready": c.ready, "restartCount": c.restarts, "state": state,
                               "containerID": format!("docker://{}", c.id)});
            if let Some((code, oom)) = c.last_exit {
                if c.restarts > 0 || c.restart_at.is_some() {
                    s["lastState"] = json!({"terminated": {"exitCode": code, "reason": if oom { "OOMKilled" } else { "Error" }}});
                }
            }
            statuses.push(s);
        }
        if let Some((reason, message)) = &self.error {
            statuses.push(json!({"name": "(pod)", "ready": false, "restartCount": 0,
                                 "state": {"waiting": {"reason": reason, "message": message}}}));
        }
        let ready = self.is_ready();
        let mut status = json!({
            "phase": self.phase.as_str(),
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            "containerStatuses": statuses,
        });
        if let Some(ip) = &self.host_ip {
            status["podIP"] = json!(ip);
        }
        if self.phase == PodPhase::Failed {
            if let Some((reason, message)) = &self.error {
                status["message"] = json!(format!("{reason}: {message}"));
            }
        }
        status
    }
}

impl Ctr {
    /// A container known by `id` (`None`: it was removed behind our back), not started yet.
    fn new(name: String, id: Option<String>, probes: Vec<Probe>) -> Self {
        Ctr {
            name,
            gone: id.is_none(),
            id: id.unwrap_or_default(),
            state: ContainerStatus::Created,
            started_at: Instant::now(),
            readiness: None,
            liveness: None,
            startup: None,
            probes,
            ready: false,
            restarts: 0,
            restart_at: None,
            last_exit: None,
            failures_untaken: 0,
            done: false,
        }
    }

    fn on_started(&mut self) {
        let now = Instant::now();
        self.started_at = now;
        self.state = ContainerStatus::Running;
        self.ready = false;
        self.startup = None;
        self.readiness = None;
        self.liveness = None;
        for p in &self.probes {
            let t = Some(ProbeTracker::new(p, now));
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

    /// Runs the probes that are due; a failed liveness/startup probe restarts the container.
    async fn run_probes(&mut self, inner: &Inner, state: &ContainerState) {
        let now = Instant::now();
        if let Some(t) = self.startup.as_mut() {
            if *t.status() != ProbeStatus::Ready {
                if now >= t.next_probe_at() {
                    let r = probe::run_once(
                        inner.rt.as_ref(),
                        state,
                        probe_of(&self.probes, ProbeKind::Startup),
                    )
                    .await;
                    t.record(Instant::now(), &r);
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
                            self.readiness = Some(ProbeTracker::new(p, now));
                        } else {
                            self.ready = true;
                        }
                        if let Some(p) = self.probes.iter().find(|p| p.kind == ProbeKind::Liveness)
                        {
                            self.liveness = Some(ProbeTracker::new(p, now));
                        }
                    }
                    _ => return,
                }
            }
        }
        if let Some(t) = self.readiness.as_mut() {
            if now >= t.next_probe_at() {
                let r = probe::run_once(
                    inner.rt.as_ref(),
                    state,
                    probe_of(&self.probes, ProbeKind::Readiness),
                )
                .await;
                t.record(Instant::now(), &r);
                self.ready = *t.status() == ProbeStatus::Ready;
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

    /// Kubelet kills a container whose liveness/startup probe failed; it is then restarted.
    async fn restart_now(&mut self, inner: &Inner) {
        let _ = inner
            .rt
            .stop_container(&self.id, Duration::from_secs(1))
            .await;
        self.restarts += 1;
        if inner.rt.start_container(&self.id).await.is_ok() {
            self.on_started();
        }
    }
}

/// The pod's containers and volumes (synchronous: the lookups borrow a snapshot).
fn translate(inner: &Inner, input: &PodInput) -> Result<pod::PodPlan, String> {
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
            .or_else(|| inner.pvc_volume(&input.namespace, claim))
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
    pod::pod_containers(&input.spec, &ctx).map_err(|e| e.to_string())
}

fn probe_of(probes: &[Probe], kind: ProbeKind) -> &Probe {
    probes
        .iter()
        .find(|p| p.kind == kind)
        .expect("tracker exists only for a parsed probe")
}

/// DNS aliases of a pod: its own name, plus every Service of the desired state whose selector
/// matches the pod's labels (`svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`), plus
/// `<pod>.<svc>…` for headless Services.
pub(crate) fn service_aliases(inner: &Inner, input: &PodInput) -> Vec<String> {
    let mut out = vec![input.pod_name.clone()];
    for svc in &inner.services() {
        let ns = if svc.namespace().is_empty() {
            input.namespace.as_str()
        } else {
            svc.namespace()
        };
        if ns != input.namespace {
            continue;
        }
        let selector = svc
            .value
            .pointer("/spec/selector")
            .and_then(Value::as_object);
        let Some(selector) = selector.filter(|s| !s.is_empty()) else {
            continue;
        };
        let matches = selector
            .iter()
            .all(|(k, v)| input.labels.get(k).map(String::as_str) == v.as_str());
        if !matches {
            continue;
        }
        let name = svc.name();
        let mut push = |prefix: &str| {
            for a in [
                format!("{prefix}{name}"),
                format!("{prefix}{name}.{ns}"),
                format!("{prefix}{name}.{ns}.svc"),
                format!("{prefix}{name}.{ns}.svc.cluster.local"),
            ] {
                if !out.contains(&a) {
                    out.push(a);
                }
            }
        };
        push("");
        let headless = svc.value.pointer("/spec/clusterIP").and_then(Value::as_str) == Some("None");
        if headless {
            push(&format!("{}.", input.pod_name));
        }
    }
    out
}
