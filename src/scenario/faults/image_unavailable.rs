//! `imageUnavailable`: every workload using the image fails Argo CD's first-step validation
//! (syncsim's dry run), exactly as when the image is missing from the engine. A runtime action
//! in front of the cluster's dry run; the decision is this pure function.
use crate::{plan::Task, scenario::select};
use serde_json::Value;

/// `Err` with the message the cluster gives for a missing image when one of the task's
/// containers uses an unavailable image (as written, or after the `images` rewrites).
pub fn check(
    task: &Task,
    unavailable: &[String],
    images: &[(String, String)],
) -> Result<(), String> {
    if unavailable.is_empty() {
        return Ok(());
    }
    let Some(spec) =
        select::pod_spec_pointer(task.kind()).and_then(|p| task.object.value.pointer(p))
    else {
        return Ok(());
    };
    let containers = ["initContainers", "containers"]
        .iter()
        .filter_map(|k| spec.get(*k).and_then(Value::as_array))
        .flatten();
    for c in containers {
        let image = c["image"].as_str().unwrap_or("");
        let mapped = images
            .iter()
            .find(|(from, _)| from == image)
            .map_or(image, |(_, to)| to.as_str());
        if unavailable.iter().any(|u| u == image || u == mapped) {
            return Err(format!(
                "image `{mapped}` of container `{}` in {}/{} is not available: made unavailable by the scenario (fault imageUnavailable)",
                c["name"].as_str().unwrap_or(""),
                task.kind(),
                task.name()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{self, PlanOptions};

    #[test]
    fn fails_tasks_using_the_image_as_written_or_mapped() {
        let objs = crate::manifest::from_yaml_str(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {selector: {}, template: {spec: {containers: [{name: c, image: 'nginx:1'}]}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\n",
            "t.yaml",
        )
        .unwrap();
        let p = plan::build(&objs, &PlanOptions::default()).unwrap();
        let tasks: Vec<_> = p.tasks().cloned().collect();
        let web = tasks.iter().find(|t| t.kind() == "Deployment").unwrap();
        let cm = tasks.iter().find(|t| t.kind() == "ConfigMap").unwrap();
        let err = check(web, &["nginx:1".into()], &[]).unwrap_err();
        assert!(
            err.contains("`nginx:1`") && err.contains("Deployment/web"),
            "{err}"
        );
        let mapped = [("nginx:1".to_string(), "local/nginx:1".to_string())];
        assert!(check(web, &["local/nginx:1".into()], &mapped).is_err());
        assert!(check(web, &["other:1".into()], &mapped).is_ok());
        assert!(check(cm, &["nginx:1".into()], &[]).is_ok());
    }
}
