//! `hookExitCode`: run the container's own command, then exit with the given code whatever it
//! returned. A manifest transformation; the container's image needs `sh`.
//!
//! # Caveats
//!
//! A container without `command` runs its image's ENTRYPOINT, which a manifest transformation
//! cannot know: such a container only prints a note and exits with the code.
use super::hook_command::argv;
use crate::{manifest::Object, scenario::select};
use serde_json::{json, Value};

/// Wraps the chosen container(s) of `obj` in `sh -c '"$@"; exit CODE'`.
///
/// # Errors
///
/// When `obj` is not a workload or has no such container.
pub fn apply(obj: &mut Object, code: i32, container: Option<&str>) -> Result<(), String> {
    for c in select::containers_mut(obj, container)? {
        let original = argv(c);
        let c = c.as_object_mut().ok_or("container is not an object")?;
        let (script, args) = match original {
            Some(argv) => (
                format!(
                    "\"$@\"; echo \"syncsim fault hookExitCode: the command exited $?, exiting {code}\" >&2; exit {code}"
                ),
                argv,
            ),
            None => (
                format!(
                    "echo \"syncsim fault hookExitCode: not running the image entrypoint, exiting {code}\" >&2; exit {code}"
                ),
                Vec::new(),
            ),
        };
        c.insert(
            "command".into(),
            json!(["sh", "-c", script, "syncsim-fault"]),
        );
        c.insert("args".into(), Value::Array(args));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(container: &str) -> Object {
        crate::manifest::from_yaml_str(
            &format!("apiVersion: batch/v1\nkind: Job\nmetadata: {{name: j}}\nspec: {{template: {{spec: {{containers: [{container}]}}}}}}\n"),
            "t.yaml",
        )
        .unwrap()
        .remove(0)
    }

    #[test]
    fn runs_the_original_command_then_exits_with_the_code() {
        let mut o = job("{name: a, image: x, command: [echo, hi], args: [there]}");
        apply(&mut o, 7, None).unwrap();
        let c = &o.value["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["command"][0], "sh");
        assert!(c["command"][2].as_str().unwrap().ends_with("exit 7"));
        assert_eq!(c["command"][3], "syncsim-fault", "$0 of the script");
        assert_eq!(c["args"], json!(["echo", "hi", "there"]));
    }

    #[test]
    fn without_command_only_exits() {
        let mut o = job("{name: a, image: x, args: [migrate]}");
        apply(&mut o, 1, None).unwrap();
        let c = &o.value["spec"]["template"]["spec"]["containers"][0];
        assert!(c["command"][2]
            .as_str()
            .unwrap()
            .contains("not running the image entrypoint"));
        assert_eq!(c["args"], json!([]));
    }
}
