//! A pod's security context, as the kubelet applies it (pure, no I/O).
//!
//! # Who runs, and the groups
//!
//! The effective `runAsUser` and `runAsGroup` (the container's, else the pod's) become the
//! Docker user (`uid[:gid]`; a group alone keeps the image's user, as containerd's
//! `generateUserString` does). The pod's `fsGroup` and `supplementalGroups` are supplementary
//! groups of every container (pkg/kubelet/kuberuntime/security_context.go,
//! `determineEffectiveSecurityContext`).
//!
//! # Volumes
//!
//! An emptyDir starts empty and world-writable (pkg/volume/emptydir/empty_dir.go creates it
//! `0777`). With `fsGroup`, the kubelet gives a volume's files that group
//! (pkg/volume/volume_linux.go, `SetVolumeOwnership`): group read (and write where the volume
//! is writable), and the setgid bit on directories. syncsim does that for the roots of emptyDir
//! and claim volumes and for the ConfigMap and Secret files it writes; what a claim's volume
//! already holds keeps its owner.
//!
//! # Privileges
//!
//! A container's `capabilities` change the runtime's default set as containerd's CRI plugin
//! changes it (internal/cri/opts/spec_linux_opts.go, `WithCapabilities`): `ALL` in `add` is
//! every capability, `ALL` in `drop` none, then the other names are added (`CAP_` and the name
//! in capitals), then dropped. The default set is containerd's and Docker's alike
//! (pkg/oci/spec.go, `defaultUnixCaps`). `privileged` is Docker's privileged mode and
//! `allowPrivilegeEscalation: false` is `no_new_privs`, as the kubelet asks for them
//! (pkg/securitycontext/util.go, `AddNoNewPrivileges`).
//!
//! A container without a `seccompProfile` (its own, else the pod's) runs without a seccomp
//! filter, as the kubelet runs it unless its `seccompDefault` setting is on (it is off by
//! default: pkg/kubelet/kuberuntime/security_context_linux.go, `getSeccompProfile`; the
//! cluster description's `seccompDefault` says it is on); Docker would apply its default
//! filter. `RuntimeDefault` keeps the runtime's filter, `Unconfined` none; a `Localhost`
//! profile is not on this machine, and the runtime's filter stands in.
//!
//! # `runAsNonRoot`
//!
//! A container whose effective security context says `runAsNonRoot: true` is refused, and its
//! pod stays Pending in `CreateContainerConfigError`, when it would run as root: its
//! `runAsUser` is 0, or it has none and its image's user is root (no user at all counts as
//! root) or a name the kubelet cannot check. A Deployment in that state never becomes
//! available, so Argo CD waits until its progress deadline; a hook Job's pod waits for ever.
//!
//! The effective context is the container's, with each field it leaves unset taken from the
//! pod's (Kubernetes' pkg/securitycontext/util.go, `DetermineEffectiveSecurityContext`). The
//! image's user is read as containerd's CRI reads it (`getUserFromImage`): the part before `:`,
//! a uid when numeric, else a user name. The messages are the kubelet's
//! (pkg/kubelet/kuberuntime/security_context_others.go, `verifyRunAsNonRoot`), except that a
//! syncsim pod has no UID, so the pod is named `name_namespace` without the `(uid)` suffix.
use crate::runtime::{Privileges, RunAs};
use k8s_openapi::api::core::v1::{Container, PodSpec};

/// The user an image runs as, from its config's `User` (`uid`, `uid:gid`, `name`, `name:group`
/// or empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageUser {
    Uid(i64),
    Name(String),
}

impl ImageUser {
    /// Reads an image config's `User`; an empty one is root, as the kubelet treats it
    /// (pkg/kubelet/kuberuntime/helpers.go, `getImageUser`).
    pub fn parse(config_user: &str) -> ImageUser {
        let user = config_user.split(':').next().unwrap_or_default();
        if user.is_empty() {
            return ImageUser::Uid(0);
        }
        match user.parse::<i64>() {
            Ok(uid) => ImageUser::Uid(uid),
            Err(_) => ImageUser::Name(user.to_string()),
        }
    }
}

/// The user and group `container` of `pod` runs as; `None` when neither is set (the image's).
pub fn run_as(pod: &PodSpec, container: &Container) -> Option<RunAs> {
    let c = container.security_context.as_ref();
    let p = pod.security_context.as_ref();
    let run_as = RunAs {
        uid: c
            .and_then(|s| s.run_as_user)
            .or_else(|| p.and_then(|s| s.run_as_user)),
        gid: c
            .and_then(|s| s.run_as_group)
            .or_else(|| p.and_then(|s| s.run_as_group)),
    };
    (run_as != RunAs::default()).then_some(run_as)
}

/// The supplementary groups of every container of `pod`: its `fsGroup`, then its
/// `supplementalGroups`.
pub fn supplemental_groups(pod: &PodSpec) -> Vec<i64> {
    let Some(sc) = pod.security_context.as_ref() else {
        return Vec::new();
    };
    let mut groups: Vec<i64> = sc.fs_group.into_iter().collect();
    for g in sc.supplemental_groups.iter().flatten() {
        if !groups.contains(g) {
            groups.push(*g);
        }
    }
    groups
}

/// The mode a writable volume's root gets before the container starts: an emptyDir's `0777`
/// (with the setgid bit under an `fsGroup`); a claim's only under an `fsGroup`, a fresh
/// volume's `0755` with the group's write and setgid bits added (`02775`).
pub fn volume_root_mode(empty_dir: bool, fs_group: Option<i64>) -> Option<u32> {
    match (empty_dir, fs_group) {
        (true, None) => Some(0o777),
        (true, Some(_)) => Some(0o2777),
        (false, Some(_)) => Some(0o2775),
        (false, None) => None,
    }
}

/// The capabilities in containerd's and Docker's default set.
const DEFAULT_CAPABILITIES: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// The privileges of `container` of `pod`, for Docker: the capabilities containerd would give
/// it, written as a `CapAdd`/`CapDrop` pair that Docker resolves to the same set.
/// `seccomp_default` is the kubelet's setting: the runtime's filter when no profile is asked for.
pub fn privileges(pod: &PodSpec, container: &Container, seccomp_default: bool) -> Privileges {
    let sc = container.security_context.as_ref();
    let seccomp = sc
        .and_then(|s| s.seccomp_profile.as_ref())
        .or_else(|| {
            pod.security_context
                .as_ref()
                .and_then(|s| s.seccomp_profile.as_ref())
        })
        .map(|p| p.type_.as_str());
    let mut out = Privileges {
        privileged: sc.and_then(|s| s.privileged) == Some(true),
        no_new_privileges: sc.and_then(|s| s.allow_privilege_escalation) == Some(false),
        seccomp_unconfined: match seccomp {
            None => !seccomp_default,
            Some(t) => t == "Unconfined",
        },
        ..Privileges::default()
    };
    let Some(caps) = sc.and_then(|s| s.capabilities.as_ref()) else {
        return out;
    };
    let add = caps.add.as_deref().unwrap_or_default();
    let drop = caps.drop.as_deref().unwrap_or_default();
    let all = |names: &[String]| names.iter().any(|n| n.eq_ignore_ascii_case("ALL"));
    let named = |names: &[String]| -> Vec<String> {
        names
            .iter()
            .filter(|n| !n.eq_ignore_ascii_case("ALL"))
            .map(|n| format!("CAP_{}", n.to_ascii_uppercase()))
            .collect()
    };
    let (add_all, drop_all) = (all(add), all(drop));
    let (added, dropped) = (named(add), named(drop));
    if add_all && !drop_all {
        // Docker: every capability but those dropped.
        out.cap_add = vec!["ALL".to_string()];
        out.cap_drop = dropped;
        return out;
    }
    if add.is_empty() && drop.is_empty() {
        return out;
    }
    let start: Vec<String> = if drop_all {
        Vec::new()
    } else {
        DEFAULT_CAPABILITIES.iter().map(|c| c.to_string()).collect()
    };
    let mut set: Vec<String> = start;
    for c in added {
        if !set.contains(&c) {
            set.push(c);
        }
    }
    set.retain(|c| !dropped.contains(c));
    // Docker: with `ALL` dropped, exactly the capabilities added.
    out.cap_add = set;
    out.cap_drop = vec!["ALL".to_string()];
    out
}

/// The `runAsNonRoot` and `runAsUser` in force for `container` of `pod`.
fn effective(pod: &PodSpec, container: &Container) -> (Option<bool>, Option<i64>) {
    let c = container.security_context.as_ref();
    let p = pod.security_context.as_ref();
    (
        c.and_then(|s| s.run_as_non_root)
            .or_else(|| p.and_then(|s| s.run_as_non_root)),
        c.and_then(|s| s.run_as_user)
            .or_else(|| p.and_then(|s| s.run_as_user)),
    )
}

/// Whether the check needs the image's user: `runAsNonRoot` is on and no `runAsUser` says who
/// runs.
pub fn needs_image_user(pod: &PodSpec, container: &Container) -> bool {
    matches!(effective(pod, container), (Some(true), None))
}

/// The kubelet's verdict on `container` of pod `pod_name` in `namespace`: `Err(message)` when
/// it would refuse to create it. `image_user` is only read when [`needs_image_user`].
pub fn verify_run_as_non_root(
    pod: &PodSpec,
    container: &Container,
    pod_name: &str,
    namespace: &str,
    image_user: impl FnOnce() -> ImageUser,
) -> Result<(), String> {
    let (non_root, user) = effective(pod, container);
    if non_root != Some(true) {
        return Ok(());
    }
    let who = format!(
        "(pod: \"{pod_name}_{namespace}\", container: {})",
        container.name
    );
    if let Some(uid) = user {
        if uid == 0 {
            return Err(format!(
                "container's runAsUser breaks non-root policy {who}"
            ));
        }
        return Ok(());
    }
    match image_user() {
        ImageUser::Name(name) => Err(format!(
            "container has runAsNonRoot and image has non-numeric user ({name}), cannot verify user is non-root {who}"
        )),
        ImageUser::Uid(0) => Err(format!(
            "container has runAsNonRoot and image will run as root {who}"
        )),
        // Kubernetes' validation.IsValidUserID: 0 to 2^31-1.
        ImageUser::Uid(uid) if !(0..=i64::from(i32::MAX)).contains(&uid) => Err(format!(
            "container has runAsNonRoot and image has an invalid user id ({uid}). (Must be 1-({})): must be between 0 and 2147483647, inclusive {who}",
            i32::MAX
        )),
        ImageUser::Uid(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn pod(yaml: &str) -> PodSpec {
        serde_yaml::from_str(yaml).expect("pod spec")
    }

    fn container(security_context: &str) -> Container {
        serde_yaml::from_str(&format!("name: c\nsecurityContext: {security_context}\n"))
            .expect("container")
    }

    fn caps(list: &[&str]) -> Vec<String> {
        list.iter().map(|c| c.to_string()).collect()
    }

    // containerd internal/cri/opts/spec_linux_opts.go `WithCapabilities`: ALL first, then the
    // names added, then the names dropped; Docker resolves CapAdd/CapDrop with ALL dropped to
    // exactly CapAdd, with ALL added to every capability but CapDrop (moby oci/caps).
    #[test_case("{}", &[], &[]; "none: the default set")]
    #[test_case("{capabilities: {}}", &[], &[]; "empty: the default set")]
    #[test_case("{capabilities: {drop: [ALL]}}", &[], &["ALL"]; "drop all")]
    #[test_case("{capabilities: {drop: [all], add: [net_bind_service]}}", &["CAP_NET_BIND_SERVICE"], &["ALL"]; "drop all add one")]
    #[test_case("{capabilities: {add: [ALL], drop: [CHOWN]}}", &["ALL"], &["CAP_CHOWN"]; "add all drop one")]
    #[test_case("{capabilities: {add: [ALL], drop: [ALL]}}", &[], &["ALL"]; "add all and drop all")]
    #[test_case("{capabilities: {add: [NET_ADMIN, CHOWN], drop: [NET_ADMIN]}}", &["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"], &["ALL"]; "a drop wins over an add")]
    #[test_case("{capabilities: {drop: [NET_RAW], add: [SYS_TIME]}}", &["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", "CAP_SYS_TIME"], &["ALL"]; "drop one add one")]
    fn capabilities_change_the_default_set_as_containerd_does(
        sc: &str,
        add: &[&str],
        drop: &[&str],
    ) {
        let p = privileges(&PodSpec::default(), &container(sc), false);
        assert_eq!((p.cap_add, p.cap_drop), (caps(add), caps(drop)));
    }

    // pkg/securitycontext/util.go AddNoNewPrivileges: only an explicit false sets it.
    #[test_case("{}", false, false; "neither")]
    #[test_case("{allowPrivilegeEscalation: true}", false, false; "escalation allowed")]
    #[test_case("{allowPrivilegeEscalation: false}", false, true; "no new privileges")]
    #[test_case("{privileged: true}", true, false; "privileged")]
    fn privileged_and_no_new_privileges(sc: &str, privileged: bool, no_new: bool) {
        let p = privileges(&PodSpec::default(), &container(sc), false);
        assert_eq!((p.privileged, p.no_new_privileges), (privileged, no_new));
    }

    // pkg/kubelet/kuberuntime/security_context_linux.go getSeccompProfile: the container's
    // profile, else the pod's, else Unconfined (the kubelet's seccompDefault is off).
    #[test_case("{}", "{}", true; "none: unconfined")]
    #[test_case("{seccompProfile: {type: RuntimeDefault}}", "{}", false; "pod runtime default")]
    #[test_case("{seccompProfile: {type: RuntimeDefault}}", "{seccompProfile: {type: Unconfined}}", true; "container overrides pod")]
    #[test_case("{}", "{seccompProfile: {type: RuntimeDefault}}", false; "container runtime default")]
    #[test_case("{}", "{seccompProfile: {type: Localhost, localhostProfile: p.json}}", false; "localhost: the runtime's")]
    fn seccomp_is_unconfined_unless_a_profile_says_otherwise(
        pod_sc: &str,
        sc: &str,
        unconfined: bool,
    ) {
        let spec = pod(&format!("containers: []\nsecurityContext: {pod_sc}\n"));
        assert_eq!(
            privileges(&spec, &container(sc), false).seccomp_unconfined,
            unconfined
        );
        // With the kubelet's seccompDefault on, no profile means the runtime's filter.
        if pod_sc == "{}" && sc == "{}" {
            assert!(!privileges(&spec, &container(sc), true).seccomp_unconfined);
        }
    }

    // containerd's getUserFromImage (internal/cri/server/images/image_status.go) and the
    // kubelet's getImageUser (pkg/kubelet/kuberuntime/helpers.go): empty is root.
    #[test_case("", ImageUser::Uid(0); "no user is root")]
    #[test_case("0", ImageUser::Uid(0); "uid 0")]
    #[test_case("1000", ImageUser::Uid(1000); "uid")]
    #[test_case("1000:1000", ImageUser::Uid(1000); "uid and gid")]
    #[test_case("postgres", ImageUser::Name("postgres".into()); "name")]
    #[test_case("nobody:nogroup", ImageUser::Name("nobody".into()); "name and group")]
    #[test_case(":1000", ImageUser::Uid(0); "group only is root")]
    fn image_user_is_read_as_containerd_reads_it(user: &str, want: ImageUser) {
        assert_eq!(ImageUser::parse(user), want);
    }

    const C: &str = "containers: [{name: app, image: x}]";

    // pkg/kubelet/kuberuntime/security_context_others_test.go, TestVerifyRunAsNonRoot, in the
    // cases syncsim meets (the messages are verifyRunAsNonRoot's, without the pod UID).
    #[test_case(C, "", Ok(()); "no security context runs as root")]
    #[test_case("securityContext: {runAsNonRoot: false}\n", "", Ok(()); "run as root allowed")]
    #[test_case("securityContext: {runAsNonRoot: true}\n", "", Err("container has runAsNonRoot and image will run as root (pod: \"web-1_demo\", container: app)"); "image without user")]
    #[test_case("securityContext: {runAsNonRoot: true}\n", "0:0", Err("container has runAsNonRoot and image will run as root (pod: \"web-1_demo\", container: app)"); "image user 0")]
    #[test_case("securityContext: {runAsNonRoot: true}\n", "1000", Ok(()); "image user 1000")]
    #[test_case("securityContext: {runAsNonRoot: true}\n", "app", Err("container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root (pod: \"web-1_demo\", container: app)"); "image user name")]
    #[test_case("securityContext: {runAsNonRoot: true, runAsUser: 1000}\n", "", Ok(()); "pod run as user")]
    #[test_case("securityContext: {runAsNonRoot: true, runAsUser: 0}\n", "1000", Err("container's runAsUser breaks non-root policy (pod: \"web-1_demo\", container: app)"); "pod run as user 0")]
    #[test_case("securityContext: {runAsNonRoot: true, runAsUser: 1000}\ncontainers: [{name: app, image: x, securityContext: {runAsUser: 0}}]", "", Err("container's runAsUser breaks non-root policy (pod: \"web-1_demo\", container: app)"); "container user overrides the pod's")]
    #[test_case("securityContext: {runAsNonRoot: true}\ncontainers: [{name: app, image: x, securityContext: {runAsNonRoot: false}}]", "", Ok(()); "container allows root over the pod")]
    #[test_case("containers: [{name: app, image: x, securityContext: {runAsNonRoot: true}}]", "", Err("container has runAsNonRoot and image will run as root (pod: \"web-1_demo\", container: app)"); "container level")]
    #[test_case("securityContext: {runAsNonRoot: true}\n", "4294967296", Err("container has runAsNonRoot and image has an invalid user id (4294967296). (Must be 1-(2147483647)): must be between 0 and 2147483647, inclusive (pod: \"web-1_demo\", container: app)"); "image uid out of range")]
    fn run_as_non_root_is_verified_as_the_kubelet_does(
        spec: &str,
        image_user: &str,
        want: Result<(), &str>,
    ) {
        let yaml = if spec.contains("containers:") {
            spec.to_string()
        } else {
            format!("{spec}{C}")
        };
        let p = pod(&yaml);
        let got = verify_run_as_non_root(&p, &p.containers[0], "web-1", "demo", || {
            ImageUser::parse(image_user)
        });
        assert_eq!(got, want.map_err(str::to_string));
    }

    // pkg/securitycontext/util.go (the container's fields over the pod's) and containerd's
    // generateUserString (a group alone keeps the image's user).
    #[test_case(C, None; "nothing set")]
    #[test_case("securityContext: {runAsUser: 1000}\n", Some((Some(1000), None)); "pod user")]
    #[test_case("securityContext: {runAsUser: 1000, runAsGroup: 3000}\n", Some((Some(1000), Some(3000))); "pod user and group")]
    #[test_case("securityContext: {runAsGroup: 3000}\n", Some((None, Some(3000))); "group alone")]
    #[test_case("securityContext: {runAsUser: 1000, runAsGroup: 3000}\ncontainers: [{name: app, image: x, securityContext: {runAsUser: 2000}}]", Some((Some(2000), Some(3000))); "container user over the pod's")]
    fn the_user_is_the_containers_else_the_pods(
        spec: &str,
        want: Option<(Option<i64>, Option<i64>)>,
    ) {
        let yaml = if spec.contains("containers:") {
            spec.to_string()
        } else {
            format!("{spec}{C}")
        };
        let p = pod(&yaml);
        assert_eq!(
            run_as(&p, &p.containers[0]),
            want.map(|(uid, gid)| RunAs { uid, gid })
        );
    }

    #[test]
    fn fs_group_and_supplemental_groups_are_every_containers_groups() {
        let p = pod("securityContext: {fsGroup: 2000, supplementalGroups: [4000, 2000, 5000]}\ncontainers: [{name: a, image: x}]");
        assert_eq!(supplemental_groups(&p), [2000, 4000, 5000]);
        assert!(supplemental_groups(&pod(C)).is_empty());
    }

    // pkg/volume/emptydir/empty_dir.go (0777) and pkg/volume/volume_linux.go
    // (SetVolumeOwnership: rw mask 0660, setgid and execute on directories).
    #[test]
    fn volume_roots_are_writable_as_on_a_cluster() {
        assert_eq!(volume_root_mode(true, None), Some(0o777));
        assert_eq!(volume_root_mode(true, Some(1000)), Some(0o2777));
        assert_eq!(volume_root_mode(false, Some(1000)), Some(0o2775));
        assert_eq!(volume_root_mode(false, None), None);
    }

    #[test]
    fn the_image_is_only_inspected_when_no_run_as_user_decides() {
        let p = pod("securityContext: {runAsNonRoot: true, runAsUser: 7}\ncontainers: [{name: a, image: x}, {name: b, image: y, securityContext: {runAsUser: null}}]");
        assert!(!needs_image_user(&p, &p.containers[0]));
        let p = pod("containers: [{name: a, image: x, securityContext: {runAsNonRoot: true}}, {name: b, image: y}]");
        assert!(needs_image_user(&p, &p.containers[0]));
        assert!(!needs_image_user(&p, &p.containers[1]));
        let r = verify_run_as_non_root(&p, &p.containers[1], "p", "n", || panic!("not inspected"));
        assert_eq!(r, Ok(()));
    }
}
