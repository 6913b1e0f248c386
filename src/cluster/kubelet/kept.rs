//! A pod in a kept environment: what the record keeps of it, and re-attaching to it.
use super::{container::Ctr, sandbox, translate, PodInput, PodPhase, RunningPod};
use crate::{
    cluster::{probe::Probe, sim::Inner},
    state::{ContainerRecord, PodRecord},
};

impl RunningPod {
    /// Re-attaches to a pod of a kept environment: its containers are the recorded ones
    /// (matched by Kubernetes container name). Running containers count as Ready at once (they
    /// passed their probes when kept; probes keep running from now on); missing ones are `gone`.
    pub async fn adopt(inner: &Inner, input: PodInput, rec: &PodRecord) -> RunningPod {
        if rec.containers.is_empty() && rec.init_containers.is_empty() {
            // The pod never started (it was waiting for a ConfigMap, Secret, key or image):
            // the kubelet keeps trying, so this one starts once what it lacks exists.
            return Self::start(inner, input).await;
        }
        inner.reach_pods().await;
        let plan = match translate(inner, &input) {
            Ok(p) => p,
            Err(e) => {
                return Self::failed_to_start(&input, "CreateContainerConfigError", e.to_string())
            }
        };
        let mut pod = RunningPod::new(&input.pod_name, plan.restart_policy, PodPhase::Running);
        pod.init_ids.clone_from(&rec.init_containers);
        pod.volumes.clone_from(&rec.volumes);
        if let Some(id) = &rec.sandbox {
            pod.sandbox = sandbox::inspect(inner, id).await;
            pod.host_ip = pod.sandbox.as_ref().and_then(|sb| sb.ip.clone());
        }
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
            let mut ctr = Ctr::new(c.name, id, probes, inner.opts.timing);
            ctr.on_started();
            if !ctr.gone {
                ctr.watch(inner, &pod.exited);
            }
            ctr.startup = None;
            ctr.ready = true;
            pod.containers.push(ctr);
        }
        pod
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
            sandbox: self.sandbox.as_ref().map(|sb| sb.id.clone()),
        }
    }
}
