//! Services that behave like Services.
//!
//! A Service's name resolves once the Service is applied, only Ready pods receive its traffic,
//! and `port` is forwarded to `targetPort` (a number, or a container port's name resolved per
//! pod). Docker cannot change the DNS aliases of a connected container without disconnecting
//! it (which would drop the pod's own connections), so there are two ways to realise a Service:
//!
//! - **Plain DNS**, when it changes nothing: every `targetPort` equals its `port`, no pod the
//!   desired state selects has a readiness or startup probe (Ready as soon as it runs), and no
//!   selected pod exists yet when the Service is applied. Pods started from then on answer to
//!   the Service's names themselves. This costs nothing.
//! - **A proxy** otherwise: one small container (`syncsim-<app>-svc-<ns>-<name>`, the
//!   busybox image of `compose/testimages/build.sh` tagged [`DEFAULT_PROXY_IMAGE`]) owns the
//!   Service's names and forwards each TCP port to the `targetPort` of a Ready endpoint, picked
//!   per connection. The cluster rewrites its endpoint files whenever readiness changes
//!   (`proxy.rs`). With no Ready endpoint a connection is accepted and closed at once. The
//!   proxy is set up in the background once its wave's pods have started: the Service's apply
//!   is an API call, as on a cluster (where kube-proxy and DNS catch up asynchronously too), so
//!   proxies cost a wave no time. Services applied in the same step share one proxy container
//!   (named after the first) where their TCP ports differ and none is a hook: a container
//!   costs the engine far more than a listener.
//!
//! Headless Services (`clusterIP: None`) get the same treatment for their own name (a proxy
//! reaching Ready pods only, one address rather than one per pod), and a StatefulSet's pods
//! created after their Service answer to `<pod>.<svc>` as well.
//!
//! This file is pure: the Service spec, the choice between the two, the endpoints a proxy
//! forwards to and the proxy's files.
mod proxy;
mod realise;

pub(crate) use proxy::ProxyHandle;
pub(crate) use realise::{pod_aliases, proxies_set_up};

use crate::manifest::Object;
use serde_json::Value;
use std::collections::BTreeMap;

/// The image that runs Service proxies: needs `sh`, `shuf` and busybox `nc` (`-ll -e`).
pub const DEFAULT_PROXY_IMAGE: &str = "syncsim-kit/service-proxy:1";

/// Where the proxy keeps its scripts and endpoint files.
const DIR: &str = "/syncsim";

/// One port of a Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServicePort {
    pub port: u16,
    pub target: Target,
    /// `TCP` unless said otherwise; only TCP is forwarded.
    pub protocol: String,
}

/// A Service port's `targetPort`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Number(u16),
    /// A container port's name, resolved per pod.
    Name(String),
}

/// What the cluster needs of a Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceSpec {
    pub name: String,
    pub namespace: String,
    pub selector: BTreeMap<String, String>,
    pub headless: bool,
    pub ports: Vec<ServicePort>,
}

/// A pod that may serve Services: what the controllers know of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub namespace: String,
    pub pod: String,
    /// The pod's IP, else its name (an alias on the network).
    pub address: String,
    pub labels: BTreeMap<String, String>,
    /// Container port name → number, from the pod spec.
    pub named_ports: BTreeMap<String, u16>,
    pub ready: bool,
}

/// A pod template of the desired state: its labels and whether it has a readiness or startup
/// probe (its pods are not Ready as soon as they run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DesiredPod {
    pub labels: BTreeMap<String, String>,
    pub probed: bool,
}

/// The pod templates of the workloads of a desired state.
pub(crate) fn desired_pods(desired: &[Object]) -> Vec<DesiredPod> {
    desired
        .iter()
        .filter(|o| super::kinds::has_controller(o.group(), o.kind()))
        .map(|o| {
            let v = &o.value;
            let (meta, spec) = if o.kind() == "Pod" {
                (v.get("metadata"), v.get("spec"))
            } else {
                (
                    v.pointer("/spec/template/metadata"),
                    v.pointer("/spec/template/spec"),
                )
            };
            let labels = meta
                .and_then(|m| m.get("labels"))
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            let probed = spec
                .and_then(|s| s.get("containers"))
                .and_then(Value::as_array)
                .is_some_and(|cs| {
                    cs.iter().any(|c| {
                        c.get("readinessProbe").is_some() || c.get("startupProbe").is_some()
                    })
                });
            DesiredPod { labels, probed }
        })
        .collect()
}

/// An applied Service as the cluster realises it.
#[derive(Debug)]
pub(crate) struct RealisedService {
    pub spec: ServiceSpec,
    pub how: Realisation,
    pub proxy: Option<ProxyHandle>,
}

/// What realising the applied Services has cost so far (`cargo bench --bench sync`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceCosts {
    /// Services whose pods answer to their names (no container, no hop).
    pub plain_dns: usize,
    /// Services realised by a proxy (one hop each).
    pub proxied: usize,
    /// Proxy containers (Services applied in one step share one where their ports differ).
    pub proxies: usize,
    /// Time spent creating and starting proxies (in the background, after the Service's apply).
    pub proxy_setup: std::time::Duration,
    /// Endpoint updates (one `exec` into a proxy each).
    pub endpoint_updates: usize,
}

/// How a Service is realised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Realisation {
    /// Pods answer to the names themselves.
    PlainDns,
    /// A proxy container owns the names.
    Proxy,
}

impl ServiceSpec {
    /// The Service's spec, `None` when it selects no pods (no selector, `ExternalName`): such a
    /// Service resolves to nothing here.
    pub fn parse(obj: &Value, default_namespace: &str) -> Option<ServiceSpec> {
        if obj.pointer("/spec/type").and_then(Value::as_str) == Some("ExternalName") {
            return None;
        }
        let selector: BTreeMap<String, String> = obj
            .pointer("/spec/selector")
            .and_then(Value::as_object)?
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect();
        if selector.is_empty() {
            return None;
        }
        let namespace = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or(default_namespace)
            .to_string();
        let ports = obj
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .map(|ports| ports.iter().filter_map(parse_port).collect())
            .unwrap_or_default();
        Some(ServiceSpec {
            name: obj.pointer("/metadata/name")?.as_str()?.to_string(),
            namespace,
            selector,
            headless: obj.pointer("/spec/clusterIP").and_then(Value::as_str) == Some("None"),
            ports,
        })
    }

    /// Whether a pod with these labels in `namespace` is selected.
    pub fn selects(&self, namespace: &str, labels: &BTreeMap<String, String>) -> bool {
        namespace == self.namespace
            && self
                .selector
                .iter()
                .all(|(k, v)| labels.get(k).is_some_and(|l| l == v))
    }

    /// Every port forwards to the same number.
    pub fn ports_match(&self) -> bool {
        self.ports
            .iter()
            .all(|p| p.target == Target::Number(p.port))
    }

    /// The names the Service answers to on the network: `svc.ns`, `svc.ns.svc` and
    /// `svc.ns.svc.cluster.local`, each after `prefix` (`<pod>.` for a headless Service's
    /// pods). Never the bare `svc`: the network is shared by every namespace, and a pod finds
    /// the Services of its own namespace by their bare names through its search domains
    /// (`cluster::pod`'s DNS settings), as on a cluster, where a bare name resolves only in the
    /// pod's namespace.
    pub fn names(&self, prefix: &str) -> Vec<String> {
        let (name, ns) = (&self.name, &self.namespace);
        vec![
            format!("{prefix}{name}.{ns}"),
            format!("{prefix}{name}.{ns}.svc"),
            format!("{prefix}{name}.{ns}.svc.cluster.local"),
        ]
    }

    /// The TCP ports a proxy listens on.
    fn tcp_ports(&self) -> impl Iterator<Item = &ServicePort> {
        self.ports.iter().filter(|p| p.protocol == "TCP")
    }
}

fn parse_port(p: &Value) -> Option<ServicePort> {
    let port = u16::try_from(p.get("port")?.as_u64()?).ok()?;
    let target = match p.get("targetPort") {
        None | Some(Value::Null) => Target::Number(port),
        Some(Value::String(s)) => match s.parse::<u16>() {
            Ok(n) => Target::Number(n),
            Err(_) => Target::Name(s.clone()),
        },
        Some(v) => Target::Number(u16::try_from(v.as_u64()?).ok()?),
    };
    let protocol = p
        .get("protocol")
        .and_then(Value::as_str)
        .unwrap_or("TCP")
        .to_string();
    Some(ServicePort {
        port,
        target,
        protocol,
    })
}

/// How to realise `svc` when it is applied. `probed`: a pod template of the desired state that
/// the Service selects has a readiness or startup probe. `pods_exist`: a selected pod already
/// runs (it cannot gain the names any more).
pub(crate) fn realisation(svc: &ServiceSpec, probed: bool, pods_exist: bool) -> Realisation {
    if svc.tcp_ports().next().is_none() {
        // Nothing to forward (a headless Service used for pod names only).
        return Realisation::PlainDns;
    }
    if svc.ports_match() && !probed && !pods_exist {
        Realisation::PlainDns
    } else {
        Realisation::Proxy
    }
}

/// The endpoints a proxy forwards to: for each TCP port of `svc`, `address port` lines of the
/// Ready pods it selects, the target port resolved per pod (a pod without the named port is
/// skipped, as Kubernetes does).
pub(crate) fn endpoint_lines(svc: &ServiceSpec, pods: &[Endpoint]) -> BTreeMap<u16, String> {
    let mut out = BTreeMap::new();
    for p in svc.tcp_ports() {
        let mut lines: Vec<String> = pods
            .iter()
            .filter(|e| e.ready && svc.selects(&e.namespace, &e.labels))
            .filter_map(|e| {
                let target = match &p.target {
                    Target::Number(n) => *n,
                    Target::Name(name) => *e.named_ports.get(name)?,
                };
                Some(format!("{} {target}\n", e.address))
            })
            .collect();
        lines.sort();
        out.insert(p.port, lines.concat());
    }
    out
}

/// The proxy's command for the Services it serves (their TCP ports are disjoint): write the
/// per-connection script (pick a Ready endpoint at random, or close), then run one persistent
/// `nc` listener per TCP port. Inline rather than copied in as files: one Docker call less per
/// proxy.
pub(crate) fn proxy_command(services: &[ServiceSpec]) -> Vec<String> {
    let ports: Vec<String> = services
        .iter()
        .flat_map(ServiceSpec::tcp_ports)
        .map(|p| p.port.to_string())
        .collect();
    let names: Vec<String> = services
        .iter()
        .map(|s| format!("{}/{}", s.namespace, s.name))
        .collect();
    let script = format!(
        "# syncsim Service proxy for {names}\n\
         mkdir -p {DIR}/endpoints\n\
         printf '%s\\n' '#!/bin/sh' 'ep=$(shuf -n 1 {DIR}/endpoints/$1 2>/dev/null)' \
         '[ -n \"$ep\" ] || exit 0' 'exec nc $ep' > {DIR}/connect\n\
         chmod 755 {DIR}/connect\n\
         for p in {ports}; do\n  touch {DIR}/endpoints/$p\n  nc -ll -p $p -e {DIR}/connect $p &\ndone\nwait\n",
        names = names.join(" "),
        ports = ports.join(" "),
    );
    vec!["sh".into(), "-c".into(), script]
}

/// Whether two Services can share a proxy: no TCP port in common (each port has one endpoint
/// file and one listener).
pub(crate) fn ports_disjoint(a: &ServiceSpec, b: &ServiceSpec) -> bool {
    a.tcp_ports()
        .all(|p| b.tcp_ports().all(|q| q.port != p.port))
}

/// The command that replaces the endpoint files of the given ports, each with its `address
/// port` lines (atomically, file by file): one `exec` for every port whose endpoints changed, so
/// a multi-port Service costs the engine one `exec` per change rather than one per port.
pub(crate) fn write_endpoints_command(files: &[(u16, &str)]) -> Vec<String> {
    let mut cmd: Vec<String> = vec![
        "sh".into(),
        "-c".into(),
        format!(
            "mkdir -p {DIR}/endpoints || exit 1\n\
             while [ $# -gt 1 ]; do\n  \
             printf '%s' \"$2\" > {DIR}/endpoints/$1.new && mv {DIR}/endpoints/$1.new {DIR}/endpoints/$1 || exit 1\n  \
             shift 2\ndone"
        ),
        "syncsim-endpoints".into(),
    ];
    for (port, lines) in files {
        cmd.push(port.to_string());
        cmd.push((*lines).to_string());
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn svc(ports: Value, headless: bool) -> ServiceSpec {
        let mut v = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "backend"},
            "spec": {"selector": {"app": "backend"}, "ports": ports}});
        if headless {
            v["spec"]["clusterIP"] = json!("None");
        }
        ServiceSpec::parse(&v, "default").unwrap()
    }

    fn pod(name: &str, ready: bool, http: u16) -> Endpoint {
        Endpoint {
            namespace: "default".into(),
            pod: name.into(),
            address: format!("10.0.0.{}", name.len()),
            labels: [("app".to_string(), "backend".to_string())].into(),
            named_ports: [("http".to_string(), http)].into(),
            ready,
        }
    }

    #[test]
    fn ports_parse_numbers_strings_and_names() {
        let s = svc(
            json!([{"port": 80, "targetPort": 8080}, {"port": 81, "targetPort": "http"},
                   {"port": 82, "targetPort": "8082"}, {"port": 83},
                   {"port": 53, "protocol": "UDP"}]),
            false,
        );
        let targets: Vec<_> = s.ports.iter().map(|p| p.target.clone()).collect();
        assert_eq!(
            targets,
            [
                Target::Number(8080),
                Target::Name("http".into()),
                Target::Number(8082),
                Target::Number(83),
                Target::Number(53)
            ]
        );
        assert_eq!(s.namespace, "default");
        assert!(!s.ports_match());
        assert!(svc(json!([{"port": 80}, {"port": 81, "targetPort": 81}]), false).ports_match());
    }

    #[test]
    fn services_without_a_selector_or_external_names_select_nothing() {
        let none = json!({"metadata": {"name": "x"}, "spec": {"ports": [{"port": 80}]}});
        assert_eq!(ServiceSpec::parse(&none, "d"), None);
        let ext = json!({"metadata": {"name": "x"},
            "spec": {"type": "ExternalName", "externalName": "a.example", "selector": {"a": "b"}}});
        assert_eq!(ServiceSpec::parse(&ext, "d"), None);
    }

    #[test]
    fn plain_dns_only_where_it_changes_nothing() {
        let same = svc(json!([{"port": 80, "targetPort": 80}]), false);
        assert_eq!(realisation(&same, false, false), Realisation::PlainDns);
        // Readiness would not gate traffic, existing pods would not gain the name.
        assert_eq!(realisation(&same, true, false), Realisation::Proxy);
        assert_eq!(realisation(&same, false, true), Realisation::Proxy);
        let remapped = svc(json!([{"port": 80, "targetPort": 8080}]), false);
        assert_eq!(realisation(&remapped, false, false), Realisation::Proxy);
        let named = svc(json!([{"port": 80, "targetPort": "http"}]), false);
        assert_eq!(realisation(&named, false, false), Realisation::Proxy);
        let portless = svc(json!([]), true);
        assert_eq!(realisation(&portless, true, true), Realisation::PlainDns);
    }

    #[test]
    fn endpoints_are_ready_selected_pods_with_the_target_resolved_per_pod() {
        let s = svc(
            json!([{"port": 80, "targetPort": "http"}, {"port": 90, "targetPort": 9090}]),
            false,
        );
        let mut other = pod("other", true, 1);
        other.labels = [("app".to_string(), "frontend".to_string())].into();
        let mut elsewhere = pod("elsewhere", true, 1);
        elsewhere.namespace = "prod".into();
        let mut unnamed = pod("unnamed", true, 1);
        unnamed.named_ports.clear();
        let pods = [
            pod("a", true, 8080),
            pod("bb", true, 8081),
            pod("ccc", false, 8082),
            other,
            elsewhere,
            unnamed,
        ];
        let lines = endpoint_lines(&s, &pods);
        assert_eq!(lines[&80], "10.0.0.1 8080\n10.0.0.2 8081\n");
        assert_eq!(lines[&90], "10.0.0.1 9090\n10.0.0.2 9090\n10.0.0.7 9090\n");
        assert_eq!(endpoint_lines(&s, &[pod("ccc", false, 1)])[&80], "");
    }

    #[test]
    fn names_cover_the_cluster_dns_forms() {
        let s = svc(json!([]), true);
        assert_eq!(
            s.names("db-0."),
            [
                "db-0.backend.default",
                "db-0.backend.default.svc",
                "db-0.backend.default.svc.cluster.local"
            ]
        );
    }

    #[test]
    fn the_proxy_listens_on_tcp_ports_only() {
        let s = svc(
            json!([{"port": 80}, {"port": 53, "protocol": "UDP"}]),
            false,
        );
        let cmd = proxy_command(std::slice::from_ref(&s));
        assert!(cmd[2].contains("for p in 80; do"), "{}", cmd[2]);
        let cmd = write_endpoints_command(&[(80, "10.0.0.1 8080\n"), (81, "")]);
        assert_eq!(
            cmd[3..],
            ["syncsim-endpoints", "80", "10.0.0.1 8080\n", "81", ""]
        );
    }
}

#[cfg(test)]
mod cluster_tests;
