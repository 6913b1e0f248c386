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
//! * ConfigMap and Secret volumes are written as files before start ([`FileSpec`]); they are not
//!   updated while the container runs and are not read-only.
//! * Native sidecars (init containers with `restartPolicy: Always`) become main containers,
//!   started before the regular ones (a warning).
//! * Image rewrites (`FROM=TO`) match the whole image reference exactly.
//!
//! # Secrets
//!
//! Values taken from Secrets never appear in errors, and [`PodContainer`]'s `Debug` redacts env
//! values from Secrets, arguments expanded from them and all file contents.
use super::{
    probe::{Probe, ProbeError, ProbeKind},
    quantity::{Quantity, QuantityError},
};
use crate::{
    manifest::Object,
    runtime::{ContainerSpec, FileSpec, Labels, Mount, NetworkAttachment},
};
use base64::Engine as _;
use k8s_openapi::api::core::v1 as k8s;
use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
};

pub use k8s::PodSpec;

/// The two kinds of object a pod can read configuration from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigKind {
    ConfigMap,
    Secret,
}

impl fmt::Display for ConfigKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigKind::ConfigMap => "ConfigMap",
            ConfigKind::Secret => "Secret",
        })
    }
}

/// Looks up a ConfigMap or Secret by name in the pod's namespace.
pub type ObjectLookup<'a> = dyn Fn(ConfigKind, &str) -> Option<&'a Object> + 'a;
/// Maps a PersistentVolumeClaim name to the Docker volume that backs it (`None`: no such claim).
pub type ClaimLookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

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
}

/// Why a pod cannot be turned into containers. Messages never contain Secret values.
#[derive(Debug, thiserror::Error)]
pub enum PodError {
    /// The pod has no containers.
    #[error("pod `{pod}` has no containers")]
    NoContainers { pod: String },
    /// A ConfigMap or Secret the pod needs does not exist.
    #[error("pod `{pod}` container `{container}`: {by} refers to {kind} `{name}`, which does not exist (Kubernetes would block the pod with CreateContainerConfigError)")]
    MissingObject {
        pod: String,
        container: String,
        by: String,
        kind: ConfigKind,
        name: String,
    },
    /// A key the pod needs is missing from a ConfigMap or Secret.
    #[error("pod `{pod}` container `{container}`: {by} refers to key `{key}` of {kind} `{name}`, which has no such key (Kubernetes would block the pod with CreateContainerConfigError)")]
    MissingKey {
        pod: String,
        container: String,
        by: String,
        kind: ConfigKind,
        name: String,
        key: String,
    },
    /// A Secret's `data` value is not valid base64.
    #[error("pod `{pod}`: key `{key}` of Secret `{name}` is not valid base64")]
    InvalidSecretData {
        pod: String,
        name: String,
        key: String,
    },
    /// A PersistentVolumeClaim that does not exist.
    #[error("pod `{pod}`: volume `{volume}` refers to PersistentVolumeClaim `{claim}`, which does not exist (Kubernetes would keep the pod Pending)")]
    MissingClaim {
        pod: String,
        volume: String,
        claim: String,
    },
    /// A volume type syncsim cannot provide.
    #[error("pod `{pod}`: volume `{volume}` is of type `{kind}`, which syncsim does not support (supported: configMap, secret, emptyDir, persistentVolumeClaim, projected configMap/secret)")]
    UnsupportedVolume {
        pod: String,
        volume: String,
        kind: String,
    },
    /// A volume mount names a volume the pod does not declare.
    #[error("pod `{pod}` container `{container}`: volume mount `{volume}` does not match any volume of the pod")]
    UnknownVolume {
        pod: String,
        container: String,
        volume: String,
    },
    /// A key, item path or subPath that would write or mount outside its volume.
    #[error(
        "pod `{pod}`: {what} `{path}` of volume `{volume}` must be a relative path without `..`"
    )]
    UnsafePath {
        pod: String,
        volume: String,
        what: &'static str,
        path: String,
    },
    /// A `fieldRef` or `resourceFieldRef` syncsim cannot resolve.
    #[error(
        "pod `{pod}` container `{container}`: env var `{env}` uses unsupported field `{field}`"
    )]
    UnsupportedField {
        pod: String,
        container: String,
        env: String,
        field: String,
    },
    /// An env var with neither value nor a usable `valueFrom`.
    #[error("pod `{pod}` container `{container}`: env var `{env}` has an empty `valueFrom`")]
    EmptyValueFrom {
        pod: String,
        container: String,
        env: String,
    },
    /// A resource quantity that does not parse or fit.
    #[error("pod `{pod}` container `{container}`: invalid quantity in `{field}`")]
    Quantity {
        pod: String,
        container: String,
        field: String,
        #[source]
        source: QuantityError,
    },
    /// A probe syncsim cannot run.
    #[error("pod `{pod}`: invalid probe")]
    Probe {
        pod: String,
        #[source]
        source: ProbeError,
    },
}

type Result<T, E = PodError> = std::result::Result<T, E>;

/// Translates a pod spec into containers, volumes and probes (see the module docs).
///
/// # Errors
///
/// Missing ConfigMaps, Secrets, keys or claims that are not `optional`, unsupported volume types
/// or fields, paths escaping their volume, invalid quantities and unsupported probes.
pub fn pod_containers(spec: &PodSpec, ctx: &PodContext<'_>) -> Result<PodPlan> {
    if spec.containers.is_empty() {
        return Err(PodError::NoContainers {
            pod: ctx.pod_name.clone(),
        });
    }
    let mut warnings = Vec::new();
    let volumes = PodVolumes::resolve(spec, ctx, &mut warnings)?;

    let mut sidecars = Vec::new();
    let mut init_containers = Vec::new();
    for c in spec.init_containers.iter().flatten() {
        if c.restart_policy.as_deref() == Some("Always") {
            warnings.push(format!(
                "init container `{}` is a native sidecar: started with the main containers, before them",
                c.name
            ));
            sidecars.push(c);
        } else {
            let mut pc = container(c, spec, ctx, &volumes, false, &mut warnings)?;
            pc.spec.network = NetworkAttachment::Network {
                name: ctx.network.clone(),
                aliases: Vec::new(),
            };
            pc.spec.hostname = Some(ctx.pod_name.clone());
            init_containers.push(pc);
        }
    }

    let mut containers = Vec::new();
    for c in sidecars.into_iter().chain(&spec.containers) {
        containers.push(container(c, spec, ctx, &volumes, true, &mut warnings)?);
    }

    // The first main container owns the netns: the pod's aliases, hostname and every port.
    let mut ports = Vec::new();
    for (c, pc) in spec
        .init_containers
        .iter()
        .flatten()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .chain(&spec.containers)
        .zip(&containers)
    {
        for p in c.ports.iter().flatten() {
            if p.protocol.as_deref().is_some_and(|proto| proto != "TCP") {
                warnings.push(format!(
                    "container `{}` port {} is {}: only TCP ports are published",
                    c.name,
                    p.container_port,
                    p.protocol.as_deref().unwrap_or_default()
                ));
                continue;
            }
            if let Ok(port) = u16::try_from(p.container_port) {
                ports.push(port);
            }
        }
        let probes = &pc.probes;
        ports.extend(
            [&probes.startup, &probes.liveness, &probes.readiness]
                .into_iter()
                .flatten()
                .filter_map(Probe::port),
        );
    }
    let mut seen = BTreeSet::new();
    ports.retain(|p| seen.insert(*p));
    let mut aliases = ctx.aliases.clone();
    if !aliases.contains(&ctx.pod_name) {
        aliases.insert(0, ctx.pod_name.clone());
    }
    for (i, pc) in containers.iter_mut().enumerate() {
        if i == 0 {
            pc.spec.network = NetworkAttachment::Network {
                name: ctx.network.clone(),
                aliases: aliases.clone(),
            };
            pc.spec.hostname = Some(ctx.pod_name.clone());
            pc.spec.ports = ports.clone();
        } else {
            pc.netns_from_first = true;
            // Filled in by `PodPlan::join_first`.
            pc.spec.network = NetworkAttachment::Container { id: String::new() };
        }
    }

    let restart_policy = match spec.restart_policy.as_deref() {
        Some("Never") => RestartPolicy::Never,
        Some("OnFailure") => RestartPolicy::OnFailure,
        _ => RestartPolicy::Always,
    };
    Ok(PodPlan {
        init_containers,
        containers,
        volumes: volumes.docker,
        restart_policy,
        warnings,
    })
}

/// One container: image, command, env, mounts, files, resources, probes.
fn container(
    c: &k8s::Container,
    spec: &PodSpec,
    ctx: &PodContext<'_>,
    volumes: &PodVolumes,
    main: bool,
    warnings: &mut Vec<String>,
) -> Result<PodContainer> {
    let pod = || ctx.pod_name.clone();
    let image = c.image.clone().unwrap_or_default();
    let pull_policy = match c.image_pull_policy.as_deref() {
        Some("Always") => PullPolicy::Always,
        Some("Never") => PullPolicy::Never,
        Some("IfNotPresent") => PullPolicy::IfNotPresent,
        _ if image_tag_is_latest(&image) => PullPolicy::Always,
        _ => PullPolicy::IfNotPresent,
    };
    let rewritten = ctx.images.get(&image).cloned().unwrap_or(image);

    let env = Env::build(c, spec, ctx)?;
    let (entrypoint, cmd, secret_args) = {
        let mut secret = false;
        let mut expand_all = |v: &Option<Vec<String>>| {
            v.as_ref().map(|args| {
                args.iter()
                    .map(|a| {
                        let (s, used_secret) = env.expand(a);
                        secret |= used_secret;
                        s
                    })
                    .collect::<Vec<_>>()
            })
        };
        let e = expand_all(&c.command);
        let a = expand_all(&c.args);
        (e, a, secret)
    };

    let mut mounts = Vec::new();
    let mut files = Vec::new();
    for m in c.volume_mounts.iter().flatten() {
        let vol = volumes
            .by_name
            .get(&m.name)
            .ok_or_else(|| PodError::UnknownVolume {
                pod: pod(),
                container: c.name.clone(),
                volume: m.name.clone(),
            })?;
        let sub_path = match (&m.sub_path, &m.sub_path_expr) {
            (Some(p), _) if !p.is_empty() => Some(p.clone()),
            (_, Some(expr)) if !expr.is_empty() => Some(env.expand(expr).0),
            _ => None,
        };
        if let Some(sp) = &sub_path {
            check_relative(sp).map_err(|_| PodError::UnsafePath {
                pod: pod(),
                volume: m.name.clone(),
                what: "subPath",
                path: sp.clone(),
            })?;
        }
        let target = m.mount_path.trim_end_matches('/');
        let target = if target.is_empty() { "/" } else { target };
        match vol {
            ResolvedVolume::Docker {
                docker_name,
                read_only,
            } => mounts.push(Mount {
                volume: docker_name.clone(),
                target: target.to_string(),
                read_only: *read_only || m.read_only.unwrap_or(false),
                sub_path,
            }),
            ResolvedVolume::Files(entries) => match &sub_path {
                // A subPath of a ConfigMap/Secret volume mounts that one file at the mount path.
                Some(sp) => match entries.iter().find(|f| f.rel_path == *sp) {
                    Some(f) => files.push(FileSpec {
                        path: target.to_string(),
                        content: f.content.clone(),
                        mode: f.mode,
                    }),
                    // Kubernetes creates an empty directory there; say so.
                    None => warnings.push(format!(
                        "container `{}` mounts subPath `{sp}` of volume `{}`, which has no such file: an empty directory in Kubernetes, nothing in syncsim",
                        c.name, m.name
                    )),
                },
                None => files.extend(entries.iter().map(|f| FileSpec {
                    path: join(target, &f.rel_path),
                    content: f.content.clone(),
                    mode: f.mode,
                })),
            },
        }
    }

    let limits = c.resources.as_ref().and_then(|r| r.limits.as_ref());
    let quantity = |key: &str, to: fn(&Quantity) -> Option<i64>| -> Result<Option<i64>> {
        let Some(q) = limits.and_then(|l| l.get(key)) else {
            return Ok(None);
        };
        let err = |source| PodError::Quantity {
            pod: pod(),
            container: c.name.clone(),
            field: format!("resources.limits.{key}"),
            source,
        };
        let parsed = Quantity::parse(&q.0).map_err(err)?;
        to(&parsed)
            .map(Some)
            .ok_or_else(|| err(QuantityError::OutOfRange(q.0.clone())))
    };
    let memory_limit_bytes = quantity("memory", Quantity::value)?;
    let nano_cpus = quantity("cpu", Quantity::nano_value)?;

    let probes = if main {
        let parse = |kind, p: &Option<k8s::Probe>| {
            p.as_ref()
                .map(|p| Probe::parse(kind, p, c))
                .transpose()
                .map_err(|source| PodError::Probe { pod: pod(), source })
        };
        ContainerProbes {
            startup: parse(ProbeKind::Startup, &c.startup_probe)?,
            liveness: parse(ProbeKind::Liveness, &c.liveness_probe)?,
            readiness: parse(ProbeKind::Readiness, &c.readiness_probe)?,
        }
    } else {
        ContainerProbes::default()
    };

    Ok(PodContainer {
        name: c.name.clone(),
        spec: ContainerSpec {
            name: format!("{}{}", ctx.container_prefix, c.name),
            image: rewritten,
            entrypoint,
            cmd,
            env: env.vars,
            working_dir: c.working_dir.clone().filter(|w| !w.is_empty()),
            hostname: None,
            network: NetworkAttachment::None,
            mounts,
            files,
            ports: Vec::new(),
            memory_limit_bytes,
            nano_cpus,
            labels: ctx.labels.clone(),
        },
        pull_policy,
        probes,
        netns_from_first: false,
        secret_env: env.secret,
        secret_args,
    })
}

/// Kubernetes defaults `imagePullPolicy` to Always for `:latest` or untagged, digest-less images.
fn image_tag_is_latest(image: &str) -> bool {
    if image.contains('@') {
        return false;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => true,
        Some((_, tag)) => tag == "latest",
    }
}

fn join(dir: &str, rel: &str) -> String {
    if dir == "/" {
        format!("/{rel}")
    } else {
        format!("{dir}/{rel}")
    }
}

/// A path inside a volume must be relative and may not climb out of it.
fn check_relative(path: &str) -> std::result::Result<(), ()> {
    if path.is_empty()
        || path.starts_with('/')
        || path.starts_with("..")
        || path.split('/').any(|seg| seg == "..")
    {
        return Err(());
    }
    Ok(())
}

/// A container's environment being built in Kubernetes order.
struct Env {
    vars: Vec<(String, String)>,
    secret: BTreeSet<String>,
}

impl Env {
    fn set(&mut self, name: String, value: String, from_secret: bool) {
        if from_secret {
            self.secret.insert(name.clone());
        } else {
            self.secret.remove(&name);
        }
        match self.vars.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((name, value)),
        }
    }

    fn get(&self, name: &str) -> Option<(&str, bool)> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| (v.as_str(), self.secret.contains(name)))
    }

    /// Kubernetes' `$(VAR)` expansion: `$$` is a literal `$`, unknown or unterminated references
    /// stay as written. Returns the result and whether a Secret-derived variable was used.
    fn expand(&self, input: &str) -> (String, bool) {
        let bytes = input.as_bytes();
        let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
        let mut used_secret = false;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'$' || i + 1 >= bytes.len() {
                out.push(bytes[i]);
                i += 1;
                continue;
            }
            match bytes[i + 1] {
                b'$' => {
                    out.push(b'$');
                    i += 2;
                }
                b'(' => match bytes[i + 2..].iter().position(|b| *b == b')') {
                    Some(len) => {
                        let name = &input[i + 2..i + 2 + len];
                        match self.get(name) {
                            Some((value, secret)) => {
                                out.extend_from_slice(value.as_bytes());
                                used_secret |= secret;
                            }
                            None => out.extend_from_slice(&bytes[i..i + 3 + len]),
                        }
                        i += 3 + len;
                    }
                    None => {
                        out.extend_from_slice(b"$(");
                        i += 2;
                    }
                },
                other => {
                    out.push(b'$');
                    out.push(other);
                    i += 2;
                }
            }
        }
        // Only ASCII bytes were inserted or dropped around whole UTF-8 sequences.
        (String::from_utf8_lossy(&out).into_owned(), used_secret)
    }

    fn build(c: &k8s::Container, spec: &PodSpec, ctx: &PodContext<'_>) -> Result<Self> {
        let mut env = Env {
            vars: Vec::new(),
            secret: BTreeSet::new(),
        };
        let pod = || ctx.pod_name.clone();
        for from in c.env_from.iter().flatten() {
            let prefix = from.prefix.clone().unwrap_or_default();
            let (kind, name, optional) = if let Some(r) = &from.config_map_ref {
                (ConfigKind::ConfigMap, &r.name, r.optional.unwrap_or(false))
            } else if let Some(r) = &from.secret_ref {
                (ConfigKind::Secret, &r.name, r.optional.unwrap_or(false))
            } else {
                continue;
            };
            let by = || {
                format!(
                    "envFrom{}",
                    if prefix.is_empty() {
                        String::new()
                    } else {
                        format!(" (prefix `{prefix}`)")
                    }
                )
            };
            let Some(obj) = (ctx.lookup)(kind, name) else {
                if optional {
                    continue;
                }
                return Err(PodError::MissingObject {
                    pod: pod(),
                    container: c.name.clone(),
                    by: by(),
                    kind,
                    name: name.clone(),
                });
            };
            for (key, value) in config_data(obj, kind, &ctx.pod_name)? {
                let var = format!("{prefix}{key}");
                // Kubernetes skips keys that are not valid variable names (and reports an event).
                if var.is_empty()
                    || var.contains('=')
                    || var.bytes().any(|b| !(0x20..0x7f).contains(&b))
                {
                    continue;
                }
                env.set(
                    var,
                    String::from_utf8_lossy(&value).into_owned(),
                    kind == ConfigKind::Secret,
                );
            }
        }
        for var in c.env.iter().flatten() {
            let missing_object = |kind, name: &str| PodError::MissingObject {
                pod: pod(),
                container: c.name.clone(),
                by: format!("env var `{}`", var.name),
                kind,
                name: name.to_string(),
            };
            let missing_key = |kind, name: &str, key: &str| PodError::MissingKey {
                pod: pod(),
                container: c.name.clone(),
                by: format!("env var `{}`", var.name),
                kind,
                name: name.to_string(),
                key: key.to_string(),
            };
            let Some(from) = &var.value_from else {
                let value = env.expand(var.value.as_deref().unwrap_or("")).0;
                env.set(var.name.clone(), value, false);
                continue;
            };
            let key_ref = if let Some(r) = &from.config_map_key_ref {
                Some((
                    ConfigKind::ConfigMap,
                    &r.name,
                    &r.key,
                    r.optional.unwrap_or(false),
                ))
            } else {
                from.secret_key_ref.as_ref().map(|r| {
                    (
                        ConfigKind::Secret,
                        &r.name,
                        &r.key,
                        r.optional.unwrap_or(false),
                    )
                })
            };
            if let Some((kind, name, key, optional)) = key_ref {
                let Some(obj) = (ctx.lookup)(kind, name) else {
                    if optional {
                        continue;
                    }
                    return Err(missing_object(kind, name));
                };
                let mut data = config_data(obj, kind, &ctx.pod_name)?;
                let Some(value) = data.remove(key) else {
                    if optional {
                        continue;
                    }
                    return Err(missing_key(kind, name, key));
                };
                env.set(
                    var.name.clone(),
                    String::from_utf8_lossy(&value).into_owned(),
                    kind == ConfigKind::Secret,
                );
            } else if let Some(f) = &from.field_ref {
                let value = field_ref(&f.field_path, spec, ctx).ok_or_else(|| {
                    PodError::UnsupportedField {
                        pod: pod(),
                        container: c.name.clone(),
                        env: var.name.clone(),
                        field: f.field_path.clone(),
                    }
                })?;
                env.set(var.name.clone(), value, false);
            } else if let Some(r) = &from.resource_field_ref {
                let value = resource_field_ref(r, c, spec, ctx).map_err(|field| {
                    PodError::UnsupportedField {
                        pod: pod(),
                        container: c.name.clone(),
                        env: var.name.clone(),
                        field,
                    }
                })?;
                env.set(var.name.clone(), value, false);
            } else {
                return Err(PodError::EmptyValueFrom {
                    pod: pod(),
                    container: c.name.clone(),
                    env: var.name.clone(),
                });
            }
        }
        Ok(env)
    }
}

/// The downward API fields of `fieldRef`.
fn field_ref(path: &str, spec: &PodSpec, ctx: &PodContext<'_>) -> Option<String> {
    let quoted = |prefix: &str| {
        let rest = path.strip_prefix(prefix)?.strip_suffix("']")?;
        Some(rest.to_string())
    };
    Some(match path {
        "metadata.name" => ctx.pod_name.clone(),
        "metadata.namespace" => ctx.namespace.clone(),
        "metadata.uid" => pod_uid(&ctx.namespace, &ctx.pod_name),
        "spec.nodeName" => spec
            .node_name
            .clone()
            .unwrap_or_else(|| ctx.node_name.clone()),
        "spec.serviceAccountName" => spec
            .service_account_name
            .clone()
            .or_else(|| spec.service_account.clone())
            .unwrap_or_else(|| "default".into()),
        // Not known before start: the pod name resolves to the pod (see the module docs).
        "status.podIP" | "status.podIPs" | "status.hostIP" | "status.hostIPs" => {
            ctx.pod_name.clone()
        }
        _ => {
            if let Some(k) = quoted("metadata.labels['") {
                ctx.pod_labels.get(&k).cloned().unwrap_or_default()
            } else if let Some(k) = quoted("metadata.annotations['") {
                ctx.pod_annotations.get(&k).cloned().unwrap_or_default()
            } else {
                return None;
            }
        }
    })
}

/// A stable, UUID-shaped identifier for the pod (Kubernetes assigns a random one).
fn pod_uid(namespace: &str, name: &str) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(format!("{namespace}/{name}").as_bytes());
    let hex: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `resourceFieldRef`: `limits.cpu|memory|ephemeral-storage`, `requests.*`, divided by
/// `divisor` (default 1) and rounded up. A missing limit reads as the node's allocatable; a
/// missing request as the limit (Kubernetes' defaulting), then 0. Errors carry the field name.
fn resource_field_ref(
    r: &k8s::ResourceFieldSelector,
    own: &k8s::Container,
    spec: &PodSpec,
    ctx: &PodContext<'_>,
) -> std::result::Result<String, String> {
    let c = match r.container_name.as_deref().filter(|n| !n.is_empty()) {
        None => own,
        Some(name) => spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
            .find(|c| c.name == name)
            .ok_or_else(|| format!("{} (no container `{name}`)", r.resource))?,
    };
    let (section, resource) = r
        .resource
        .split_once('.')
        .ok_or_else(|| r.resource.clone())?;
    let res = c.resources.as_ref();
    let get = |s: &str| {
        res.and_then(|res| {
            if s == "limits" {
                res.limits.as_ref()
            } else {
                res.requests.as_ref()
            }
        })
        .and_then(|m| m.get(resource))
    };
    let parse = |q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity| {
        Quantity::parse(&q.0)
            .ok()
            .and_then(|q| q.milli_value())
            .ok_or_else(|| r.resource.clone())
    };
    let node = match resource {
        "cpu" => ctx.node_cpu_millis,
        "memory" => ctx.node_memory_bytes.saturating_mul(1000),
        "ephemeral-storage" => 0,
        _ => return Err(r.resource.clone()),
    };
    let millis = match section {
        "limits" => get("limits").map(parse).transpose()?.unwrap_or(node),
        "requests" => match get("requests").or_else(|| get("limits")) {
            Some(q) => parse(q)?,
            None => 0,
        },
        _ => return Err(r.resource.clone()),
    };
    let divisor = match &r.divisor {
        Some(d) => parse(d)?,
        None => 1000,
    };
    if divisor <= 0 {
        return Err(format!("{} (divisor)", r.resource));
    }
    Ok(((millis + divisor - 1).div_euclid(divisor)).to_string())
}

/// The key → bytes content of a ConfigMap (`data`, `binaryData`) or Secret (`data` base64,
/// `stringData` winning as the API server merges it).
fn config_data(obj: &Object, kind: ConfigKind, pod: &str) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    let map = |field: &str| obj.value.get(field).and_then(serde_json::Value::as_object);
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let b64 = |key: &str, v: &serde_json::Value| {
        base64::engine::general_purpose::STANDARD
            .decode(text(v).trim())
            .map_err(|_| PodError::InvalidSecretData {
                pod: pod.to_string(),
                name: obj.name().to_string(),
                key: key.to_string(),
            })
    };
    match kind {
        ConfigKind::ConfigMap => {
            for (k, v) in map("binaryData").into_iter().flatten() {
                out.insert(k.clone(), b64(k, v)?);
            }
            for (k, v) in map("data").into_iter().flatten() {
                out.insert(k.clone(), text(v).into_bytes());
            }
        }
        ConfigKind::Secret => {
            for (k, v) in map("data").into_iter().flatten() {
                out.insert(k.clone(), b64(k, v)?);
            }
            for (k, v) in map("stringData").into_iter().flatten() {
                out.insert(k.clone(), text(v).into_bytes());
            }
        }
    }
    Ok(out)
}

/// A file of a ConfigMap/Secret volume, relative to the volume root.
#[derive(Clone)]
struct VolumeFile {
    rel_path: String,
    content: Vec<u8>,
    mode: u32,
}

enum ResolvedVolume {
    Docker {
        docker_name: String,
        read_only: bool,
    },
    Files(Vec<VolumeFile>),
}

struct PodVolumes {
    by_name: BTreeMap<String, ResolvedVolume>,
    docker: Vec<PodVolume>,
}

const DEFAULT_MODE: u32 = 0o644;

impl PodVolumes {
    fn resolve(spec: &PodSpec, ctx: &PodContext<'_>, warnings: &mut Vec<String>) -> Result<Self> {
        let mut by_name = BTreeMap::new();
        let mut docker = Vec::new();
        // Which container first mounts each volume, to name it in "missing object" errors.
        let user = |volume: &str| {
            spec.init_containers
                .iter()
                .flatten()
                .chain(&spec.containers)
                .find(|c| c.volume_mounts.iter().flatten().any(|m| m.name == volume))
                .map(|c| c.name.clone())
                .unwrap_or_else(|| "(none)".into())
        };
        for v in spec.volumes.iter().flatten() {
            let resolved = if v.empty_dir.is_some() {
                if v.empty_dir.as_ref().and_then(|e| e.medium.as_deref()) == Some("Memory") {
                    warnings.push(format!(
                        "emptyDir volume `{}` with medium Memory is a Docker volume, not tmpfs",
                        v.name
                    ));
                }
                let docker_name = format!("{}{}", ctx.container_prefix, v.name);
                docker.push(PodVolume {
                    docker_name: docker_name.clone(),
                    volume: v.name.clone(),
                    source: PodVolumeSource::EmptyDir,
                });
                ResolvedVolume::Docker {
                    docker_name,
                    read_only: false,
                }
            } else if let Some(pvc) = &v.persistent_volume_claim {
                let docker_name =
                    (ctx.claim_volume)(&pvc.claim_name).ok_or_else(|| PodError::MissingClaim {
                        pod: ctx.pod_name.clone(),
                        volume: v.name.clone(),
                        claim: pvc.claim_name.clone(),
                    })?;
                docker.push(PodVolume {
                    docker_name: docker_name.clone(),
                    volume: v.name.clone(),
                    source: PodVolumeSource::Claim {
                        claim: pvc.claim_name.clone(),
                    },
                });
                ResolvedVolume::Docker {
                    docker_name,
                    read_only: pvc.read_only.unwrap_or(false),
                }
            } else if let Some(cm) = &v.config_map {
                let src = Projection {
                    kind: ConfigKind::ConfigMap,
                    name: &cm.name,
                    items: cm.items.as_deref(),
                    optional: cm.optional.unwrap_or(false),
                };
                ResolvedVolume::Files(src.files(&v.name, mode(cm.default_mode), ctx, &user)?)
            } else if let Some(s) = &v.secret {
                let name = s.secret_name.as_deref().unwrap_or_default();
                let src = Projection {
                    kind: ConfigKind::Secret,
                    name,
                    items: s.items.as_deref(),
                    optional: s.optional.unwrap_or(false),
                };
                ResolvedVolume::Files(src.files(&v.name, mode(s.default_mode), ctx, &user)?)
            } else if let Some(p) = &v.projected {
                let default_mode = mode(p.default_mode);
                let mut files = Vec::new();
                for source in p.sources.iter().flatten() {
                    let src = if let Some(cm) = &source.config_map {
                        Projection {
                            kind: ConfigKind::ConfigMap,
                            name: &cm.name,
                            items: cm.items.as_deref(),
                            optional: cm.optional.unwrap_or(false),
                        }
                    } else if let Some(s) = &source.secret {
                        Projection {
                            kind: ConfigKind::Secret,
                            name: &s.name,
                            items: s.items.as_deref(),
                            optional: s.optional.unwrap_or(false),
                        }
                    } else {
                        return Err(PodError::UnsupportedVolume {
                            pod: ctx.pod_name.clone(),
                            volume: v.name.clone(),
                            kind: format!(
                                "projected {}",
                                first_key(source).unwrap_or_else(|| "(empty source)".into())
                            ),
                        });
                    };
                    files.extend(src.files(&v.name, default_mode, ctx, &user)?);
                }
                ResolvedVolume::Files(files)
            } else {
                return Err(PodError::UnsupportedVolume {
                    pod: ctx.pod_name.clone(),
                    volume: v.name.clone(),
                    kind: first_key(v).unwrap_or_else(|| "(none)".into()),
                });
            };
            by_name.insert(v.name.clone(), resolved);
        }
        Ok(Self { by_name, docker })
    }
}

/// The first field other than `name` of a serialized volume (its type, e.g. `hostPath`).
fn first_key<T: serde::Serialize>(v: &T) -> Option<String> {
    let value = serde_json::to_value(v).ok()?;
    value.as_object()?.keys().find(|k| *k != "name").cloned()
}

fn mode(m: Option<i32>) -> u32 {
    m.and_then(|m| u32::try_from(m).ok())
        .map(|m| m & 0o777)
        .unwrap_or(DEFAULT_MODE)
}

/// A ConfigMap or Secret projected into a volume.
struct Projection<'s> {
    kind: ConfigKind,
    name: &'s str,
    items: Option<&'s [k8s::KeyToPath]>,
    optional: bool,
}

impl Projection<'_> {
    fn files(
        &self,
        volume: &str,
        default_mode: u32,
        ctx: &PodContext<'_>,
        user: &dyn Fn(&str) -> String,
    ) -> Result<Vec<VolumeFile>> {
        let pod = || ctx.pod_name.clone();
        let by = || format!("volume `{volume}`");
        let unsafe_path = |what, path: &str| PodError::UnsafePath {
            pod: pod(),
            volume: volume.to_string(),
            what,
            path: path.to_string(),
        };
        let Some(obj) = (ctx.lookup)(self.kind, self.name) else {
            if self.optional {
                return Ok(Vec::new());
            }
            return Err(PodError::MissingObject {
                pod: pod(),
                container: user(volume),
                by: by(),
                kind: self.kind,
                name: self.name.to_string(),
            });
        };
        let mut data = config_data(obj, self.kind, &ctx.pod_name)?;
        let mut files = Vec::new();
        match self.items {
            Some(items) if !items.is_empty() => {
                for item in items {
                    check_relative(&item.path).map_err(|_| unsafe_path("item path", &item.path))?;
                    let Some(content) = data.remove(&item.key) else {
                        if self.optional {
                            continue;
                        }
                        return Err(PodError::MissingKey {
                            pod: pod(),
                            container: user(volume),
                            by: by(),
                            kind: self.kind,
                            name: self.name.to_string(),
                            key: item.key.clone(),
                        });
                    };
                    files.push(VolumeFile {
                        rel_path: item.path.clone(),
                        content,
                        mode: item.mode.map_or(default_mode, |m| mode(Some(m))),
                    });
                }
            }
            _ => {
                for (key, content) in data {
                    // Keys become file names: one path segment, never `.`/`..`-prefixed.
                    if key.contains('/') || key == "." || key.starts_with("..") || key.is_empty() {
                        return Err(unsafe_path("key", &key));
                    }
                    files.push(VolumeFile {
                        rel_path: key,
                        content,
                        mode: default_mode,
                    });
                }
            }
        }
        Ok(files)
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
            .field("network", &s.network)
            .field("mounts", &s.mounts)
            .field("files", &files)
            .field("ports", &s.ports)
            .field("memory_limit_bytes", &s.memory_limit_bytes)
            .field("nano_cpus", &s.nano_cpus)
            .field("labels", &s.labels)
            .field("pull_policy", &self.pull_policy)
            .field("probes", &self.probes)
            .field("netns_from_first", &self.netns_from_first)
            .finish()
    }
}
