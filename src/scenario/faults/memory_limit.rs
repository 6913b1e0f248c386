//! `memoryLimit`: set `resources.limits.memory` on a workload's containers (so that a Job that
//! needs more is OOM-killed). A manifest transformation.
use crate::{cluster::quantity::Quantity, manifest::Object, scenario::select};
use serde_json::{json, Value};

/// Sets the limit, lowering `requests.memory` to it when the request is higher (Kubernetes
/// rejects a request above the limit).
///
/// # Errors
///
/// When `limit` is not a quantity, or `obj` has no such container.
pub fn apply(obj: &mut Object, limit: &str, container: Option<&str>) -> Result<(), String> {
    let q = Quantity::parse(limit)
        .map_err(|e| format!("`{limit}` is not a memory quantity: {e} (write e.g. 16Mi)"))?;
    let bytes = q.value().unwrap_or(i64::MAX);
    for c in select::containers_mut(obj, container)? {
        let c = c.as_object_mut().ok_or("container is not an object")?;
        let res = c.entry("resources").or_insert_with(|| json!({}));
        res["limits"] = match res.get("limits") {
            Some(Value::Object(m)) => {
                let mut m = m.clone();
                m.insert("memory".into(), json!(limit));
                Value::Object(m)
            }
            _ => json!({"memory": limit}),
        };
        let request = res
            .pointer("/requests/memory")
            .and_then(Value::as_str)
            .and_then(|r| Quantity::parse(r).ok())
            .and_then(|r| r.value());
        if request.is_some_and(|r| r > bytes) {
            res["requests"]["memory"] = json!(limit);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_the_limit_and_caps_the_request() {
        let mut o = crate::manifest::from_yaml_str(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {template: {spec: {containers: [{name: a, image: x, resources: {requests: {memory: 1Gi, cpu: 100m}, limits: {cpu: '1'}}}]}}}\n",
            "t.yaml",
        )
        .unwrap();
        apply(&mut o[0], "16Mi", None).unwrap();
        let r = &o[0].value["spec"]["template"]["spec"]["containers"][0]["resources"];
        assert_eq!(r["limits"], json!({"cpu": "1", "memory": "16Mi"}));
        assert_eq!(r["requests"], json!({"cpu": "100m", "memory": "16Mi"}));
        assert!(apply(&mut o[0], "lots", None)
            .unwrap_err()
            .contains("`lots`"));
    }
}
