//! [`pod_containers`]: a pod spec assembled into init containers, main containers, volumes and
//! probes, with the pod's network namespace owned by its first main container.
use super::{
    env::Env,
    error::{PodError, Result},
    lifecycle, security,
    volumes::{escapes_volume, PodVolumes, ResolvedVolume},
    ContainerProbes, PodContainer, PodContext, PodPlan, PodSpec, PodVolume, PodVolumeSource,
    PullPolicy, RestartPolicy,
};
use crate::{
    cluster::{
        probe::{Probe, ProbeKind},
        quantity::{Quantity, QuantityError},
    },
    runtime::{ContainerSpec, FileSpec, Mount, NetworkAttachment},
};
use k8s_openapi::api::core::v1 as k8s;
use std::collections::BTreeSet;

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
    let mut volumes = PodVolumes::resolve(spec, ctx, &mut warnings)?;

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
            let mut pc = container(c, spec, ctx, &mut volumes, false, &mut warnings)?;
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
        containers.push(container(c, spec, ctx, &mut volumes, true, &mut warnings)?);
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
            if ctx.publish_ports {
                pc.spec.ports = ports.clone();
            }
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
    volumes: &mut PodVolumes,
    main: bool,
    warnings: &mut Vec<String>,
) -> Result<PodContainer> {
    let pod = || ctx.pod_name.clone();
    let dns = super::dns::resolver(spec, &ctx.namespace);
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

    let fs_group = spec.security_context.as_ref().and_then(|s| s.fs_group);
    let read_only_root = c
        .security_context
        .as_ref()
        .and_then(|s| s.read_only_root_filesystem)
        == Some(true);
    // A single ConfigMap/Secret file in the root filesystem, where a read-only one cannot
    // take it.
    let mut file_in_root = None;
    let mut config_volumes = Vec::new();
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
            if escapes_volume(sp) {
                return Err(PodError::UnsafePath {
                    pod: pod(),
                    volume: m.name.clone(),
                    what: "subPath",
                    path: sp.clone(),
                });
            }
        }
        let target = m.mount_path.trim_end_matches('/');
        let target = if target.is_empty() { "/" } else { target };
        match vol {
            ResolvedVolume::Docker {
                docker_name,
                read_only,
                empty_dir,
            } => {
                let read_only = *read_only || m.read_only.unwrap_or(false);
                let whole = sub_path.is_none() && !read_only;
                mounts.push(Mount {
                    volume: docker_name.clone(),
                    target: target.to_string(),
                    read_only,
                    root_mode: whole
                        .then(|| security::volume_root_mode(*empty_dir, fs_group))
                        .flatten(),
                    no_copy: *empty_dir,
                    sub_path,
                })
            }
            ResolvedVolume::Files(entries) => match &sub_path {
                // A subPath of a ConfigMap/Secret volume mounts that one file at the mount path.
                Some(sp) => match entries.iter().find(|f| f.rel_path == *sp) {
                    Some(f) => {
                        file_in_root.get_or_insert_with(|| m.name.clone());
                        files.push(FileSpec {
                            path: target.to_string(),
                            content: f.content.clone(),
                            mode: f.mode,
                        })
                    }
                    // Kubernetes creates an empty directory there; say so.
                    None => warnings.push(format!(
                        "container `{}` mounts subPath `{sp}` of volume `{}`, which has no such file: an empty directory in Kubernetes, nothing in syncsim",
                        c.name, m.name
                    )),
                },
                None => {
                    if read_only_root {
                        // Its files go into a volume of the pod mounted there (Docker writes
                        // nothing into a read-only root filesystem). Names of containers and
                        // volumes hold no dot, so this one is the pod's only.
                        let docker_name = format!("{}{}.{}", ctx.container_prefix, c.name, m.name);
                        config_volumes.push(PodVolume {
                            docker_name: docker_name.clone(),
                            volume: m.name.clone(),
                            source: PodVolumeSource::EmptyDir,
                        });
                        mounts.push(Mount {
                            volume: docker_name,
                            target: target.to_string(),
                            no_copy: true,
                            ..Mount::default()
                        });
                    }
                    files.extend(entries.iter().map(|f| FileSpec {
                        path: join(target, &f.rel_path),
                        content: f.content.clone(),
                        mode: f.mode,
                    }))
                }
            },
        }
    }

    let read_only_rootfs = match (read_only_root, file_in_root) {
        (true, Some(volume)) => {
            warnings.push(format!(
                "container `{}` has readOnlyRootFilesystem but mounts a single file of volume `{volume}` (subPath), which syncsim writes into its root filesystem: the root filesystem stays writable",
                c.name
            ));
            false
        }
        (read_only, _) => read_only,
    };
    if read_only_rootfs {
        volumes.docker.extend(config_volumes);
    } else {
        mounts.retain(|m| !config_volumes.iter().any(|v| v.docker_name == m.volume));
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
            extra_hosts: host_aliases(spec),
            sysctls: super::sysctl::sysctls(spec),
            dns_search: dns.search.clone(),
            dns_options: dns.options.clone(),
            network: NetworkAttachment::None,
            mounts,
            files,
            ports: Vec::new(),
            memory_limit_bytes,
            nano_cpus,
            labels: ctx.labels.clone(),
            user: security::run_as(spec, c),
            group_add: security::supplemental_groups(spec),
            fs_group,
            read_only_rootfs,
            privileges: security::privileges(spec, c, ctx.seccomp_default),
        },
        pull_policy,
        probes,
        post_start: lifecycle::post_start(c, warnings),
        netns_from_first: false,
        secret_env: env.secret,
        secret_args,
    })
}

/// The pod's `hostAliases` as `/etc/hosts` entries `name:ip`, in order (the kubelet appends
/// them to the pod's hosts file: pkg/kubelet/kubelet_pods.go, `hostsEntriesFromHostAliases`).
fn host_aliases(spec: &PodSpec) -> Vec<String> {
    spec.host_aliases
        .iter()
        .flatten()
        .flat_map(|a| {
            a.hostnames
                .iter()
                .flatten()
                .map(move |h| format!("{h}:{}", a.ip))
        })
        .collect()
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
#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::cluster::probe::ProbeError;
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
    fn a_read_only_root_takes_its_config_volumes_as_docker_volumes_of_the_pod() {
        let p = plan(
            "volumes: [{name: cfg, configMap: {name: app-config}}, {name: tmp, emptyDir: {}}]\n\
             containers:\n\
             - {name: app, image: 'x:1', securityContext: {readOnlyRootFilesystem: true}, volumeMounts: [{name: cfg, mountPath: /etc/app}, {name: tmp, mountPath: /tmp}]}\n\
             - {name: side, image: 'x:1', volumeMounts: [{name: cfg, mountPath: /etc/app}]}",
        )
        .unwrap();
        let (app, side) = (&p.containers[0].spec, &p.containers[1].spec);
        assert!(app.read_only_rootfs && !side.read_only_rootfs);
        let cfg = app.mounts.iter().find(|m| m.target == "/etc/app").unwrap();
        assert_eq!(cfg.volume, "web-0-app.cfg");
        assert!(cfg.no_copy && !cfg.read_only && cfg.root_mode.is_none());
        assert!(!app.files.is_empty() && app.files.iter().all(|f| f.path.starts_with("/etc/app/")));
        // The other container keeps its files in its root filesystem.
        assert!(side.mounts.is_empty() && !side.files.is_empty());
        let names: Vec<&str> = p.volumes.iter().map(|v| v.docker_name.as_str()).collect();
        assert_eq!(names, ["web-0-tmp", "web-0-app.cfg"]);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }

    #[test]
    fn a_read_only_root_with_a_single_config_file_stays_writable_with_a_warning() {
        let p = plan(
            "volumes: [{name: cfg, configMap: {name: app-config}}]\n\
             containers:\n\
             - {name: app, image: 'x:1', securityContext: {readOnlyRootFilesystem: true}, volumeMounts: [{name: cfg, mountPath: /etc/app.conf, subPath: LOG_LEVEL}]}",
        )
        .unwrap();
        assert!(!p.containers[0].spec.read_only_rootfs);
        assert!(p.volumes.is_empty());
        assert!(
            p.warnings
                .iter()
                .any(|w| w.contains("readOnlyRootFilesystem") && w.contains("`cfg`")),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn a_pod_without_containers_is_an_error() {
        assert!(matches!(
            plan("containers: []").unwrap_err(),
            PodError::NoContainers { .. }
        ));
    }
}
