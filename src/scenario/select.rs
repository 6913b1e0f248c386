//! Finding the object a scenario refers to: `name`, or `Kind/name`, among rendered objects or
//! tasks; and the pod template inside a workload.
use crate::manifest::Object;
use serde_json::Value;

/// Whether `reference` (`name` or `Kind/name`) names an object of `kind` called `name`.
/// A generateName hook is also found by its generateName with or without the trailing `-`.
pub fn matches(reference: &str, kind: &str, name: &str, generate_name: Option<&str>) -> bool {
    let (want_kind, want_name) = match reference.split_once('/') {
        Some((k, n)) => (Some(k), n),
        None => (None, reference),
    };
    if want_kind.is_some_and(|k| !k.eq_ignore_ascii_case(kind)) {
        return false;
    }
    want_name == name
        || generate_name.is_some_and(|g| {
            !g.is_empty() && (want_name == g || want_name == g.trim_end_matches('-'))
        })
}

/// The index of the one workload (an object with a pod template: Job, Deployment,
/// StatefulSet, Pod…) `reference` names, so that `web` means Deployment/web, not Service/web.
///
/// # Errors
///
/// A message naming the candidates when none or several workloads match.
pub fn find(objects: &[Object], reference: &str) -> Result<usize, String> {
    let hits: Vec<usize> = objects
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            pod_spec_pointer(o.kind()).is_some()
                && matches(reference, o.kind(), o.name(), o.generate_name())
        })
        .map(|(i, _)| i)
        .collect();
    match hits.as_slice() {
        [i] => Ok(*i),
        [] => {
            let mut names: Vec<String> = objects
                .iter()
                .filter(|o| o.pointer_pod_spec().is_some())
                .map(|o| format!("{}/{}", o.kind(), display_name(o)))
                .collect();
            names.sort();
            Err(format!(
                "no rendered workload is called `{reference}` (workloads: {})",
                names.join(", ")
            ))
        }
        many => Err(format!(
            "`{reference}` names {} objects ({}); write Kind/name",
            many.len(),
            many.iter()
                .map(|i| format!("{}/{}", objects[*i].kind(), display_name(&objects[*i])))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn display_name(o: &Object) -> String {
    if o.name().is_empty() {
        o.generate_name().unwrap_or("").to_string()
    } else {
        o.name().to_string()
    }
}

/// JSON pointer of the pod spec inside a workload of `kind`.
pub fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    match kind {
        "Pod" => Some("/spec"),
        "Job" | "Deployment" | "StatefulSet" | "ReplicaSet" | "DaemonSet" => {
            Some("/spec/template/spec")
        }
        "CronJob" => Some("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

/// Helpers on objects that only scenarios need.
pub trait ObjectExt {
    fn pointer_pod_spec(&self) -> Option<&Value>;
}

impl ObjectExt for Object {
    fn pointer_pod_spec(&self) -> Option<&Value> {
        pod_spec_pointer(self.kind()).and_then(|p| self.value.pointer(p))
    }
}

/// The containers of `obj`'s pod template to change: the one called `container`, or all of them
/// when `None`.
///
/// # Errors
///
/// When the object is not a workload or has no such container.
pub fn containers_mut<'a>(
    obj: &'a mut Object,
    container: Option<&str>,
) -> Result<Vec<&'a mut Value>, String> {
    let what = format!("{}/{}", obj.kind(), obj.name());
    let ptr = pod_spec_pointer(obj.kind())
        .ok_or_else(|| format!("{what} is not a workload (Job, Deployment, StatefulSet, Pod…)"))?;
    let list = obj
        .value
        .pointer_mut(&format!("{ptr}/containers"))
        .and_then(Value::as_array_mut)
        .ok_or_else(|| format!("{what} has no containers"))?;
    let names: Vec<String> = list
        .iter()
        .map(|c| c["name"].as_str().unwrap_or("").to_string())
        .collect();
    let picked: Vec<&mut Value> = list
        .iter_mut()
        .filter(|c| container.is_none_or(|n| c["name"].as_str() == Some(n)))
        .collect();
    if picked.is_empty() {
        return Err(format!(
            "{what} has no container `{}` (containers: {})",
            container.unwrap_or(""),
            names.join(", ")
        ));
    }
    Ok(picked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("flyway", "Job", "flyway", None, true)]
    #[test_case("Job/flyway", "Job", "flyway", None, true)]
    #[test_case("job/flyway", "Job", "flyway", None, true)]
    #[test_case("Deployment/flyway", "Job", "flyway", None, false)]
    #[test_case("smoke", "Job", "smoke-head-postsync-1", Some("smoke-"), true)]
    #[test_case("smoke-", "Job", "smoke-head-postsync-1", Some("smoke-"), true)]
    #[test_case("smok", "Job", "smoke-head-postsync-1", Some("smoke-"), false)]
    fn references_match_name_kind_and_generate_name(
        r: &str,
        kind: &str,
        name: &str,
        gen: Option<&str>,
        want: bool,
    ) {
        assert_eq!(matches(r, kind, name, gen), want);
    }

    #[test]
    fn find_names_candidates_when_nothing_matches() {
        let objs = crate::manifest::from_yaml_str(
            "kind: Job\napiVersion: batch/v1\nmetadata: {name: a}\nspec: {template: {spec: {containers: []}}}\n---\nkind: ConfigMap\napiVersion: v1\nmetadata: {name: b}\n",
            "t.yaml",
        )
        .unwrap();
        let err = find(&objs, "c").unwrap_err();
        assert!(err.contains("`c`") && err.contains("Job/a"), "{err}");
        assert_eq!(find(&objs, "a").unwrap(), 0);
        assert!(find(&objs, "b").is_err(), "a ConfigMap is not a workload");
    }
}
