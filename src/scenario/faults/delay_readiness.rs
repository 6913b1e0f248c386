//! `delayReadiness`: make a workload become Ready later. A manifest transformation: the pod gets
//! a first init container `syncsim-delay` (the image of its first container, running `sleep`),
//! so nothing of it starts, and it is not Ready, until the delay has passed; Argo CD's health gate
//! waits. That image needs a `sleep` binary.
//!
//! Raising `initialDelaySeconds` instead would delay nothing under `--timing fast`, which probes
//! readiness from the container's start (only failure budgets keep their cluster length).
use crate::{manifest::Object, scenario::select};
use serde_json::{json, Value};
use std::time::Duration;

/// Delays `obj`'s readiness by `by` (rounded up to whole seconds).
///
/// # Errors
///
/// When `obj` is not a workload.
pub fn apply(obj: &mut Object, by: Duration) -> Result<(), String> {
    let secs = by.as_secs() + u64::from(by.subsec_nanos() > 0);
    let first_image = select::containers_mut(obj, None)?
        .into_iter()
        .next()
        .and_then(|c| c.get("image").cloned());
    {
        let ptr = select::pod_spec_pointer(obj.kind()).expect("containers_mut checked the kind");
        let spec = obj
            .value
            .pointer_mut(ptr)
            .and_then(Value::as_object_mut)
            .ok_or("pod spec is not an object")?;
        let inits = spec.entry("initContainers").or_insert_with(|| json!([]));
        let delay = json!({
            "name": "syncsim-delay",
            "image": first_image.unwrap_or(Value::Null),
            "command": ["sleep", secs.to_string()],
        });
        match inits.as_array_mut() {
            Some(list) => list.insert(0, delay),
            None => *inits = json!([delay]),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objs(c: &str) -> Object {
        crate::manifest::from_yaml_str(
            &format!("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: s}}\nspec: {{template: {{spec: {{containers: [{c}]}}}}}}\n"),
            "t.yaml",
        )
        .unwrap()
        .remove(0)
    }

    #[test]
    fn a_probed_container_is_delayed_by_an_init_container_too() {
        let mut o = objs(
            "{name: a, image: x, readinessProbe: {initialDelaySeconds: 2, httpGet: {port: 80}}}",
        );
        apply(&mut o, Duration::from_millis(9500)).unwrap();
        let spec = &o.value["spec"]["template"]["spec"];
        assert_eq!(
            spec["containers"][0]["readinessProbe"]["initialDelaySeconds"],
            2
        );
        assert_eq!(
            spec["initContainers"][0],
            json!({"name": "syncsim-delay", "image": "x", "command": ["sleep", "10"]})
        );
    }

    #[test]
    fn without_a_probe_adds_a_sleeping_init_container_first() {
        let mut o = objs("{name: a, image: img:1}");
        o.value["spec"]["template"]["spec"]["initContainers"] =
            json!([{"name": "other", "image": "y"}]);
        apply(&mut o, Duration::from_secs(10)).unwrap();
        let inits = &o.value["spec"]["template"]["spec"]["initContainers"];
        assert_eq!(
            inits[0],
            json!({"name": "syncsim-delay", "image": "img:1", "command": ["sleep", "10"]})
        );
        assert_eq!(inits[1]["name"], "other");
    }
}
