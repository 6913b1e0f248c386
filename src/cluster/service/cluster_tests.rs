//! Services and claims on the fake runtime: what is created, with which names, and when.
use crate::{
    cluster::{ClusterOptions, DockerCluster, StorageClass, VolumeBindingMode},
    engine::Cluster,
    manifest,
    plan::{self, PlanOptions, Task},
    runtime::{fake::FakeRuntime, ContainerRuntime, NetworkAttachment},
};
use serde_json::Value;
use std::{sync::Arc, time::Duration};

const APP: &str = "svc";

struct Sim {
    fake: Arc<FakeRuntime>,
    cluster: DockerCluster,
    plan: plan::Plan,
}

async fn sim(yaml: &str, classes: Option<Vec<StorageClass>>) -> Sim {
    let objects = manifest::from_yaml_str(yaml, "t.yaml").expect("parses");
    let plan = plan::build(
        &objects,
        &PlanOptions {
            dest_namespace: "demo".into(),
            ..PlanOptions::default()
        },
    )
    .expect("plan");
    let fake = Arc::new(FakeRuntime::new());
    let rt: Arc<dyn ContainerRuntime> = fake.clone();
    let mut opts = ClusterOptions {
        app: APP.into(),
        poll_interval: Duration::from_millis(20),
        ..ClusterOptions::default()
    };
    if let Some(c) = classes {
        opts.storage_classes = c;
    }
    let cluster = DockerCluster::new(rt, opts, &objects).await.expect("net");
    Sim {
        fake,
        cluster,
        plan,
    }
}

impl Sim {
    fn task(&self, name: &str, kind: &str) -> Task {
        self.plan
            .tasks()
            .find(|t| t.name() == name && t.kind() == kind)
            .unwrap_or_else(|| panic!("no {kind}/{name}"))
            .clone()
    }

    async fn apply(&self, name: &str, kind: &str) {
        let t = self.task(name, kind);
        self.cluster.apply(&t).await.expect("apply");
    }

    async fn status(&self, name: &str, kind: &str) -> Value {
        let live = self.cluster.get(&self.task(name, kind).key()).await;
        live.expect("live")["status"].clone()
    }

    fn aliases(&self, container: &str) -> Vec<String> {
        match self.fake.container_spec(container).map(|s| s.network) {
            Some(NetworkAttachment::Network { aliases, .. }) => aliases,
            other => panic!("{container}: {other:?}"),
        }
    }

    /// The first main container of the Deployment's newest pod.
    fn pod_container(&self, deployment: &str) -> String {
        self.fake
            .objects()
            .into_iter()
            .map(|l| l.name)
            .find(|n| n.starts_with(&format!("syncsim-{APP}-{deployment}-")))
            .expect("pod container")
    }

    async fn wait_for(&self, what: &str, ok: impl Fn() -> bool) {
        for _ in 0..200 {
            if ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("timed out waiting for {what}");
    }
}

fn web(probe: bool) -> String {
    let probe = if probe {
        "\n          readinessProbe: {exec: {command: [\"true\"]}, periodSeconds: 1}"
    } else {
        ""
    };
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - name: web
          image: busybox
          ports: [{{name: http, containerPort: 8080}}]{probe}
"
    )
}

fn service(ports: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec:\n  selector: {{app: web}}\n  ports: {ports}\n"
    )
}

const PROXY: &str = "syncsim-svc-svc-demo-web";

#[tokio::test]
async fn a_service_that_changes_nothing_is_plain_dns_on_pods_started_after_it() {
    let s = sim(
        &format!("{}---\n{}", service("[{port: 8080}]"), web(false)),
        None,
    )
    .await;
    s.apply("web", "Service").await;
    s.apply("web", "Deployment").await;
    s.wait_for("the pod", || {
        s.fake
            .objects()
            .iter()
            .any(|l| l.name.starts_with("syncsim-svc-web-"))
    })
    .await;
    let aliases = s.aliases(&s.pod_container("web"));
    assert!(
        aliases.contains(&"web.demo.svc.cluster.local".to_string()),
        "{aliases:?}"
    );
    assert!(s.fake.container_spec(PROXY).is_none(), "no proxy");
    assert_eq!(
        s.cluster.service_costs().plain_dns,
        1,
        "{:?}",
        s.cluster.service_costs()
    );
    s.cluster.teardown(Duration::ZERO).await;
}

/// Service `web` forwarding port 80 to its probed pods' port named `http`.
async fn remapped_web() -> Sim {
    sim(
        &format!(
            "{}---\n{}",
            service("[{port: 80, targetPort: http}]"),
            web(true)
        ),
        None,
    )
    .await
}

#[tokio::test]
async fn a_remapped_service_gets_a_proxy_fed_with_ready_endpoints_and_removed_with_it() {
    let s = remapped_web().await;
    s.apply("web", "Service").await;
    // The proxy is set up in the background, as kube-proxy programs a Service's routing.
    s.wait_for("the proxy", || s.fake.container_spec(PROXY).is_some())
        .await;
    let aliases = s.aliases(PROXY);
    assert_eq!(
        aliases,
        ["web.demo", "web.demo.svc", "web.demo.svc.cluster.local"]
    );
    let spec = s.fake.container_spec(PROXY).unwrap();
    assert_eq!(spec.image, super::DEFAULT_PROXY_IMAGE);
    assert_eq!(
        spec.labels
            .get(crate::runtime::LABEL_RESOURCE)
            .map(String::as_str),
        Some("/Service/demo/web")
    );
    s.apply("web", "Deployment").await;
    // The pod does not answer to the Service's name itself.
    s.wait_for("the pod", || {
        s.fake
            .objects()
            .iter()
            .any(|l| l.name.starts_with("syncsim-svc-web-"))
    })
    .await;
    assert_eq!(s.aliases(&s.pod_container("web")).len(), 1);
    // Once Ready, the pod's port named `http` is written into the proxy's endpoints for 80.
    let fed = || {
        s.fake.calls().iter().any(|c| {
            c.object == PROXY
                && c.detail
                    .as_deref()
                    .is_some_and(|d| d.contains(" 80 ") && d.ends_with(" 8080\n"))
        })
    };
    s.wait_for("the endpoint update", fed).await;
    let key = s.task("web", "Service").key();
    s.cluster.delete(&key).await.unwrap();
    assert!(
        !s.fake.objects().iter().any(|l| l.name == PROXY),
        "the proxy went with the Service"
    );
    s.cluster.teardown(Duration::ZERO).await;
}

#[tokio::test]
async fn a_probed_or_already_running_backend_needs_a_proxy_even_with_equal_ports() {
    let s = sim(
        &format!("{}---\n{}", service("[{port: 8080}]"), web(true)),
        None,
    )
    .await;
    s.apply("web", "Service").await;
    s.wait_for("probed: proxy", || s.fake.container_spec(PROXY).is_some())
        .await;
    s.cluster.teardown(Duration::ZERO).await;

    let s = sim(
        &format!("{}---\n{}", service("[{port: 8080}]"), web(false)),
        None,
    )
    .await;
    s.apply("web", "Deployment").await;
    s.wait_for("the pod", || {
        s.fake
            .objects()
            .iter()
            .any(|l| l.name.starts_with("syncsim-svc-web-"))
    })
    .await;
    s.apply("web", "Service").await;
    s.wait_for("pods first: proxy", || {
        s.fake.container_spec(PROXY).is_some()
    })
    .await;
    s.cluster.teardown(Duration::ZERO).await;
}

/// The addresses in the proxy's endpoint updates so far, in order (`a.b.c.d` of each
/// `a.b.c.d 8080` line).
fn fed_addresses(s: &Sim) -> Vec<String> {
    s.fake
        .calls()
        .iter()
        .filter(|c| c.object == PROXY)
        .filter_map(|c| c.detail.clone())
        .filter_map(|d| {
            d.lines().find_map(|l| {
                l.split_whitespace()
                    .rev()
                    .nth(1)
                    .filter(|_| l.ends_with(" 8080"))
                    .map(str::to_string)
            })
        })
        .collect()
}

#[tokio::test]
async fn a_service_follows_its_pod_to_the_address_it_has_after_a_restart() {
    // Docker may give a restarted container another address and its old one to the next
    // container (the fake always does); a cluster keeps the pod's IP. Either way the Service
    // must route to where the pod is now.
    let s = remapped_web().await;
    s.apply("web", "Service").await;
    s.apply("web", "Deployment").await;
    s.wait_for("the first endpoint", || !fed_addresses(&s).is_empty())
        .await;
    let pod = s.pod_container("web");
    let before = s.fake.inspect_container(&pod).await.unwrap().ip.unwrap();
    assert_eq!(fed_addresses(&s), std::slice::from_ref(&before));
    s.fake.stop_container(&pod, Duration::ZERO).await.unwrap();
    s.wait_for("the restarted pod's address", || {
        fed_addresses(&s).last() != Some(&before)
    })
    .await;
    let after = s.fake.inspect_container(&pod).await.unwrap().ip.unwrap();
    assert_ne!(
        after, before,
        "the fake gives a restarted container a new address"
    );
    assert_eq!(fed_addresses(&s).last(), Some(&after));
    s.cluster.teardown(Duration::ZERO).await;
}

/// A Service named `name` selecting `web` on `ports`, a PostSync hook when `hook`.
fn named_service(name: &str, ports: &str, hook: bool) -> String {
    let hook = if hook {
        "\n  annotations: {argocd.argoproj.io/hook: PostSync}"
    } else {
        ""
    };
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}{hook}\nspec:\n  selector: {{app: web}}\n  ports: {ports}\n"
    )
}

#[tokio::test]
async fn services_of_one_step_share_a_proxy_unless_a_port_collides_or_one_is_a_hook() {
    let s = sim(
        &[
            named_service("web", "[{port: 80, targetPort: http}]", false),
            named_service("web-admin", "[{port: 81, targetPort: http}]", false),
            named_service("web-alt", "[{port: 80, targetPort: http}]", false),
            named_service("web-hook", "[{port: 82, targetPort: http}]", true),
            web(true),
        ]
        .join("---\n"),
        None,
    )
    .await;
    for name in ["web", "web-admin", "web-alt"] {
        s.apply(name, "Service").await;
    }
    // Applied in the same step here, to show that a hook keeps a proxy of its own.
    s.apply("web-hook", "Service").await;
    s.cluster.step_applied(&[]).await;
    const ADMIN: &str = "syncsim-svc-svc-demo-web-admin";
    const ALT: &str = "syncsim-svc-svc-demo-web-alt";
    const HOOK: &str = "syncsim-svc-svc-demo-web-hook";
    s.wait_for("three proxies", || {
        [PROXY, ALT, HOOK]
            .iter()
            .all(|c| s.fake.container_spec(c).is_some())
    })
    .await;
    assert!(
        s.fake.container_spec(ADMIN).is_none(),
        "web-admin shares web's proxy"
    );
    let shared = s.aliases(PROXY);
    assert_eq!(shared.len(), 6, "{shared:?}");
    assert!(
        shared.contains(&"web.demo".to_string()) && shared.contains(&"web-admin.demo".to_string())
    );
    let cmd = s.fake.container_spec(PROXY).unwrap().entrypoint.unwrap();
    assert!(cmd[2].contains("for p in 80 81; do"), "{}", cmd[2]);
    assert_eq!(s.aliases(ALT)[0], "web-alt.demo");
    let costs = s.cluster.service_costs();
    assert_eq!((costs.proxied, costs.proxies), (4, 3));

    // web goes: web-admin keeps its names, on a proxy of its own, and web's are gone.
    s.cluster
        .delete(&s.task("web", "Service").key())
        .await
        .unwrap();
    s.wait_for("web-admin's own proxy", || {
        s.fake.container_spec(ADMIN).is_some()
    })
    .await;
    assert!(
        !s.fake.objects().iter().any(|l| l.name == PROXY),
        "the shared proxy went with web"
    );
    assert_eq!(
        s.aliases(ADMIN)[..2],
        ["web-admin.demo", "web-admin.demo.svc"]
    );
    let live: Vec<String> = s
        .fake
        .objects()
        .into_iter()
        .filter_map(|l| s.fake.container_spec(&l.name))
        .flat_map(|spec| match spec.network {
            NetworkAttachment::Network { aliases, .. } => aliases,
            _ => Vec::new(),
        })
        .collect();
    assert!(!live.contains(&"web".to_string()), "{live:?}");
    s.cluster.teardown(Duration::ZERO).await;
}

const CLAIM: &str = "apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Mi}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: user}
spec:
  selector: {matchLabels: {app: user}}
  template:
    metadata: {labels: {app: user}}
    spec:
      containers: [{name: c, image: busybox, volumeMounts: [{name: d, mountPath: /d}]}]
      volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
";

#[tokio::test]
async fn a_claim_of_the_default_class_is_pending_until_its_first_consumer() {
    let s = sim(CLAIM, None).await;
    s.apply("data", "PersistentVolumeClaim").await;
    assert_eq!(
        s.status("data", "PersistentVolumeClaim").await["phase"],
        "Pending"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        s.status("data", "PersistentVolumeClaim").await["phase"],
        "Pending"
    );
    s.apply("user", "Deployment").await;
    for _ in 0..100 {
        if s.status("data", "PersistentVolumeClaim").await["phase"] == "Bound" {
            s.cluster.teardown(Duration::ZERO).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the claim never bound");
}

#[tokio::test]
async fn a_claim_of_an_immediate_class_binds_at_once() {
    let classes = vec![StorageClass {
        name: "local-path".into(),
        default: true,
        volume_binding_mode: VolumeBindingMode::Immediate,
    }];
    let s = sim(CLAIM, Some(classes)).await;
    s.apply("data", "PersistentVolumeClaim").await;
    assert_eq!(
        s.status("data", "PersistentVolumeClaim").await["phase"],
        "Bound"
    );
    s.cluster.teardown(Duration::ZERO).await;
}
