//! From a pod template to container specs, with Kubernetes semantics (pure, no I/O).
//!
//! [`pod_containers`] turns a [`PodSpec`] into a [`PodPlan`]: the init containers to run in order,
//! the main containers, the Docker volumes to create and each container's probes. Everything a
//! kubelet resolves before starting a container is resolved here: `command`/`args` and `$(VAR)`
//! expansion, `env`/`envFrom` from values, ConfigMaps, Secrets and the downward API, resources,
//! ConfigMap/Secret/emptyDir/PVC volumes, ports and probes.
//!
//! # Networking
//!
//! The pod's network namespace is owned by its **first main container**: it joins the network
//! with the pod's DNS aliases (the pod name is always one of them), its hostname is the pod name,
//! and every port of the pod (declared container ports and probe ports) is published on it. The
//! other main containers share its namespace through [`NetworkAttachment::Container`], whose id is
//! only known once the first one is created: call [`PodPlan::join_first`] with it.
//! Init containers run before the first main container exists, so each joins the network on its
//! own (hostname = pod name, no aliases, no ports); they cannot reach the main containers over
//! `localhost`, which Kubernetes' ordering does not allow anyway.
//!
//! # Decisions
//!
//! * `status.podIP` (and `status.hostIP`, `status.podIPs`, `status.hostIPs`) resolve to the
//!   **pod name**, known before start: the pod's hostname (Docker maps it to the container's IP
//!   in `/etc/hosts`) and a DNS alias on the network, so binding to it and advertising it both
//!   work. Software that insists on a literal IP will reject it.
//! * Volume types other than configMap, secret, emptyDir, persistentVolumeClaim and projected
//!   (of configMap/secret sources) are an error ([`PodError::UnsupportedVolume`]). emptyDir with
//!   `medium: Memory` becomes an ordinary Docker volume (a warning in [`PodPlan::warnings`]).
//! * ConfigMap and Secret volumes are written as files before start
//!   ([`crate::runtime::FileSpec`]); they are not updated while the container runs and are not
//!   read-only.
//! * The security context's user, groups and `fsGroup` are applied as the kubelet applies them
//!   (`security.rs`): an emptyDir starts empty and world-writable. With
//!   `readOnlyRootFilesystem` the root filesystem is read-only, and the ConfigMap and Secret
//!   volumes it mounts whole become Docker volumes of the pod holding their files (writable,
//!   unlike a cluster's); one that mounts a single file (`subPath`) keeps a writable root
//!   filesystem, with a warning. Capabilities and privilege settings are not applied.
//! * Native sidecars (init containers with `restartPolicy: Always`) become main containers,
//!   started before the regular ones (a warning).
//! * Image rewrites (`FROM=TO`) match the whole image reference exactly.
//!
//! # Secrets
//!
//! Values taken from Secrets never appear in errors, and [`PodContainer`]'s `Debug` redacts env
//! values from Secrets, arguments expanded from them and all file contents.
mod assemble;
mod config;
mod dns;
mod downward;
mod env;
mod error;
mod lifecycle;
pub mod security;
mod service_links;
pub mod sysctl;
#[cfg(test)]
mod test_support;
mod volumes;

pub use assemble::pod_containers;
pub use config::{ClaimLookup, ConfigKind, ObjectLookup};
pub use error::PodError;
pub use k8s::PodSpec;
pub use lifecycle::PostStart;
pub use service_links::service_links;

use super::probe::Probe;
use crate::runtime::{ContainerSpec, Labels, NetworkAttachment};
use k8s_openapi::api::core::v1 as k8s;
use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
};

/// What [`pod_containers`] needs to know besides the spec.
pub struct PodContext<'a> {
    /// `metadata.name` of the pod.
    pub pod_name: String,
    pub namespace: String,
    /// Docker names are `container_prefix + <k8s name>` (containers and emptyDir volumes).
    pub container_prefix: String,
    /// Labels put on every container.
    pub labels: Labels,
    /// The pod's own labels and annotations, for `fieldRef`.
    pub pod_labels: BTreeMap<String, String>,
    pub pod_annotations: BTreeMap<String, String>,
    /// The Docker network of the simulated cluster.
    pub network: String,
    /// DNS aliases of the pod on that network (the pod name is added when missing).
    pub aliases: Vec<String>,
    /// What `spec.nodeName` reads as when the spec has none.
    pub node_name: String,
    /// Node allocatable, used by `resourceFieldRef` when a container has no limit.
    pub node_cpu_millis: i64,
    pub node_memory_bytes: i64,
    pub lookup: &'a ObjectLookup<'a>,
    pub claim_volume: &'a ClaimLookup<'a>,
    /// Image rewrites, `FROM` → `TO`, matched on the whole reference.
    pub images: BTreeMap<String, String>,
    /// Whether the pod's ports are published on the engine's 127.0.0.1, for probes that cannot
    /// dial the pod's address (see `ContainerRuntime::reaches_network`).
    pub publish_ports: bool,
    /// The service variables of the namespace's Services ([`service_links`]), given to every
    /// container unless the pod sets `enableServiceLinks: false`.
    pub service_links: Vec<(String, String)>,
    /// The kubelet's `seccompDefault`: containers without a profile get the runtime's filter.
    pub seccomp_default: bool,
}

impl<'a> PodContext<'a> {
    /// A context with syncsim's defaults: node `syncsim` with 2 CPUs and 4 GiB, no labels, no
    /// aliases besides the pod name, no image rewrites.
    pub fn new(
        pod_name: impl Into<String>,
        namespace: impl Into<String>,
        network: impl Into<String>,
        lookup: &'a ObjectLookup<'a>,
        claim_volume: &'a ClaimLookup<'a>,
    ) -> Self {
        let pod_name = pod_name.into();
        Self {
            container_prefix: format!("{pod_name}-"),
            pod_name,
            namespace: namespace.into(),
            labels: Labels::new(),
            pod_labels: BTreeMap::new(),
            pod_annotations: BTreeMap::new(),
            network: network.into(),
            aliases: Vec::new(),
            node_name: "syncsim".into(),
            node_cpu_millis: 2000,
            node_memory_bytes: 4 << 30,
            lookup,
            claim_volume,
            images: BTreeMap::new(),
            publish_ports: true,
            service_links: Vec::new(),
            seccomp_default: false,
        }
    }
}

/// When a container's image is pulled (`imagePullPolicy`, defaulted as Kubernetes does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

/// `spec.restartPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    Always,
    OnFailure,
    Never,
}

/// The probes of one main container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerProbes {
    pub startup: Option<Probe>,
    pub liveness: Option<Probe>,
    pub readiness: Option<Probe>,
}

/// One container of the pod, ready for the runtime.
#[derive(Clone, PartialEq)]
pub struct PodContainer {
    /// The Kubernetes container name.
    pub name: String,
    pub spec: ContainerSpec,
    pub pull_policy: PullPolicy,
    pub probes: ContainerProbes,
    /// Whether `spec.network` must be pointed at the first main container's id
    /// ([`PodPlan::join_first`]).
    pub netns_from_first: bool,
    /// Run right after the container starts (`lifecycle.postStart`).
    pub post_start: Option<PostStart>,
    /// Env var names whose values came from Secrets (redacted in `Debug`).
    secret_env: BTreeSet<String>,
    /// Whether `entrypoint`/`cmd` were expanded from a secret env var (redacted in `Debug`).
    secret_args: bool,
}

/// A Docker volume the pod uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodVolume {
    /// Docker volume name.
    pub docker_name: String,
    /// The pod's volume name.
    pub volume: String,
    pub source: PodVolumeSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodVolumeSource {
    /// A fresh volume for this pod: create it, remove it with the pod.
    EmptyDir,
    /// The volume backing a PersistentVolumeClaim: reuse it (create if missing), keep it.
    Claim { claim: String },
}

/// Everything needed to run one pod.
#[derive(Debug, Clone, PartialEq)]
pub struct PodPlan {
    /// Run in order, each to successful completion, before the main containers.
    pub init_containers: Vec<PodContainer>,
    /// The first owns the network namespace; the others join it.
    pub containers: Vec<PodContainer>,
    pub volumes: Vec<PodVolume>,
    pub restart_policy: RestartPolicy,
    /// Things syncsim does differently from Kubernetes for this pod.
    pub warnings: Vec<String>,
}

impl PodPlan {
    /// Points every main container but the first at the first one's network namespace, once it
    /// has been created with id `first_id`.
    pub fn join_first(&mut self, first_id: &str) {
        for c in self.containers.iter_mut().filter(|c| c.netns_from_first) {
            c.spec.network = NetworkAttachment::Container {
                id: first_id.to_string(),
            };
        }
    }

    /// The pod's sandbox: a container that only holds the pod's network namespace, as the
    /// kubelet's pause container does. It takes over what the first main container owns
    /// (network, DNS aliases and resolver settings, hostname, `/etc/hosts` entries, sysctls,
    /// published ports) and its labels; `None` for a pod
    /// without main containers.
    pub fn sandbox(&self, name: String, image: &str) -> Option<ContainerSpec> {
        let first = &self.containers.first()?.spec;
        Some(ContainerSpec {
            name,
            image: image.to_string(),
            // Sleeps until removed (busybox `sleep` takes any 32-bit count of seconds).
            entrypoint: Some(vec!["sleep".into()]),
            cmd: Some(vec!["2147483647".into()]),
            hostname: first.hostname.clone(),
            extra_hosts: first.extra_hosts.clone(),
            sysctls: first.sysctls.clone(),
            dns_search: first.dns_search.clone(),
            dns_options: first.dns_options.clone(),
            network: first.network.clone(),
            ports: first.ports.clone(),
            labels: first.labels.clone(),
            ..ContainerSpec::default()
        })
    }

    /// Points every main container at the network namespace of the sandbox `sandbox_id`
    /// ([`PodPlan::sandbox`]): it owns the network, the hostname and the published ports.
    pub fn join_sandbox(&mut self, sandbox_id: &str) {
        for c in &mut self.containers {
            c.spec.network = NetworkAttachment::Container {
                id: sandbox_id.to_string(),
            };
            c.spec.hostname = None;
            c.spec.ports.clear();
            c.netns_from_first = false;
        }
    }
}

impl fmt::Debug for PodContainer {
    /// Like the derived `Debug`, but env values from Secrets, arguments expanded from them and
    /// all file contents are redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const REDACTED: &str = "<redacted>";
        let s = &self.spec;
        let env: Vec<(&str, &str)> = s
            .env
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str(),
                    if self.secret_env.contains(k) {
                        REDACTED
                    } else {
                        v.as_str()
                    },
                )
            })
            .collect();
        let args = |a: &Option<Vec<String>>| match a {
            Some(_) if self.secret_args => Some(vec![REDACTED.to_string()]),
            other => other.clone(),
        };
        let files: Vec<String> = s
            .files
            .iter()
            .map(|file| {
                format!(
                    "{} ({:o}, {} bytes)",
                    file.path,
                    file.mode,
                    file.content.len()
                )
            })
            .collect();
        f.debug_struct("PodContainer")
            .field("name", &self.name)
            .field("docker_name", &s.name)
            .field("image", &s.image)
            .field("entrypoint", &args(&s.entrypoint))
            .field("cmd", &args(&s.cmd))
            .field("env", &env)
            .field("working_dir", &s.working_dir)
            .field("hostname", &s.hostname)
            .field("extra_hosts", &s.extra_hosts)
            .field("sysctls", &s.sysctls)
            .field("dns_search", &s.dns_search)
            .field("dns_options", &s.dns_options)
            .field("network", &s.network)
            .field("mounts", &s.mounts)
            .field("files", &files)
            .field("ports", &s.ports)
            .field("memory_limit_bytes", &s.memory_limit_bytes)
            .field("nano_cpus", &s.nano_cpus)
            .field("labels", &s.labels)
            .field("user", &s.user)
            .field("group_add", &s.group_add)
            .field("fs_group", &s.fs_group)
            .field("read_only_rootfs", &s.read_only_rootfs)
            .field("privileges", &s.privileges)
            .field("pull_policy", &self.pull_policy)
            .field("probes", &self.probes)
            .field("netns_from_first", &self.netns_from_first)
            .field("post_start", &self.post_start)
            .finish()
    }
}
#[cfg(test)]
mod tests {
    use super::test_support::*;

    #[test]
    fn debug_output_redacts_secret_env_args_and_file_contents() {
        let p = plan(
            "volumes: [{name: s, secret: {secretName: db}}]\ncontainers:\n- name: app\n  image: x:1\n  \
             env: [{name: PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}, {name: PLAIN, value: visible}]\n  \
             args: ['--password=$(PASSWORD)']\n  volumeMounts: [{name: s, mountPath: /s}]",
        )
        .unwrap();
        assert_eq!(env_of(&p.containers[0], "PASSWORD"), Some(PW));
        assert_eq!(
            p.containers[0].spec.cmd.as_deref().unwrap(),
            [format!("--password={PW}")]
        );
        let debug = format!("{p:?}");
        assert!(!debug.contains(PW), "{debug}");
        assert!(
            debug.contains("visible") && debug.contains("<redacted>"),
            "{debug}"
        );
    }
}
