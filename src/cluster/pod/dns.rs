//! A pod's resolver settings, as the kubelet writes its `/etc/resolv.conf`
//! (pkg/kubelet/network/dns/dns.go, `GetPodDNS`): with the default `dnsPolicy: ClusterFirst`,
//! the search domains `<namespace>.svc.cluster.local svc.cluster.local cluster.local` and
//! `ndots:5`, so a bare Service name resolves to the Service of the pod's own namespace, a
//! `svc.other-namespace` name to that namespace's, and no bare name to another namespace's.
//! The network answers to qualified Service names only (`cluster::service`), so this is what
//! makes bare names work, and work as they do on a cluster. `dnsPolicy: Default` gives none of
//! it (the node's resolver: cluster names do not resolve by search there), `None` only the
//! pod's `dnsConfig`. `dnsConfig.searches` are appended and its `options` merged by name
//! (`appendDNSConfig`, `mergeDNSOptions`); its `nameservers` are not used (the engine's DNS
//! server is the one that knows the cluster's names).
use super::PodSpec;

/// Search domains and options of a pod's resolver.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolver {
    pub search: Vec<String>,
    pub options: Vec<String>,
}

/// The resolver of a pod with `spec` in `namespace`.
pub fn resolver(spec: &PodSpec, namespace: &str) -> Resolver {
    let mut out = match spec.dns_policy.as_deref() {
        Some("Default" | "None") => Resolver::default(),
        _ => Resolver {
            search: vec![
                format!("{namespace}.svc.cluster.local"),
                "svc.cluster.local".into(),
                "cluster.local".into(),
            ],
            options: vec!["ndots:5".into()],
        },
    };
    let Some(config) = &spec.dns_config else {
        return out;
    };
    for s in config.searches.iter().flatten() {
        if !out.search.contains(s) {
            out.search.push(s.clone());
        }
    }
    for o in config.options.iter().flatten() {
        let Some(name) = o.name.as_deref() else {
            continue;
        };
        let option = match &o.value {
            Some(v) => format!("{name}:{v}"),
            None => name.to_string(),
        };
        match out
            .options
            .iter_mut()
            .find(|e| e.split(':').next() == Some(name))
        {
            Some(existing) => *existing = option,
            None => out.options.push(option),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn spec(yaml: &str) -> PodSpec {
        serde_yaml::from_str(&format!("containers: []\n{yaml}")).unwrap()
    }

    // pkg/kubelet/network/dns/dns.go GetPodDNS, appendDNSConfig, mergeDNSOptions.
    #[test_case("", &["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"], &["ndots:5"]; "cluster first")]
    #[test_case("dnsPolicy: Default\n", &[], &[]; "the node's resolver")]
    #[test_case("dnsPolicy: None\ndnsConfig: {searches: [corp.example], options: [{name: ndots, value: '2'}]}\n", &["corp.example"], &["ndots:2"]; "only the pod's config")]
    #[test_case("dnsConfig: {searches: [corp.example, cluster.local], options: [{name: ndots, value: '2'}, {name: edns0}]}\n", &["shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"], &["ndots:2", "edns0"]; "config appended and merged")]
    fn resolver_settings_follow_the_dns_policy(yaml: &str, search: &[&str], options: &[&str]) {
        let r = resolver(&spec(yaml), "shop");
        assert_eq!(r.search, search);
        assert_eq!(r.options, options);
    }
}
