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
            match u16::try_from(p.container_port) {
                Ok(port) if port != 0 => ports.push(port),
                _ => warnings.push(format!(
                    "container `{}` port {} is not a valid port: not published",
                    c.name, p.container_port
                )),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Origin;

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config}\n\
                      data: {LOG_LEVEL: debug, app.conf: 'port=80', GREETING: hello}\n\
                      binaryData: {blob: AAEC}";
    const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\n\
                          data: {password: czNjcjN0LXB3}\nstringData: {user: admin}";
    const PW: &str = "s3cr3t-pw";

    fn objects() -> Vec<Object> {
        [CM, SECRET]
            .iter()
            .map(|y| {
                let origin = Origin {
                    file: "test.yaml".into(),
                    document: 0,
                    line: None,
                };
                Object::new(serde_yaml::from_str(y).unwrap(), origin)
            })
            .collect()
    }

    fn plan_with(yaml: &str, edit: impl FnOnce(&mut PodContext<'_>)) -> Result<PodPlan> {
        let spec: PodSpec = serde_yaml::from_str(yaml).expect("test pod spec");
        let objs = objects();
        let lookup = |kind: ConfigKind, name: &str| {
            let k = kind.to_string();
            objs.iter().find(|o| o.kind() == k && o.name() == name)
        };
        let claims = |claim: &str| (claim == "data").then(|| "syncsim-pvc-data".to_string());
        let mut ctx = PodContext::new("web-0", "shop", "syncsim-net", &lookup, &claims);
        ctx.aliases = vec!["web".into()];
        ctx.pod_labels.insert("app".into(), "web".into());
        ctx.pod_annotations.insert("team".into(), "core".into());
        ctx.labels.insert("dev.syncsim.run".into(), "r1".into());
        edit(&mut ctx);
        pod_containers(&spec, &ctx)
    }

    fn plan(yaml: &str) -> Result<PodPlan> {
        plan_with(yaml, |_| {})
    }

    fn env_of<'p>(c: &'p PodContainer, name: &str) -> Option<&'p str> {
        c.spec
            .env
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn command_replaces_entrypoint_and_args_replace_cmd() {
        let p = plan("containers: [{name: app, image: 'busybox:1.36', command: [sh, -c], args: ['echo hi']}]").unwrap();
        let c = &p.containers[0].spec;
        assert_eq!(c.entrypoint, Some(vec!["sh".to_string(), "-c".to_string()]));
        assert_eq!(c.cmd, Some(vec!["echo hi".to_string()]));
        assert_eq!(c.name, "web-0-app");
        assert_eq!(
            c.labels.get("dev.syncsim.run").map(String::as_str),
            Some("r1")
        );

        let p = plan("containers: [{name: app, image: 'busybox:1.36'}]").unwrap();
        assert_eq!(
            (&p.containers[0].spec.entrypoint, &p.containers[0].spec.cmd),
            (&None, &None)
        );
    }

    #[test]
    fn dollar_expansion_follows_kubernetes_rules() {
        let p = plan(
            "containers:\n- name: app\n  image: x:1\n  env: [{name: A, value: one}, {name: B, value: '$(A)-two'}]\n  \
             command: ['$(A)', '$$(A)', '$(MISSING)', '$(A', 'cost: $5', 'end$', '$$$(B)']\n  args: ['$(B)']",
        )
        .unwrap();
        let c = &p.containers[0].spec;
        assert_eq!(
            c.entrypoint.as_deref().unwrap(),
            [
                "one",
                "$(A)",
                "$(MISSING)",
                "$(A",
                "cost: $5",
                "end$",
                "$one-two"
            ]
        );
        assert_eq!(c.cmd.as_deref().unwrap(), ["one-two"]);
    }

    #[test]
    fn env_values_expand_only_earlier_variables() {
        let p = plan(
            "containers:\n- name: app\n  image: x:1\n  env:\n  - {name: FIRST, value: '$(SECOND)'}\n  \
             - {name: SECOND, value: two}\n  - {name: THIRD, value: '$(SECOND)/$(FIRST)'}",
        )
        .unwrap();
        let c = &p.containers[0];
        assert_eq!(env_of(c, "FIRST"), Some("$(SECOND)"));
        assert_eq!(env_of(c, "THIRD"), Some("two/$(SECOND)"));
    }

    #[test]
    fn env_from_then_env_with_prefix_and_override() {
        let p = plan(
            "containers:\n- name: app\n  image: x:1\n  envFrom:\n  - configMapRef: {name: app-config}\n  \
             - {prefix: DB_, secretRef: {name: db}}\n  env: [{name: LOG_LEVEL, value: info}]",
        )
        .unwrap();
        let c = &p.containers[0];
        assert_eq!(
            env_of(c, "LOG_LEVEL"),
            Some("info"),
            "env overrides envFrom"
        );
        assert_eq!(env_of(c, "GREETING"), Some("hello"));
        assert_eq!(
            env_of(c, "app.conf"),
            Some("port=80"),
            "dots are valid in names"
        );
        assert_eq!(env_of(c, "DB_password"), Some(PW));
        assert_eq!(env_of(c, "DB_user"), Some("admin"));
        let names: Vec<&str> = c.spec.env.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names.iter().filter(|n| **n == "LOG_LEVEL").count(),
            1,
            "{names:?}"
        );
    }

    #[test]
    fn config_map_and_secret_key_refs() {
        let p = plan(
            "containers:\n- name: app\n  image: x:1\n  env:\n  \
             - {name: LEVEL, valueFrom: {configMapKeyRef: {name: app-config, key: LOG_LEVEL}}}\n  \
             - {name: PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}\n  \
             - {name: USER, valueFrom: {secretKeyRef: {name: db, key: user}}}",
        )
        .unwrap();
        let c = &p.containers[0];
        assert_eq!(env_of(c, "LEVEL"), Some("debug"));
        assert_eq!(env_of(c, "PASSWORD"), Some(PW), "data is base64");
        assert_eq!(env_of(c, "USER"), Some("admin"), "stringData is plain");
    }

    #[test]
    fn optional_missing_refs_are_tolerated() {
        let p = plan(
            "containers:\n- name: app\n  image: x:1\n  envFrom: [{configMapRef: {name: nope, optional: true}}]\n  env:\n  \
             - {name: A, valueFrom: {secretKeyRef: {name: nope, key: k, optional: true}}}\n  \
             - {name: B, valueFrom: {configMapKeyRef: {name: app-config, key: nokey, optional: true}}}",
        )
        .unwrap();
        assert!(p.containers[0].spec.env.is_empty());
    }

    #[test]
    fn missing_secret_is_an_error_naming_pod_container_var_and_object() {
        let err = plan(
            "containers:\n- name: app\n  image: x:1\n  env: [{name: API_KEY, valueFrom: {secretKeyRef: {name: api, key: k}}}]",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod `web-0` container `app`: env var `API_KEY` refers to Secret `api`, which does not exist \
             (Kubernetes would block the pod with CreateContainerConfigError)"
        );
    }

    #[test]
    fn missing_key_is_an_error_without_secret_values() {
        let err = plan(
            "containers:\n- name: app\n  image: x:1\n  env: [{name: P, valueFrom: {secretKeyRef: {name: db, key: pass}}}]",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, PodError::MissingKey { .. }), "{msg}");
        assert!(msg.contains("key `pass` of Secret `db`"), "{msg}");
        assert!(!msg.contains(PW) && !format!("{err:?}").contains(PW));
    }

    #[test]
    fn missing_config_map_for_env_from_is_an_error() {
        let err = plan(
            "containers:\n- name: app\n  image: x:1\n  envFrom: [{configMapRef: {name: gone}}]",
        )
        .unwrap_err();
        assert!(
            matches!(&err, PodError::MissingObject { kind: ConfigKind::ConfigMap, name, .. } if name == "gone"),
            "{err}"
        );
    }

    #[test]
    fn field_refs_resolve_from_the_pod() {
        let p = plan(
            "serviceAccountName: web-sa\ncontainers:\n- name: app\n  image: x:1\n  env:\n  \
             - {name: NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}\n  \
             - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}\n  \
             - {name: APP, valueFrom: {fieldRef: {fieldPath: \"metadata.labels['app']\"}}}\n  \
             - {name: TEAM, valueFrom: {fieldRef: {fieldPath: \"metadata.annotations['team']\"}}}\n  \
             - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}\n  \
             - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}\n  \
             - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}\n  \
             - {name: UID, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}",
        )
        .unwrap();
        let c = &p.containers[0];
        let got: Vec<_> = ["NAME", "NS", "APP", "TEAM", "NODE", "SA", "IP"]
            .iter()
            .map(|n| env_of(c, n).unwrap())
            .collect();
        assert_eq!(
            got,
            ["web-0", "shop", "web", "core", "syncsim", "web-sa", "web-0"]
        );
        assert_eq!(env_of(c, "UID").unwrap().len(), 36);
    }

    #[test]
    fn unsupported_field_ref_is_an_error() {
        let err = plan(
            "containers:\n- name: app\n  image: x:1\n  env: [{name: X, valueFrom: {fieldRef: {fieldPath: status.phase}}}]",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod `web-0` container `app`: env var `X` uses unsupported field `status.phase`"
        );
    }

    #[test]
    fn resource_field_refs_divide_and_round_up() {
        let p = plan(
            "containers:\n- name: app\n  image: x:1\n  resources: {limits: {memory: 512Mi, cpu: 1500m}, requests: {cpu: 250m}}\n  env:\n  \
             - {name: MEM_MB, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}\n  \
             - {name: CPUS, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}\n  \
             - {name: REQ_M, valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}}\n  \
             - {name: REQ_MEM, valueFrom: {resourceFieldRef: {resource: requests.memory}}}",
        )
        .unwrap();
        let c = &p.containers[0];
        assert_eq!(env_of(c, "MEM_MB"), Some("512"));
        assert_eq!(env_of(c, "CPUS"), Some("2"));
        assert_eq!(env_of(c, "REQ_M"), Some("250"));
        assert_eq!(
            env_of(c, "REQ_MEM"),
            Some("536870912"),
            "request defaults to the limit"
        );
    }

    #[test]
    fn resource_limits_become_bytes_and_nano_cpus() {
        let p = plan("containers:\n- name: app\n  image: x:1\n  resources: {limits: {memory: 256Mi, cpu: 500m}}").unwrap();
        let c = &p.containers[0].spec;
        assert_eq!(c.memory_limit_bytes, Some(268_435_456));
        assert_eq!(c.nano_cpus, Some(500_000_000));
    }

    #[test]
    fn invalid_quantity_is_an_error_naming_the_field() {
        let err =
            plan("containers:\n- name: app\n  image: x:1\n  resources: {limits: {memory: 1MB}}")
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod `web-0` container `app`: invalid quantity in `resources.limits.memory`"
        );
    }

    #[test]
    fn first_container_owns_network_aliases_hostname_and_all_ports() {
        let mut p = plan(
            "containers:\n- name: app\n  image: x:1\n  ports: [{containerPort: 8080, name: http}, {containerPort: 53, protocol: UDP}]\n  \
             readinessProbe: {httpGet: {port: http, path: /ready}}\n  livenessProbe: {tcpSocket: {port: 9000}}\n\
             - name: sidecar\n  image: y:1\n  ports: [{containerPort: 9090}, {containerPort: 8080}]\n  workingDir: /srv",
        )
        .unwrap();
        let (first, second) = (&p.containers[0], &p.containers[1]);
        assert_eq!(
            first.spec.network,
            NetworkAttachment::Network {
                name: "syncsim-net".into(),
                aliases: vec!["web-0".into(), "web".into()]
            }
        );
        assert_eq!(first.spec.hostname.as_deref(), Some("web-0"));
        assert_eq!(
            first.spec.ports,
            vec![8080, 9000, 9090],
            "declared, probe and sidecar ports, deduplicated"
        );
        assert!(second.spec.ports.is_empty() && second.netns_from_first);
        assert_eq!(second.spec.working_dir.as_deref(), Some("/srv"));
        assert!(
            p.warnings.iter().any(|w| w.contains("UDP")),
            "{:?}",
            p.warnings
        );
        let readiness = first.probes.readiness.as_ref().unwrap();
        assert_eq!(readiness.port(), Some(8080));
        p.join_first("abc123");
        assert_eq!(
            p.containers[1].spec.network,
            NetworkAttachment::Container {
                id: "abc123".into()
            }
        );
        assert!(matches!(
            p.containers[0].spec.network,
            NetworkAttachment::Network { .. }
        ));
    }

    #[test]
    fn init_containers_run_first_on_the_network_without_aliases_or_ports() {
        let p = plan(
            "initContainers:\n- {name: migrate, image: 'm:1', command: [migrate], ports: [{containerPort: 1}]}\n\
             - {name: seed, image: 's:1'}\ncontainers: [{name: app, image: 'x:1'}]",
        )
        .unwrap();
        let names: Vec<&str> = p.init_containers.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["migrate", "seed"]);
        let m = &p.init_containers[0];
        assert_eq!(
            m.spec.network,
            NetworkAttachment::Network {
                name: "syncsim-net".into(),
                aliases: vec![]
            }
        );
        assert!(m.spec.ports.is_empty());
        assert_eq!(p.containers[0].spec.ports, Vec::<u16>::new());
    }

    #[test]
    fn native_sidecar_becomes_the_first_main_container_with_a_warning() {
        let p = plan(
            "initContainers: [{name: proxy, image: 'p:1', restartPolicy: Always, ports: [{containerPort: 15000}]}]\n\
             containers: [{name: app, image: 'x:1', ports: [{containerPort: 80}]}]",
        )
        .unwrap();
        assert!(p.init_containers.is_empty());
        assert_eq!(
            p.containers
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            ["proxy", "app"]
        );
        assert_eq!(p.containers[0].spec.ports, vec![15000, 80]);
        assert!(p.warnings.iter().any(|w| w.contains("sidecar")));
    }

    #[test]
    fn restart_and_pull_policies_are_defaulted_like_kubernetes() {
        let p = plan(
            "containers:\n- {name: a, image: 'nginx'}\n- {name: b, image: 'nginx:latest'}\n- {name: c, image: 'registry:5000/nginx:1.27'}\n\
             - {name: d, image: 'nginx@sha256:abc'}\n- {name: e, image: 'nginx:1', imagePullPolicy: Never}\n- {name: f, image: 'registry:5000/nginx'}",
        )
        .unwrap();
        let pulls: Vec<PullPolicy> = p.containers.iter().map(|c| c.pull_policy).collect();
        use PullPolicy::*;
        assert_eq!(
            pulls,
            [Always, Always, IfNotPresent, IfNotPresent, Never, Always]
        );
        assert_eq!(p.restart_policy, RestartPolicy::Always);
        let p = plan("restartPolicy: Never\ncontainers: [{name: a, image: 'x:1'}]").unwrap();
        assert_eq!(p.restart_policy, RestartPolicy::Never);
    }

    #[test]
    fn images_are_rewritten_exactly() {
        let p = plan_with(
            "containers: [{name: a, image: 'postgres:16'}, {name: b, image: 'postgres:15'}]",
            |ctx| {
                ctx.images
                    .insert("postgres:16".into(), "syncsim/postgres:15".into());
            },
        )
        .unwrap();
        assert_eq!(p.containers[0].spec.image, "syncsim/postgres:15");
        assert_eq!(p.containers[1].spec.image, "postgres:15");
    }

    #[test]
    fn config_map_volume_writes_every_key_with_default_mode() {
        let p = plan(
            "volumes: [{name: cfg, configMap: {name: app-config, defaultMode: 0o600}}]\n\
             containers: [{name: a, image: 'x:1', volumeMounts: [{name: cfg, mountPath: /etc/app/}]}]",
        )
        .unwrap();
        let files: Vec<(&str, u32)> = p.containers[0]
            .spec
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.mode))
            .collect();
        assert_eq!(
            files,
            [
                ("/etc/app/GREETING", 0o600),
                ("/etc/app/LOG_LEVEL", 0o600),
                ("/etc/app/app.conf", 0o600),
                ("/etc/app/blob", 0o600)
            ]
        );
        let blob = p.containers[0]
            .spec
            .files
            .iter()
            .find(|f| f.path.ends_with("blob"))
            .unwrap();
        assert_eq!(blob.content, vec![0, 1, 2], "binaryData is base64");
    }

    #[test]
    fn items_map_keys_to_paths_with_per_item_mode() {
        let p = plan(
            "volumes: [{name: s, secret: {secretName: db, items: [{key: password, path: creds/pw, mode: 0o400}, {key: user, path: user.txt}]}}]\n\
             containers: [{name: a, image: 'x:1', volumeMounts: [{name: s, mountPath: /run/secrets, readOnly: true}]}]",
        )
        .unwrap();
        let f = &p.containers[0].spec.files;
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].path.as_str(), f[0].mode, f[0].content.as_slice()),
            ("/run/secrets/creds/pw", 0o400, PW.as_bytes())
        );
        assert_eq!(
            (f[1].path.as_str(), f[1].mode),
            ("/run/secrets/user.txt", 0o644)
        );
    }

    #[test]
    fn sub_path_mounts_a_single_key_at_the_mount_path() {
        let p = plan(
            "volumes: [{name: cfg, configMap: {name: app-config}}]\n\
             containers: [{name: a, image: 'x:1', volumeMounts: [{name: cfg, mountPath: /etc/nginx/app.conf, subPath: app.conf}]}]",
        )
        .unwrap();
        let f = &p.containers[0].spec.files;
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].path.as_str(), f[0].content.as_slice()),
            ("/etc/nginx/app.conf", b"port=80".as_slice())
        );
    }

    #[test]
    fn missing_item_key_is_an_error_unless_optional() {
        let yaml = |optional: bool| {
            format!(
                "volumes: [{{name: cfg, configMap: {{name: app-config, optional: {optional}, items: [{{key: nope, path: x}}]}}}}]\n\
                 containers: [{{name: a, image: 'x:1', volumeMounts: [{{name: cfg, mountPath: /c}}]}}]"
            )
        };
        assert!(matches!(
            plan(&yaml(false)).unwrap_err(),
            PodError::MissingKey { .. }
        ));
        assert!(plan(&yaml(true)).unwrap().containers[0]
            .spec
            .files
            .is_empty());
    }

    #[test]
    fn missing_config_map_volume_is_an_error_naming_the_container() {
        let err = plan(
            "volumes: [{name: cfg, configMap: {name: gone}}]\n\
             containers: [{name: a, image: 'x:1', volumeMounts: [{name: cfg, mountPath: /c}]}]",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod `web-0` container `a`: volume `cfg` refers to ConfigMap `gone`, which does not exist \
             (Kubernetes would block the pod with CreateContainerConfigError)"
        );
    }

    #[test]
    fn item_paths_and_sub_paths_may_not_escape_the_volume() {
        for (items, sub) in [
            ("[{key: GREETING, path: ../../etc/passwd}]", ""),
            ("[{key: GREETING, path: /etc/passwd}]", ""),
            ("[{key: GREETING, path: a/../../b}]", ""),
            ("[{key: GREETING, path: ..data}]", ""),
            ("[{key: GREETING, path: ok}]", ", subPath: ../../etc/shadow"),
            ("[{key: GREETING, path: ok}]", ", subPath: /abs"),
        ] {
            let yaml = format!(
                "volumes: [{{name: cfg, configMap: {{name: app-config, items: {items}}}}}]\n\
                 containers: [{{name: a, image: 'x:1', volumeMounts: [{{name: cfg, mountPath: /c{sub}}}]}}]"
            );
            let err = plan(&yaml).unwrap_err();
            assert!(
                matches!(err, PodError::UnsafePath { .. }),
                "{items}{sub}: {err}"
            );
        }
        let err = plan(
            "volumes: [{name: d, emptyDir: {}}]\n\
             containers: [{name: a, image: 'x:1', volumeMounts: [{name: d, mountPath: /d, subPath: ../up}]}]",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod `web-0`: subPath `../up` of volume `d` must be a relative path without `..`"
        );
    }

    #[test]
    fn keys_that_are_not_plain_file_names_are_rejected() {
        let origin = Origin {
            file: "t".into(),
            document: 0,
            line: None,
        };
        let evil = Object::new(
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "evil"}, "data": {"../x": "1"}}),
            origin,
        );
        let lookup = |_: ConfigKind, name: &str| (name == "evil").then_some(&evil);
        let claims = |_: &str| None;
        let ctx = PodContext::new("p", "ns", "net", &lookup, &claims);
        let spec: PodSpec = serde_yaml::from_str(
            "volumes: [{name: v, configMap: {name: evil}}]\ncontainers: [{name: a, image: 'x:1', volumeMounts: [{name: v, mountPath: /v}]}]",
        )
        .unwrap();
        assert!(matches!(
            pod_containers(&spec, &ctx).unwrap_err(),
            PodError::UnsafePath { what: "key", .. }
        ));
    }

    #[test]
    fn empty_dir_is_one_pod_scoped_volume_shared_by_containers() {
        let p = plan(
            "volumes: [{name: scratch, emptyDir: {}}]\ncontainers:\n\
             - {name: a, image: 'x:1', volumeMounts: [{name: scratch, mountPath: /work}]}\n\
             - {name: b, image: 'y:1', volumeMounts: [{name: scratch, mountPath: /in, readOnly: true}]}",
        )
        .unwrap();
        assert_eq!(
            p.volumes,
            [PodVolume {
                docker_name: "web-0-scratch".into(),
                volume: "scratch".into(),
                source: PodVolumeSource::EmptyDir
            }]
        );
        let m0 = &p.containers[0].spec.mounts[0];
        let m1 = &p.containers[1].spec.mounts[0];
        assert_eq!(
            (m0.volume.as_str(), m0.target.as_str(), m0.read_only),
            ("web-0-scratch", "/work", false)
        );
        assert_eq!(
            (m1.volume.as_str(), m1.target.as_str(), m1.read_only),
            ("web-0-scratch", "/in", true)
        );
    }

    #[test]
    fn pvc_maps_to_the_claims_docker_volume_and_honours_read_only() {
        let p = plan(
            "volumes: [{name: d, persistentVolumeClaim: {claimName: data, readOnly: true}}]\n\
             containers: [{name: a, image: 'x:1', volumeMounts: [{name: d, mountPath: /var/lib/db, subPath: pg}]}]",
        )
        .unwrap();
        assert_eq!(
            p.volumes[0].source,
            PodVolumeSource::Claim {
                claim: "data".into()
            }
        );
        assert_eq!(
            p.containers[0].spec.mounts,
            [Mount {
                volume: "syncsim-pvc-data".into(),
                target: "/var/lib/db".into(),
                read_only: true,
                sub_path: Some("pg".into())
            }]
        );
    }

    #[test]
    fn missing_claim_is_an_error() {
        let err = plan(
            "volumes: [{name: d, persistentVolumeClaim: {claimName: other}}]\ncontainers: [{name: a, image: 'x:1'}]",
        )
        .unwrap_err();
        assert!(
            matches!(&err, PodError::MissingClaim { claim, .. } if claim == "other"),
            "{err}"
        );
    }

    #[test]
    fn unsupported_volume_types_are_errors_naming_the_type() {
        let err = plan("volumes: [{name: h, hostPath: {path: /var/run/docker.sock}}]\ncontainers: [{name: a, image: 'x:1'}]").unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod `web-0`: volume `h` is of type `hostPath`, which syncsim does not support \
             (supported: configMap, secret, emptyDir, persistentVolumeClaim, projected configMap/secret)"
        );
        let err = plan(
            "volumes: [{name: t, projected: {sources: [{serviceAccountToken: {path: token}}]}}]\ncontainers: [{name: a, image: 'x:1'}]",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("`projected serviceAccountToken`"),
            "{err}"
        );
    }

    #[test]
    fn projected_config_map_and_secret_sources_are_combined() {
        let p = plan(
            "volumes: [{name: all, projected: {defaultMode: 0o440, sources: [\
             {configMap: {name: app-config, items: [{key: app.conf, path: app.conf}]}},\
             {secret: {name: db, items: [{key: user, path: db/user}]}}]}}]\n\
             containers: [{name: a, image: 'x:1', volumeMounts: [{name: all, mountPath: /p}]}]",
        )
        .unwrap();
        let files: Vec<(&str, u32)> = p.containers[0]
            .spec
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.mode))
            .collect();
        assert_eq!(files, [("/p/app.conf", 0o440), ("/p/db/user", 0o440)]);
    }

    #[test]
    fn mounting_an_undeclared_volume_is_an_error() {
        let err = plan(
            "containers: [{name: a, image: 'x:1', volumeMounts: [{name: ghost, mountPath: /g}]}]",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod `web-0` container `a`: volume mount `ghost` does not match any volume of the pod"
        );
    }

    #[test]
    fn invalid_secret_base64_is_an_error_without_the_value() {
        let origin = Origin {
            file: "t".into(),
            document: 0,
            line: None,
        };
        let bad = Object::new(
            serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bad"}, "data": {"k": "not base64!!"}}),
            origin,
        );
        let lookup = |_: ConfigKind, name: &str| (name == "bad").then_some(&bad);
        let claims = |_: &str| None;
        let ctx = PodContext::new("p", "ns", "net", &lookup, &claims);
        let spec: PodSpec = serde_yaml::from_str(
            "containers: [{name: a, image: 'x:1', envFrom: [{secretRef: {name: bad}}]}]",
        )
        .unwrap();
        let err = pod_containers(&spec, &ctx).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod `p`: key `k` of Secret `bad` is not valid base64"
        );
    }

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

    #[test]
    fn probes_are_parsed_and_probe_errors_name_the_pod() {
        let p =
            plan("containers: [{name: a, image: 'x:1', startupProbe: {exec: {command: [ready]}}}]")
                .unwrap();
        assert!(p.containers[0].probes.startup.is_some());
        let err = plan("containers: [{name: a, image: 'x:1', livenessProbe: {grpc: {port: 1}}}]")
            .unwrap_err();
        assert_eq!(err.to_string(), "pod `web-0`: invalid probe");
        assert!(matches!(
            err,
            PodError::Probe {
                source: ProbeError::Unsupported { .. },
                ..
            }
        ));
    }

    #[test]
    fn a_pod_without_containers_is_an_error() {
        assert!(matches!(
            plan("containers: []").unwrap_err(),
            PodError::NoContainers { .. }
        ));
    }
}
