//! Shared fixtures of the pod tests: a ConfigMap, a Secret and a pod context around them.
pub(super) use super::{
    error::Result, pod_containers, ConfigKind, PodContainer, PodContext, PodPlan, PodSpec,
};
use crate::manifest::{Object, Origin};

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config}\n\
                  data: {LOG_LEVEL: debug, app.conf: 'port=80', GREETING: hello}\n\
                  binaryData: {blob: AAEC}";
const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\n\
                      data: {password: czNjcjN0LXB3}\nstringData: {user: admin}";
/// The decoded `password` of the test Secret.
pub(super) const PW: &str = "s3cr3t-pw";

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

/// Plans `yaml` (a pod spec) as pod `web-0` of namespace `shop`, after `edit` on the context.
pub(super) fn plan_with(yaml: &str, edit: impl FnOnce(&mut PodContext<'_>)) -> Result<PodPlan> {
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

pub(super) fn plan(yaml: &str) -> Result<PodPlan> {
    plan_with(yaml, |_| {})
}

pub(super) fn env_of<'p>(c: &'p PodContainer, name: &str) -> Option<&'p str> {
    c.spec
        .env
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}
