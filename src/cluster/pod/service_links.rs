//! The environment variables the kubelet gives every container for the Services of its
//! namespace (`enableServiceLinks`, on unless the pod turns it off): Docker-link style
//! `REDIS_PORT=tcp://…:6379` and `REDIS_SERVICE_HOST`, `REDIS_SERVICE_PORT`, … for each Service
//! that exists when the pod starts (pkg/kubelet/envvars/envvars.go, `FromServices`;
//! pkg/kubelet/kubelet_pods.go, `getServiceEnvVarMap`).
//!
//! They matter because they collide: a Service named `kafka` or `redis` gives every later pod
//! of its namespace `KAFKA_PORT` or `REDIS_PORT` holding a URL, and an image that reads that
//! name expecting a port number fails on the cluster while it works under Docker Compose.
//!
//! A Service has no cluster IP here: `_SERVICE_HOST` and the addresses in the link variables
//! hold its DNS name `<name>.<namespace>.svc.cluster.local` instead, which reaches it as the IP
//! would. The `kubernetes` Service of the API server (`KUBERNETES_SERVICE_HOST`, which a
//! cluster gives every pod) does not exist here and gets none.
use crate::manifest::Object;
use serde_json::Value;

/// The service variables of `services` (the Services of the pod's namespace), sorted by
/// Service name: none for a headless (`clusterIP: None`) or `ExternalName` Service, which
/// has no cluster IP.
pub fn service_links(services: &[Object]) -> Vec<(String, String)> {
    let mut services: Vec<&Object> = services.iter().collect();
    services.sort_by(|a, b| a.name().cmp(b.name()));
    let mut out = Vec::new();
    for svc in services {
        let spec = &svc.value["spec"];
        let cluster_ip = spec["clusterIP"].as_str().unwrap_or_default();
        if cluster_ip == "None" || spec["type"].as_str() == Some("ExternalName") {
            continue;
        }
        let Some(ports) = spec["ports"].as_array().filter(|p| !p.is_empty()) else {
            continue;
        };
        let prefix = env_name(svc.name());
        let host = format!("{}.{}.svc.cluster.local", svc.name(), svc.namespace());
        let port = |p: &Value| p["port"].as_u64().unwrap_or_default();
        out.push((format!("{prefix}_SERVICE_HOST"), host.clone()));
        let service_port = format!("{prefix}_SERVICE_PORT");
        out.push((service_port.clone(), port(&ports[0]).to_string()));
        for p in ports {
            if let Some(name) = p["name"].as_str().filter(|n| !n.is_empty()) {
                out.push((
                    format!("{service_port}_{}", env_name(name)),
                    port(p).to_string(),
                ));
            }
        }
        // Docker-compatible link variables (`makeLinkVariables`).
        for (i, p) in ports.iter().enumerate() {
            let protocol = p["protocol"].as_str().unwrap_or("TCP");
            let lower = protocol.to_ascii_lowercase();
            let url = format!("{lower}://{host}:{}", port(p));
            if i == 0 {
                out.push((format!("{prefix}_PORT"), url.clone()));
            }
            let port_prefix = format!(
                "{prefix}_PORT_{}_{}",
                port(p),
                protocol.to_ascii_uppercase()
            );
            out.push((port_prefix.clone(), url));
            out.push((format!("{port_prefix}_PROTO"), lower));
            out.push((format!("{port_prefix}_PORT"), port(p).to_string()));
            out.push((format!("{port_prefix}_ADDR"), host.clone()));
        }
    }
    out
}

/// `makeEnvVariableName`: capitals, `-` as `_`.
fn env_name(name: &str) -> String {
    name.replace('-', "_").to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Origin;
    use serde_json::json;

    fn svc(name: &str, spec: Value) -> Object {
        Object::new(
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": name, "namespace": "shop"}, "spec": spec}),
            Origin {
                file: "svc.yaml".into(),
                document: 0,
                line: None,
            },
        )
    }

    /// pkg/kubelet/envvars/envvars_test.go `TestFromServices`, with the DNS name in place of
    /// the cluster IP.
    #[test]
    fn service_variables_follow_the_kubelets_names() {
        let got = service_links(&[
            svc(
                "super-ipv4",
                json!({"ports": [{"name": "u-d-p", "port": 8084, "protocol": "UDP"},
                                 {"name": "t-c-p", "port": 8083, "protocol": "TCP"}]}),
            ),
            svc(
                "foo-bar",
                json!({"selector": {"bar": "baz"}, "ports": [{"port": 8082}]}),
            ),
            svc(
                "headless",
                json!({"clusterIP": "None", "ports": [{"port": 80}]}),
            ),
            svc(
                "ext",
                json!({"type": "ExternalName", "externalName": "example.com"}),
            ),
        ]);
        let host = "super-ipv4.shop.svc.cluster.local";
        let foo = "foo-bar.shop.svc.cluster.local";
        let want: Vec<(String, String)> = [
            ("FOO_BAR_SERVICE_HOST", foo.to_string()),
            ("FOO_BAR_SERVICE_PORT", "8082".into()),
            ("FOO_BAR_PORT", format!("tcp://{foo}:8082")),
            ("FOO_BAR_PORT_8082_TCP", format!("tcp://{foo}:8082")),
            ("FOO_BAR_PORT_8082_TCP_PROTO", "tcp".into()),
            ("FOO_BAR_PORT_8082_TCP_PORT", "8082".into()),
            ("FOO_BAR_PORT_8082_TCP_ADDR", foo.into()),
            ("SUPER_IPV4_SERVICE_HOST", host.into()),
            ("SUPER_IPV4_SERVICE_PORT", "8084".into()),
            ("SUPER_IPV4_SERVICE_PORT_U_D_P", "8084".into()),
            ("SUPER_IPV4_SERVICE_PORT_T_C_P", "8083".into()),
            ("SUPER_IPV4_PORT", format!("udp://{host}:8084")),
            ("SUPER_IPV4_PORT_8084_UDP", format!("udp://{host}:8084")),
            ("SUPER_IPV4_PORT_8084_UDP_PROTO", "udp".into()),
            ("SUPER_IPV4_PORT_8084_UDP_PORT", "8084".into()),
            ("SUPER_IPV4_PORT_8084_UDP_ADDR", host.into()),
            ("SUPER_IPV4_PORT_8083_TCP", format!("tcp://{host}:8083")),
            ("SUPER_IPV4_PORT_8083_TCP_PROTO", "tcp".into()),
            ("SUPER_IPV4_PORT_8083_TCP_PORT", "8083".into()),
            ("SUPER_IPV4_PORT_8083_TCP_ADDR", host.into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(got, want);
    }
}
