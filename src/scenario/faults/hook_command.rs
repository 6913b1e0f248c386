//! `hookCommand`: replace the command (and args) of a workload's container. A manifest
//! transformation.
use crate::{manifest::Object, scenario::select};
use serde_json::{json, Value};

/// Sets `command` (and `args`, removed when `None`) on the chosen container(s) of `obj`.
///
/// # Errors
///
/// When `obj` is not a workload or has no such container.
pub fn apply(
    obj: &mut Object,
    command: &[String],
    args: Option<&[String]>,
    container: Option<&str>,
) -> Result<(), String> {
    for c in select::containers_mut(obj, container)? {
        let c = c.as_object_mut().ok_or("container is not an object")?;
        c.insert("command".into(), json!(command));
        match args {
            Some(a) => c.insert("args".into(), json!(a)),
            None => c.remove("args"),
        };
    }
    Ok(())
}

/// The container's command line as Kubernetes would run it when `command` is set: command then
/// args. `None` when `command` is absent (the image's ENTRYPOINT is not known here).
pub fn argv(container: &Value) -> Option<Vec<Value>> {
    let command = container.get("command")?.as_array()?.clone();
    let args = container
        .get("args")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Some(command.into_iter().chain(args).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_command_and_drops_args() {
        let mut o = crate::manifest::from_yaml_str(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {template: {spec: {containers: [{name: a, image: x, args: [migrate]}, {name: b, image: y}]}}}\n",
            "t.yaml",
        )
        .unwrap();
        apply(
            &mut o[0],
            &["sh".into(), "-c".into(), "exit 3".into()],
            None,
            Some("a"),
        )
        .unwrap();
        let c = &o[0].value["spec"]["template"]["spec"]["containers"];
        assert_eq!(c[0]["command"], json!(["sh", "-c", "exit 3"]));
        assert!(c[0].get("args").is_none());
        assert!(c[1].get("command").is_none(), "other container untouched");
        assert!(apply(&mut o[0], &[], None, Some("zz"))
            .unwrap_err()
            .contains("no container `zz`"));
    }
}
