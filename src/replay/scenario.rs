//! A recorded operation as a scenario (scenarios/README.md): the Application's source, faults
//! that make the recorded failure recur, and the recorded outcome as expectations.
//!
//! | recorded | fault |
//! |---|---|
//! | a hook (Job, Pod) `Failed`/`Error` | `hookCommand`: print the recorded message, exit 1 (its retries fail too, so a Job ends `BackoffLimitExceeded`, as recorded) |
//! | a Deployment `Failed` (Degraded) | `hookCommand` exiting 1 plus `progressDeadlineSeconds: 10`: it never becomes Ready and its progress deadline passes |
//! | `Running`, `waiting for healthy state of X` / `completion of hook X` | `delayReadiness` of X beyond the timeout (a workload), or a hook that sleeps |
//!
//! Other failures (an apply the API server refused, a failed StatefulSet) cannot be made to
//! recur by a fault: they are reported as warnings and left to the expectations.
use super::{Error, Loaded};
use std::path::{Path, PathBuf};

/// Timeout of a replayed run that Argo CD recorded as still `Running` (it waited forever).
const HANG_TIMEOUT_SECS: u64 = 90;

/// A scenario file's text, and what could not be made to recur.
#[derive(Debug, Clone)]
pub struct Written {
    pub yaml: String,
    pub warnings: Vec<String>,
}

fn q(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// The directory the Application's single source renders: `--repo DIR` (or the checkout
/// holding the record) joined with `source.path`.
///
/// # Errors
///
/// [`Error::Input`] when the Application has several sources or source options a directory
/// cannot carry (helm, kustomize, directory, plugin, chart).
pub fn source_dir(loaded: &Loaded, repos: &[String]) -> Result<PathBuf, Error> {
    let file = loaded.record.file.display().to_string();
    let spec = loaded.record.document.get("spec");
    let src = spec.and_then(|s| s.get("source")).filter(|s| s.is_object());
    let multi = spec
        .and_then(|s| s.get("sources"))
        .and_then(|s| s.as_array())
        .is_some_and(|a| !a.is_empty());
    let Some(src) = src.filter(|_| !multi) else {
        return Err(Error::input(
            &file,
            "spec.sources",
            "a scenario names one source directory: --rehearse and --write-scenario need an \
             Application with a single `spec.source` (compare without them)",
        ));
    };
    for field in ["helm", "kustomize", "directory", "plugin", "chart"] {
        if src.get(field).is_some() {
            return Err(Error::input(
                &file,
                &format!("spec.source.{field}"),
                "a scenario renders the source directory as it is, without Application options: \
                 --rehearse and --write-scenario support sources without helm, kustomize, \
                 directory, plugin and chart fields (compare without them)",
            ));
        }
    }
    let path = src.get("path").and_then(|p| p.as_str()).unwrap_or(".");
    let root = match repos.iter().find(|r| !r.contains('=')) {
        Some(dir) => PathBuf::from(dir),
        None => git_toplevel(&loaded.record.file).ok_or_else(|| {
            Error::input(
                &file,
                "spec.source.repoURL",
                "the record is not inside a git checkout of the repository: pass --repo DIR",
            )
        })?,
    };
    Ok(root.join(path))
}

fn git_toplevel(file: &Path) -> Option<PathBuf> {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty());
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir.unwrap_or(Path::new(".")))
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// The scenario of `loaded`'s record, to be saved at `path` (its `source` is relative to it).
pub fn write(loaded: &Loaded, source_dir: &Path, path: &Path) -> Written {
    let rec = &loaded.record;
    let op = &rec.operation;
    let mut warnings = Vec::new();
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let source = super::relative_path(dir.unwrap_or(Path::new(".")), source_dir);
    let app: String = format!("replay-{}", rec.app)
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let hang = op.phase == "Running";
    let timeout = if hang {
        format!("{HANG_TIMEOUT_SECS}s")
    } else {
        "5m".into()
    };
    let mut faults: Vec<String> = Vec::new();
    let mut patches: Vec<String> = Vec::new();
    let resources = rec.resources();
    let failing: Vec<_> = resources
        .iter()
        .filter(|r| r.failed() && r.sync_phase != "SyncFail")
        .collect();
    for r in &failing {
        let target = format!("{}/{}", r.kind, r.name);
        let say = format!(
            "echo {} >&2; exit 1",
            shell_quote(&format!(
                "syncsim replay: Argo CD recorded {target} {}: {}",
                r.hook_phase, r.message
            ))
        );
        let workload = ["Job", "Pod", "Deployment"].contains(&r.kind.as_str());
        if r.status == "SyncFailed" || !workload || (!r.is_hook() && r.kind != "Deployment") {
            warnings.push(format!(
                "{target}: Argo CD recorded `{}` ({}); no fault makes that recur, the rehearsal \
                 only checks it",
                r.message,
                if r.status == "SyncFailed" {
                    "an apply or dry-run failure"
                } else {
                    "a failed resource"
                }
            ));
            continue;
        }
        faults.push(format!(
            "  - hookCommand: {{target: {}, command: [sh, -c, {}]}}",
            q(&target),
            q(&say)
        ));
        if !r.is_hook() {
            patches.push(format!(
                "  - target: {{kind: Deployment, name: {}}}\n    ops:\n      - {{op: add, path: /spec/progressDeadlineSeconds, value: 10}}",
                q(&r.name)
            ));
        }
    }
    if hang {
        match waited_for(&op.message) {
            Some((kind, name, hook)) => {
                let target = q(&format!("{kind}/{name}"));
                if hook {
                    faults.push(format!(
                        "  - hookCommand: {{target: {target}, command: [sh, -c, {}]}}",
                        q("echo 'syncsim replay: Argo CD waited for this hook to complete'; exec sleep 100000")
                    ));
                } else {
                    faults.push(format!(
                        "  - delayReadiness: {{target: {target}, by: {}s}}",
                        HANG_TIMEOUT_SECS * 10
                    ));
                }
            }
            None => warnings.push(format!(
                "the operation was still Running (`{}`); syncsim cannot tell what it waited for",
                op.message
            )),
        }
    }
    let mut y = String::new();
    y.push_str(&format!(
        "# Written by `syncsim replay {} --write-scenario`.\n\
         # Argo CD's recorded operation of Application `{}` at revision {}:\n\
         #   {} — {}\n\
         # with faults that make it recur (README.md, \"Replaying a recorded sync\").\n",
        rec.file.display(),
        rec.app,
        loaded.revision,
        op.phase,
        op.message
    ));
    for w in &warnings {
        y.push_str(&format!("# not reproduced: {w}\n"));
    }
    y.push_str("apiVersion: syncsim.dev/v1alpha1\nkind: Scenario\nmetadata:\n");
    y.push_str(&format!("  name: {}\n", q(&app)));
    y.push_str(&format!(
        "  description: {}\n",
        q(&format!(
            "Replay of Argo CD's {} sync of {}",
            op.phase, rec.app
        ))
    ));
    y.push_str(&format!("source: {}\n", q(&source.display().to_string())));
    y.push_str("sync:\n");
    y.push_str(&format!("  app: {}\n", q(&app)));
    y.push_str(&format!(
        "  destNamespace: {}\n",
        q(&loaded.dest_namespace())
    ));
    y.push_str(&format!("  revision: {}\n", q(&loaded.revision)));
    y.push_str(&format!("  timeout: {timeout}\n"));
    if !patches.is_empty() {
        y.push_str("patches:\n");
        for p in &patches {
            y.push_str(p);
            y.push('\n');
        }
    }
    if !faults.is_empty() {
        y.push_str("faults:\n");
        for f in &faults {
            y.push_str(f);
            y.push('\n');
        }
    }
    y.push_str("expect:\n");
    match op.phase.as_str() {
        "Succeeded" | "Failed" | "Running" => y.push_str(&format!("  phase: {}\n", op.phase)),
        other => y.push_str(&format!(
            "  # phase {other}: no scenario expectation matches it\n"
        )),
    }
    if !op.message.is_empty() && !hang {
        y.push_str(&format!(
            "  message: {}\n",
            q(&format!("^{}$", regex::escape(&op.message)))
        ));
    }
    if let Some(first) = failing.first() {
        y.push_str(&format!("  failedTask: {}\n", q(&first.display())));
    }
    let hooks: Vec<String> = loaded
        .plan
        .tasks()
        .filter(|t| t.hook)
        .map(|t| {
            let rec = resources.iter().find(|r| {
                r.kind == t.kind() && r.name == t.name() && r.sync_phase == t.phase.as_str()
            });
            let phase = match rec.map(|r| r.hook_phase.as_str()) {
                Some(p) if !p.is_empty() => p,
                _ => "NotStarted",
            };
            format!("    {}: {phase}", q(&format!("{}/{}", t.kind(), t.name())))
        })
        .collect();
    if !hooks.is_empty() {
        y.push_str("  hookPhases:\n");
        for h in dedup(hooks) {
            y.push_str(&h);
            y.push('\n');
        }
    }
    let (ran, not): (Vec<_>, Vec<_>) = loaded.plan.steps.iter().partition(|s| {
        s.tasks.iter().any(|t| {
            resources.iter().any(|r| {
                r.kind == t.kind() && r.name == t.name() && r.sync_phase == t.phase.as_str()
            })
        })
    });
    let names = |steps: Vec<&crate::plan::Step>| -> String {
        steps
            .iter()
            .map(|s| q(&format!("{}/{}", s.phase, s.wave)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !ran.is_empty() {
        y.push_str(&format!("  stepsRan: [{}]\n", names(ran)));
    }
    if !not.is_empty() && !hang {
        y.push_str(&format!("  stepsNotStarted: [{}]\n", names(not)));
    }
    Written { yaml: y, warnings }
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = Vec::new();
    v.retain(|x| {
        let key = x.split(':').next().unwrap_or("").to_string();
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
    v
}

/// `'…'` for `sh`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// What a `waiting for healthy state of G/K/N` or `waiting for completion of hook G/K/N`
/// message waits for: (kind, name, is a hook).
fn waited_for(message: &str) -> Option<(String, String, bool)> {
    let (rest, hook) = if let Some(r) = message.strip_prefix("waiting for healthy state of ") {
        (r, false)
    } else {
        (
            message.strip_prefix("waiting for completion of hook ")?,
            true,
        )
    };
    let key = rest.split_whitespace().next()?;
    let parts: Vec<&str> = key.split('/').collect();
    match parts.as_slice() {
        [.., kind, name] => Some((kind.to_string(), name.to_string(), hook)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_messages_name_their_object() {
        assert_eq!(
            waited_for(
                "waiting for healthy state of apps/StatefulSet/postgres and 2 more resources"
            ),
            Some(("StatefulSet".into(), "postgres".into(), false))
        );
        assert_eq!(
            waited_for("waiting for completion of hook batch/Job/migrate"),
            Some(("Job".into(), "migrate".into(), true))
        );
        assert_eq!(waited_for("one or more tasks are running"), None);
    }

    #[test]
    fn shell_quotes_survive_quotes() {
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
