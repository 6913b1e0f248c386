//! The kubelet: one pod's life on the container runtime.
//!
//! `start` creates the pod's volumes, runs its init containers to completion in order, then
//! creates and starts its containers (the first joins the app network with the pod's DNS aliases,
//! the others share its network namespace). `poll` inspects the containers, runs probes through
//! [`super::probe`] and restarts containers per `restartPolicy` with backoff. Decisions come from
//! plain data (`ContainerState`, probe trackers); only `start`/`poll`/`kill` touch the runtime.
//!
//! This file holds the pod ([`RunningPod`]); `container.rs` one main container with its
//! restarts and probes, `translate.rs` the pod spec resolved against the cluster's objects,
//! `kept.rs` the pod's record in a kept environment and its adoption, `prepared.rs` and
//! `sandbox.rs` what is done ahead of a pod's step, `cannot_start.rs` what keeps a pod from
//! starting, in the kubelet's words.
mod cannot_start;
mod container;
mod kept;
mod prepared;
mod sandbox;
mod translate;
mod waiting;

use cannot_start::{
    config_error, missing_image, missing_service_account, refused_as_root,
    CREATE_CONTAINER_CONFIG_ERROR, FAILED_CREATE,
};
pub(crate) use prepared::Prepared;
pub use waiting::PodWaiting;
pub(crate) use waiting::WaitingPods;

use super::{
    pod::{self, PodVolumeSource, RestartPolicy},
    probe::Probe,
    sim::Inner,
};
use crate::{
    manifest::ObjectKey,
    runtime::{ContainerState, ContainerStatus},
};
use container::Ctr;
use k8s_openapi::api::core::v1::PodSpec;
use serde_json::{json, Value};
use std::{collections::BTreeMap, time::Duration};
use tokio::time::Instant;
use translate::translate;

/// Sleeps until the next poll of `pods`: `inner.opts.poll_interval` from now, earlier when a
/// probe is due (never less than 2 ms, so a stuck schedule cannot spin), or as soon as a
/// watched container stops (Docker's wait API, see [`Ctr::watch`]).
pub(crate) async fn sleep_until_due<'a>(
    inner: &Inner,
    pods: impl IntoIterator<Item = &'a RunningPod>,
) {
    let now = Instant::now();
    let mut due = now + inner.opts.poll_interval;
    let mut exits = Vec::new();
    for pod in pods {
        if let Some(at) = pod.next_probe_at() {
            due = due.min(at);
        }
        if pod.containers.iter().any(Ctr::watched) {
            exits.push(pod.exited.clone());
        }
    }
    let sleep = tokio::time::sleep_until(due.max(now + Duration::from_millis(2)));
    if exits.is_empty() {
        return sleep.await;
    }
    let any_exit = futures_util::future::select_all(exits.iter().map(|n| Box::pin(n.notified())));
    tokio::select! {
        () = sleep => {}
        _ = any_exit => {}
    }
}

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

/// The kubelet's back-off before restarting a container that stopped `restarts` times before
/// (`CrashLoopBackOff`, init containers too): the base, doubling, at most 5 minutes.
fn back_off(inner: &Inner, restarts: u32) -> Duration {
    (inner.opts.restart_backoff_base * 2u32.pow(restarts.min(5))).min(Duration::from_secs(300))
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
    /// The sandbox holding the pod's network, when it got one (`sandbox.rs`); else the first
    /// main container owns it.
    sandbox: Option<sandbox::Sandbox>,
    /// A pod the kubelet keeps trying to start (missing ConfigMap/Secret/key, image that cannot
    /// be pulled): Pending, never Failed, retried on every poll from `retry_at`.
    retry: Option<Box<PodInput>>,
    retry_at: Instant,
    /// Notified when a main container stops (Docker's wait API, see [`Ctr::watch`]).
    exited: std::sync::Arc<tokio::sync::Notify>,
}

fn restart_policy(spec: &PodSpec) -> RestartPolicy {
    match spec.restart_policy.as_deref() {
        Some("Never") => RestartPolicy::Never,
        Some("OnFailure") => RestartPolicy::OnFailure,
        _ => RestartPolicy::Always,
    }
}

impl RunningPod {
    /// A pod with nothing realised yet.
    fn new(name: &str, restart: RestartPolicy, phase: PodPhase) -> Self {
        RunningPod {
            name: name.to_string(),
            restart,
            containers: Vec::new(),
            init_ids: Vec::new(),
            volumes: Vec::new(),
            phase,
            error: None,
            host_ip: None,
            sandbox: None,
            retry: None,
            retry_at: Instant::now(),
            exited: Default::default(),
        }
    }

    fn failed_to_start(input: &PodInput, reason: &str, message: String) -> Self {
        let restart = restart_policy(&input.spec);
        let phase = if restart == RestartPolicy::Always {
            PodPhase::Pending
        } else {
            PodPhase::Failed
        };
        let mut pod = Self::new(&input.pod_name, restart, phase);
        pod.error = Some((reason.to_string(), message));
        pod
    }

    /// A pod that waits (Pending) until what it lacks appears; the kubelet retries the start.
    fn waiting(inner: &Inner, input: PodInput, reason: &str, message: String) -> Self {
        let mut pod = Self::failed_to_start(&input, reason, message);
        pod.phase = PodPhase::Pending;
        inner.waiting_pods.waiting(PodWaiting {
            owner: input.owner.clone(),
            pod: input.pod_name.clone(),
            reason: reason.to_string(),
            message: pod.error_message().to_string(),
        });
        pod.retry_at = Instant::now() + inner.opts.poll_interval * 4;
        pod.retry = Some(Box::new(input));
        pod
    }

    fn error_message(&self) -> &str {
        self.error.as_ref().map_or("", |(_, m)| m.as_str())
    }

    /// Creates and starts the pod. Never fails: a pod that cannot start reports why in its
    /// status (as Kubernetes does), and Job pods that cannot start count as failed.
    pub async fn start(inner: &Inner, input: PodInput) -> RunningPod {
        let began = Instant::now();
        inner.prepared.begin(&input.pod_name);
        // The API server's admission: the pod is not created while its ServiceAccount is missing.
        if let Some(message) = missing_service_account(inner, &input) {
            return Self::waiting(inner, input, FAILED_CREATE, message);
        }
        // The kubelet's: a pod asking for a sysctl the node does not allow is rejected for good.
        if let Some(message) =
            pod::sysctl::rejection(&input.spec, &inner.opts.allowed_unsafe_sysctls)
        {
            tracing::warn!("pod {}: {message}", input.pod_name);
            let mut pod = Self::new(
                &input.pod_name,
                restart_policy(&input.spec),
                PodPhase::Failed,
            );
            pod.error = Some((pod::sysctl::FORBIDDEN_REASON.to_string(), message));
            return pod;
        }
        let resource = format!("/Pod/{}/{}", input.namespace, input.pod_name);
        inner.reach_pods().await;
        let mut plan = match translate(inner, &input) {
            Ok(p) => p,
            Err(e) => {
                if let Some(message) = config_error(&e, &input.namespace) {
                    return Self::waiting(inner, input, CREATE_CONTAINER_CONFIG_ERROR, message);
                }
                return Self::failed_to_start(&input, CREATE_CONTAINER_CONFIG_ERROR, e.to_string());
            }
        };
        if let Some((reason, message)) = missing_image(inner, &input.spec).await {
            return Self::waiting(inner, input, reason, message);
        }
        if let Some(message) = refused_as_root(inner, &input).await {
            return Self::waiting(inner, input, CREATE_CONTAINER_CONFIG_ERROR, message);
        }
        for w in &plan.warnings {
            tracing::warn!("pod {}: {w}", input.pod_name);
        }
        let mut pod = RunningPod::new(&input.pod_name, plan.restart_policy, PodPhase::Pending);
        for v in &plan.volumes {
            if let Err(e) = inner.create_volume(&v.docker_name, &resource).await {
                pod.fail_start("CreateContainerError", e.to_string());
                return pod;
            }
            match v.source {
                // Removed with the pod.
                PodVolumeSource::EmptyDir => pod.volumes.push(v.docker_name.clone()),
                // Kept: owned by the PVC (removed at teardown through the ledger).
                PodVolumeSource::Claim { .. } => {}
            }
        }
        // Init containers, in order, each to completion. One that fails is started again
        // after a back-off, as the kubelet does, unless the pod never restarts (a Job's).
        for init in &plan.init_containers {
            let mut restarts = 0u32;
            let spec = &init.spec;
            let id = match inner.create_container(spec).await {
                Ok(id) => id,
                Err(e) => {
                    pod.fail_start("CreateContainerError", crate::error::render_chain(&e));
                    return pod;
                }
            };
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
                    }) if plan.restart_policy == RestartPolicy::Never => {
                        pod.fail_start(
                            "Init:Error",
                            format!("init container `{}` exited with code {code}", init.name),
                        );
                        return pod;
                    }
                    Ok(ContainerState {
                        status: ContainerStatus::Exited { code, .. },
                        ..
                    }) => {
                        let delay = back_off(inner, restarts);
                        restarts += 1;
                        // pkg/kubelet/kuberuntime/kuberuntime_manager.go, `doBackOff`.
                        inner.waiting_pods.waiting(PodWaiting {
                            owner: input.owner.clone(),
                            pod: input.pod_name.clone(),
                            reason: "Init:CrashLoopBackOff".into(),
                            message: format!(
                                "back-off {delay:?} restarting failed container={} pod={}_{} (exit code {code})",
                                init.name, input.pod_name, input.namespace
                            ),
                        });
                        tokio::time::sleep(delay).await;
                        if let Err(e) = inner.rt.start_container(&id).await {
                            pod.fail_start("Init:Error", crate::error::render_chain(&e));
                            return pod;
                        }
                    }
                    Ok(_) => {
                        // Woken by the exit itself, else inspected again after a poll.
                        let wait = inner.rt.wait_exit(&id);
                        if let Ok(Err(_)) =
                            tokio::time::timeout(inner.opts.poll_interval, wait).await
                        {
                            tokio::time::sleep(inner.opts.poll_interval).await;
                        }
                    }
                    Err(e) => {
                        pod.fail_start("Init:Error", crate::error::render_chain(&e));
                        return pod;
                    }
                }
            }
        }
        // Main containers: they join the sandbox started ahead, else the first owns the
        // network namespace. A sandbox prepared for a pod that may no longer have one (a
        // Service applied since gives it that Service's name) is removed.
        let wanted = sandbox::spec(inner, &input, &plan);
        let mut sandbox_ahead = false;
        let name = sandbox::name(inner, &input);
        if let Some(id) = inner.prepared.take_as(inner, &name, wanted.as_ref()).await {
            match sandbox::inspect(inner, &id).await {
                Some(sb) => {
                    sandbox_ahead = true;
                    plan.join_sandbox(&sb.id);
                    pod.host_ip = sb.ip.clone();
                    pod.sandbox = Some(sb);
                }
                None => {
                    if inner.rt.remove_container(&id).await.is_ok() {
                        inner.ledger.forget(&id);
                    }
                }
            }
        }
        // A pod of several containers gets its sandbox now if none was started ahead: Docker
        // tears a container's network down when it stops, so containers joined to the first
        // would lose the pod's address at its first restart, where the kubelet restarts a
        // container inside the pod's sandbox and the others keep it.
        if pod.sandbox.is_none() && plan.containers.len() > 1 {
            if let Some(sb) = sandbox::start_for(inner, &input, &plan).await {
                plan.join_sandbox(&sb.id);
                pod.host_ip = sb.ip.clone();
                pod.sandbox = Some(sb);
            }
        }
        for i in 0..plan.containers.len() {
            let c = plan.containers[i].clone();
            let id = match inner.prepared.take(inner, &c.spec).await {
                Some(id) => id,
                None => match inner.create_container(&c.spec).await {
                    Ok(id) => id,
                    Err(e) => {
                        pod.fail_start("CreateContainerError", crate::error::render_chain(&e));
                        return pod;
                    }
                },
            };
            if i == 0 && pod.sandbox.is_none() {
                plan.join_first(&id);
            }
            let probes: Vec<Probe> = [c.probes.startup, c.probes.readiness, c.probes.liveness]
                .into_iter()
                .flatten()
                .collect();
            let mut ctr = Ctr::new(c.name, Some(id), probes, inner.opts.timing);
            ctr.post_start = c
                .post_start
                .map(|h| (h, format!("{}_{}", input.pod_name, input.namespace)));
            pod.containers.push(ctr);
        }
        let created_ms = began.elapsed().as_millis();
        // Services of earlier steps route before this pod starts, as on a cluster.
        super::service::proxies_set_up(inner, inner.applied_in(&input.owner)).await;
        let routed_ms = began.elapsed().as_millis();
        for i in 0..pod.containers.len() {
            let id = pod.containers[i].id.clone();
            if let Err(e) = inner.rt.start_container(&id).await {
                pod.fail_start("RunContainerError", crate::error::render_chain(&e));
                return pod;
            }
            pod.containers[i].on_started();
            // Hear of its exit from Docker at once rather than at an inspection.
            pod.containers[i].watch(inner, &pod.exited);
            // The next container starts once this one's postStart handler is done.
            pod.containers[i].run_post_start(inner).await;
        }
        pod.phase = PodPhase::Running;
        inner.waiting_pods.started(&pod.name);
        tracing::debug!(
            "pod {}: {} container(s) created at {created_ms} ms (ahead: near 0), {}, earlier \
             steps' Services routing at {routed_ms} ms, started at {} ms",
            pod.name,
            pod.containers.len(),
            match (&pod.sandbox, sandbox_ahead) {
                (Some(_), true) => "in a sandbox started ahead",
                (Some(_), false) => "in a sandbox started with it",
                (None, _) => "the first owning the network",
            },
            began.elapsed().as_millis()
        );
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

    /// Observes containers, runs due probes, restarts per policy. A waiting pod retries its
    /// start (it starts once the missing object exists).
    pub async fn poll(&mut self, inner: &Inner) {
        if self.retry.is_some() && Instant::now() >= self.retry_at {
            if let Some(input) = self.retry.take() {
                *self = RunningPod::start(inner, *input).await;
            }
            return;
        }
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
        let exited = self.exited.clone();
        // The pod's network: its sandbox's, else its first container's, which the others
        // joined. Docker gives a container in another's namespace no address or ports of its
        // own, so each is reached at the owner's, as every container of a pod is at the pod IP.
        let mut owner = self
            .sandbox
            .as_ref()
            .map(|sb| (sb.ip.clone(), sb.host_ports.clone()));
        for (i, c) in self.containers.iter_mut().enumerate() {
            if c.done {
                continue;
            }
            let state = match c.state(inner).await {
                Ok(mut s) => {
                    if s.status == ContainerStatus::Running {
                        match &owner {
                            Some((ip, ports)) => {
                                s.ip.clone_from(ip);
                                s.host_ports.clone_from(ports);
                            }
                            None if i == 0 => owner = Some((s.ip.clone(), s.host_ports.clone())),
                            None => {}
                        }
                    }
                    s
                }
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
            // The pod's IP is its running network owner's. Docker may give a restarted
            // container another address (on a cluster the sandbox keeps the pod's IP across
            // container restarts), so it is followed: Services route to where the pod is now,
            // not to an address another container may have taken.
            if state.status == ContainerStatus::Running && state.ip.is_some() {
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
                            c.restart_at = Some(Instant::now() + back_off(inner, c.restarts));
                        } else {
                            c.done = true;
                        }
                    }
                    if c.restart_at.is_some_and(|t| Instant::now() >= t) {
                        c.restart_at = None;
                        c.restarts += 1;
                        if inner.rt.start_container(&c.id).await.is_ok() {
                            c.on_started();
                            c.watch(inner, &exited);
                            c.run_post_start(inner).await;
                        }
                    }
                }
                ContainerStatus::Created if retry_start => match c.restart_at {
                    None => {
                        c.restart_at = Some(Instant::now() + back_off(inner, c.restarts));
                    }
                    Some(t) if Instant::now() >= t => {
                        c.restart_at = None;
                        c.restarts += 1;
                        if inner.rt.start_container(&c.id).await.is_ok() {
                            c.on_started();
                            c.watch(inner, &exited);
                            c.run_post_start(inner).await;
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
            // The kubelet stops a finished pod's sandbox; in the background, as it does.
            if let Some(sb) = self.sandbox.as_mut().filter(|sb| !sb.stopped) {
                sb.stopped = true;
                let (rt, id) = (inner.rt.clone(), sb.id.clone());
                tokio::spawn(async move {
                    let _ = rt.stop_container(&id, Duration::ZERO).await;
                });
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// When a probe of one of the pod's running containers is due next: the controller polls
    /// then rather than on its fixed interval.
    pub fn next_probe_at(&self) -> Option<Instant> {
        if self.phase != PodPhase::Running {
            return None;
        }
        self.containers
            .iter()
            .filter(|c| !c.done && c.restart_at.is_none())
            .filter_map(|c| c.next_probe_at())
            .min()
    }

    /// A container of the pod was removed: the pod cannot recover by restarting.
    pub fn lost(&self) -> bool {
        self.containers.iter().any(|c| c.gone)
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

    /// The pod's IP on the app network, once observed.
    pub fn ip(&self) -> Option<&str> {
        self.host_ip.as_deref()
    }

    pub fn is_ready(&self) -> bool {
        self.phase == PodPhase::Running
            && !self.containers.is_empty()
            && self.containers.iter().all(|c| c.ready)
    }

    /// Every container of the pod, its sandbox last.
    pub fn container_ids(&self) -> Vec<String> {
        self.init_ids
            .iter()
            .chain(self.containers.iter().map(|c| &c.id))
            .chain(self.sandbox.as_ref().map(|sb| &sb.id))
            .cloned()
            .collect()
    }

    /// The sandbox holding the pod's network, when it has one.
    pub fn sandbox_id(&self) -> Option<&str> {
        self.sandbox.as_ref().map(|sb| sb.id.as_str())
    }

    /// The pod's main containers.
    pub fn main_container_ids(&self) -> impl Iterator<Item = String> + '_ {
        self.containers.iter().map(|c| c.id.clone())
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
