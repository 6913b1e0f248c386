//! Plain data exchanged with a [`super::ContainerRuntime`]. No bollard types here.
use std::{collections::BTreeMap, time::Duration};

pub type Labels = BTreeMap<String, String>;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of the container engine, named after the operation and the object.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The engine could not be reached at all.
    #[error("cannot reach the Docker engine (is it running? is DOCKER_HOST right?)")]
    Unreachable {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An image is not present locally and could not be pulled.
    #[error("image `{image}` is not available")]
    ImageUnavailable {
        image: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// Any other engine operation failed.
    #[error("failed to {op} `{object}`")]
    Operation {
        op: &'static str,
        object: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The object does not exist (inspect/exec/logs on a removed container).
    #[error("{object} not found")]
    NotFound { object: String },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetworkSpec {
    pub name: String,
    pub labels: Labels,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct VolumeSpec {
    pub name: String,
    pub labels: Labels,
}

/// A container to create. Kubernetes semantics are already resolved: `entrypoint` is the pod's
/// `command` (replaces the image ENTRYPOINT), `cmd` its `args` (replaces CMD).
///
/// `Debug` shows env var names and file paths only: values may come from Secrets.
#[derive(Clone, Default, PartialEq)]
pub struct ContainerSpec {
    /// Docker container name (unique on the engine).
    pub name: String,
    pub image: String,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    /// Environment in order; later entries win.
    pub env: Vec<(String, String)>,
    pub working_dir: Option<String>,
    pub hostname: Option<String>,
    /// `/etc/hosts` entries `name:ip` (Kubernetes `hostAliases`); only a container with its own
    /// network namespace writes them, the others share its file.
    pub extra_hosts: Vec<String>,
    /// Kernel parameters of the container's namespaces (Kubernetes pod `sysctls`); like
    /// `extra_hosts`, only a container with its own network namespace sets them.
    pub sysctls: Vec<(String, String)>,
    /// The resolver's search domains and options (`/etc/resolv.conf`); like `extra_hosts`,
    /// only a container with its own network namespace sets them.
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    pub network: NetworkAttachment,
    /// Named volumes mounted into the container.
    pub mounts: Vec<Mount>,
    /// Files written into the container before it starts (ConfigMap/Secret volumes).
    pub files: Vec<FileSpec>,
    /// Container ports published on 127.0.0.1 (random host port) so probes work from the host.
    pub ports: Vec<u16>,
    pub memory_limit_bytes: Option<i64>,
    pub nano_cpus: Option<i64>,
    pub labels: Labels,
    /// Who the process runs as; `None` keeps the image's user.
    pub user: Option<RunAs>,
    /// Supplementary group ids of the process, besides those the image gives its user.
    pub group_add: Vec<i64>,
    /// The group that owns `files`, their directories and the mounts' roots (Kubernetes'
    /// `fsGroup`): they get it with group read access (files) or the setgid bit (directories).
    pub fs_group: Option<i64>,
    /// The root filesystem is read-only (Kubernetes `readOnlyRootFilesystem`); `files` must
    /// then all lie in writable mounts.
    pub read_only_rootfs: bool,
    /// Capabilities, privileged mode and `no_new_privs`.
    pub privileges: Privileges,
}

/// What a process may do beyond its user's rights.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Privileges {
    /// Capabilities added to and dropped from the runtime's default set, as Docker's `CapAdd`
    /// and `CapDrop` apply them (`CAP_` names, or `ALL`); both empty keep the default set.
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// Every capability and device, no seccomp or AppArmor confinement.
    pub privileged: bool,
    /// The kernel's `no_new_privs`: setuid binaries and file capabilities grant nothing.
    pub no_new_privileges: bool,
    /// No seccomp filter; otherwise the runtime's default one.
    pub seccomp_unconfined: bool,
}

/// A process's user and group ids. A group without a user runs the image's user with that
/// group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunAs {
    pub uid: Option<i64>,
    pub gid: Option<i64>,
}

/// How a container joins the network.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum NetworkAttachment {
    /// No network at all.
    #[default]
    None,
    /// Joins a user-defined network, answering to these DNS aliases.
    Network { name: String, aliases: Vec<String> },
    /// Shares the network namespace of another container (the containers of one pod).
    Container { id: String },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mount {
    /// Docker volume name.
    pub volume: String,
    /// Absolute path inside the container.
    pub target: String,
    pub read_only: bool,
    /// Mount only this sub-path of the volume (Kubernetes `subPath`); requires engine support,
    /// `None` mounts the whole volume.
    pub sub_path: Option<String>,
    /// The image's files at `target` are not copied into an empty volume (Docker copies them
    /// by default; a Kubernetes volume starts empty).
    pub no_copy: bool,
    /// Permission bits given to the volume's root before the container starts (a writable
    /// mount of the whole volume only).
    pub root_mode: Option<u32>,
}

/// A file to place in the container before it starts. `Debug` omits the content.
#[derive(Clone, PartialEq)]
pub struct FileSpec {
    /// Absolute path inside the container.
    pub path: String,
    pub content: Vec<u8>,
    /// Unix permission bits (e.g. 0o644).
    pub mode: u32,
}

/// What an engine says of a container.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerState {
    pub id: String,
    pub status: ContainerStatus,
    /// Container IP on its network, when running.
    pub ip: Option<String>,
    /// Host port (on 127.0.0.1) per published container port.
    pub host_ports: BTreeMap<u16, u16>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ContainerStatus {
    #[default]
    Created,
    Running,
    Exited {
        code: i64,
        oom_killed: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecResult {
    pub exit_code: i64,
    pub output: String,
}

/// A labelled object found on the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub kind: ListedKind,
    /// Container id, network id or volume name.
    pub id: String,
    pub name: String,
    pub labels: Labels,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ListedKind {
    Container,
    Network,
    Volume,
}

/// Default grace period for stopping containers.
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(5);

impl std::fmt::Debug for ContainerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerSpec")
            .field("name", &self.name)
            .field("image", &self.image)
            .field(
                "entrypoint",
                &self
                    .entrypoint
                    .as_ref()
                    .map(|v| v.len())
                    .map(|n| format!("<{n} items>")),
            )
            .field(
                "cmd",
                &self
                    .cmd
                    .as_ref()
                    .map(|v| v.len())
                    .map(|n| format!("<{n} items>")),
            )
            .field(
                "env",
                &self.env.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            )
            .field("working_dir", &self.working_dir)
            .field("hostname", &self.hostname)
            .field("extra_hosts", &self.extra_hosts)
            .field("sysctls", &self.sysctls)
            .field("dns_search", &self.dns_search)
            .field("dns_options", &self.dns_options)
            .field("network", &self.network)
            .field("mounts", &self.mounts)
            .field("files", &self.files)
            .field("ports", &self.ports)
            .field("memory_limit_bytes", &self.memory_limit_bytes)
            .field("nano_cpus", &self.nano_cpus)
            .field("labels", &self.labels)
            .field("user", &self.user)
            .field("group_add", &self.group_add)
            .field("fs_group", &self.fs_group)
            .field("read_only_rootfs", &self.read_only_rootfs)
            .field("privileges", &self.privileges)
            .finish()
    }
}

impl std::fmt::Debug for FileSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSpec")
            .field("path", &self.path)
            .field("content", &format_args!("<{} bytes>", self.content.len()))
            .field("mode", &format_args!("{:o}", self.mode))
            .finish()
    }
}

/// An image to build with the engine's builder (the legacy builder on Docker 20.10: no
/// BuildKit-only Dockerfile syntax). `Debug` shows build arg names only and the context's size.
#[derive(Clone, Default, PartialEq)]
pub struct BuildSpec {
    /// The tag to give the result, e.g. `syncsim-kit/shortlink:1.0.0`.
    pub tag: String,
    pub context: BuildContext,
    /// Path of the Dockerfile inside the context (`Dockerfile` when empty).
    pub dockerfile: String,
    pub build_args: BTreeMap<String, String>,
    /// Labels added to the image (e.g. the context hash).
    pub labels: Labels,
}

/// What the builder sees as its context.
#[derive(Debug, Clone, PartialEq)]
pub enum BuildContext {
    /// An uncompressed tar archive, sent as is (the caller applied `.dockerignore`).
    Tar(Vec<u8>),
    /// Every file under this directory, archived by the runtime (no `.dockerignore`).
    Dir(std::path::PathBuf),
}

impl std::fmt::Debug for BuildSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let context = match &self.context {
            BuildContext::Tar(bytes) => format!("<tar, {} bytes>", bytes.len()),
            BuildContext::Dir(dir) => dir.display().to_string(),
        };
        f.debug_struct("BuildSpec")
            .field("tag", &self.tag)
            .field("context", &context)
            .field("dockerfile", &self.dockerfile)
            .field("build_args", &self.build_args.keys().collect::<Vec<_>>())
            .field("labels", &self.labels)
            .finish()
    }
}

impl Default for BuildContext {
    fn default() -> Self {
        BuildContext::Tar(Vec::new())
    }
}

/// Why a build failed: the builder's own error text (e.g. `The command '/bin/sh -c make'
/// returned a non-zero code: 2`) and the last lines it printed before. The `source` of the
/// [`Error::Operation`] a failed `build_image` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildFailure {
    pub message: String,
    pub output_tail: Vec<String>,
}

/// Lines of build output kept for [`BuildFailure::output_tail`].
pub const BUILD_OUTPUT_TAIL: usize = 15;

impl std::fmt::Display for BuildFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message.trim_end())?;
        if !self.output_tail.is_empty() {
            write!(f, "\n    last lines of the build output:")?;
            for line in &self.output_tail {
                write!(f, "\n    | {line}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for BuildFailure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_env_values_arguments_or_file_contents() {
        let spec = ContainerSpec {
            name: "c".into(),
            entrypoint: Some(vec!["sh".into(), "-c".into(), "echo s3cr3t".into()]),
            env: vec![("TOKEN".into(), "s3cr3t".into())],
            files: vec![FileSpec {
                path: "/etc/token".into(),
                content: b"s3cr3t".to_vec(),
                mode: 0o600,
            }],
            ..ContainerSpec::default()
        };
        let shown = format!("{spec:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(
            shown.contains("TOKEN") && shown.contains("/etc/token"),
            "{shown}"
        );
    }

    #[test]
    fn build_spec_debug_shows_arg_names_and_context_size_only() {
        let spec = BuildSpec {
            tag: "t:1".into(),
            context: BuildContext::Tar(vec![0; 2048]),
            build_args: [("TOKEN".to_string(), "s3cr3t".to_string())].into(),
            ..BuildSpec::default()
        };
        let shown = format!("{spec:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("0, 0"),
            "{shown}"
        );
        assert!(
            shown.contains("TOKEN") && shown.contains("<tar, 2048 bytes>"),
            "{shown}"
        );
    }
}
