//! A pod's `securityContext.sysctls`, as the kubelet admits and applies them.
//!
//! The kubelet admits a pod only when each of its sysctls is safe (namespaced and isolated
//! from other pods: pkg/kubelet/sysctl/safe_sysctls.go) or allowed on the node by
//! `--allowed-unsafe-sysctls` (a name, or a prefix ending in `*`). Otherwise it rejects the
//! pod: the pod is `Failed` with reason `SysctlForbidden` and the message
//! `Pod was rejected: forbidden sysctl: "<name>" not allowlisted`
//! (pkg/kubelet/sysctl/allowlist.go, `Admit`; pkg/kubelet/kubelet.go, `rejectPod`), and its
//! workload never becomes available. syncsim knows the node's list from the cluster
//! description's `allowedUnsafeSysctls`. An admitted pod's sysctls are set in the pod's
//! namespaces (Docker's `Sysctls` of the container owning them).
use super::PodSpec;

/// Safe sysctls, on a kernel recent enough for each (Kubernetes 1.32 and later).
const SAFE: [&str; 12] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
];

/// The reason of a rejected pod's status.
pub const FORBIDDEN_REASON: &str = "SysctlForbidden";

/// The pod's sysctls, names with `/` separators written with dots
/// (`convertSysctlVariableToDotsSeparator`), in order.
pub fn sysctls(spec: &PodSpec) -> Vec<(String, String)> {
    spec.security_context
        .as_ref()
        .and_then(|s| s.sysctls.as_ref())
        .into_iter()
        .flatten()
        .map(|s| (dotted(&s.name), s.value.clone()))
        .collect()
}

/// The message of the kubelet's rejection of `spec`, or `None` when it admits it: every
/// sysctl safe or allowed by `allowed_unsafe` (names or `prefix*` patterns).
pub fn rejection(spec: &PodSpec, allowed_unsafe: &[String]) -> Option<String> {
    for (name, _) in sysctls(spec) {
        let allowed = SAFE.contains(&name.as_str())
            || allowed_unsafe.iter().any(|p| {
                let p = dotted(p);
                match p.strip_suffix('*') {
                    Some(prefix) => name.starts_with(prefix),
                    None => p == name,
                }
            });
        if !allowed {
            return Some(format!(
                "Pod was rejected: forbidden sysctl: \"{name}\" not allowlisted"
            ));
        }
    }
    None
}

/// `convertSysctlVariableToDotsSeparator` (pkg/kubelet/sysctl/util.go): a name written with
/// `/` separators gets dots, and its dots become slashes (`net/ipv4/conf/eno2.100/rp_filter`
/// is `net.ipv4.conf.eno2/100.rp_filter`).
fn dotted(name: &str) -> String {
    let Some(first) = name.find(['.', '/']) else {
        return name.to_string();
    };
    if name.as_bytes()[first] == b'.' {
        return name.to_string();
    }
    name.chars()
        .map(|c| match c {
            '/' => '.',
            '.' => '/',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn spec(sysctls: &str) -> PodSpec {
        serde_yaml::from_str(&format!(
            "containers: []\nsecurityContext: {{sysctls: {sysctls}}}\n"
        ))
        .unwrap()
    }

    // pkg/kubelet/sysctl/allowlist_test.go and safe_sysctls.go: safe names pass, others need
    // the node's allowlist (a name or a `prefix*`).
    #[test_case("[{name: net.ipv4.ip_local_port_range, value: '1024 65000'}]", &[], None; "safe")]
    #[test_case("[{name: net/ipv4/tcp_syncookies, value: '1'}]", &[], None; "safe with slashes")]
    #[test_case("[{name: net.core.somaxconn, value: '1024'}]", &[], Some("net.core.somaxconn"); "unsafe")]
    #[test_case("[{name: net.core.somaxconn, value: '1024'}]", &["net.core.somaxconn"], None; "allowed by name")]
    #[test_case("[{name: kernel.msgmax, value: '65536'}]", &["kernel.msg*"], None; "allowed by prefix")]
    #[test_case("[{name: kernel.shm_rmid_forced, value: '1'}, {name: kernel.sem, value: '1 2 3 4'}]", &["kernel.msg*"], Some("kernel.sem"); "second one unsafe")]
    fn unsafe_sysctls_need_the_nodes_allowlist(
        list: &str,
        allowed: &[&str],
        refused: Option<&str>,
    ) {
        let allowed: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            rejection(&spec(list), &allowed),
            refused.map(|n| format!("Pod was rejected: forbidden sysctl: \"{n}\" not allowlisted"))
        );
    }

    #[test]
    fn slash_separated_names_are_read_with_dots() {
        assert_eq!(
            dotted("net/ipv4/conf/eno2.100/rp_filter"),
            "net.ipv4.conf.eno2/100.rp_filter"
        );
        assert_eq!(
            dotted("net.ipv4.conf.eno2/100.rp_filter"),
            "net.ipv4.conf.eno2/100.rp_filter"
        );
        assert_eq!(dotted("kernel"), "kernel");
    }
}
