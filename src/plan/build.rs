//! `build`: objects → tasks → sorted, dependency-adjusted steps (docs/argo-cd-semantics.md §1–§3.4).
use super::{
    annotations as key,
    classify::{classify_from, Class, IgnoreReason},
    lint::Linter,
    order::{adjust_dependencies, sort_tasks},
    parse::{annotations_of, delete_policies_from, sync_options_from, wave_from},
    Error, Ignored, Phase, Plan, PlanOptions, Step, Task, Warning,
};
use crate::manifest::{Object, Origin};
use serde_json::Value;
use std::{collections::HashMap, sync::Arc};

/// Builds Argo CD's sync plan for `objects` (in source order). Pure: no I/O.
///
/// * Objects without `metadata.namespace` get `opts.dest_namespace` (§2.1.3).
/// * Duplicates (same group, kind, namespace and name) keep the last one, as Argo CD does
///   (`RepeatedResourceWarning`); the others go to `ignored` with a warning.
/// * Each manifest is classified (§1.2): a resource gives one Sync task, a hook one task per
///   phase (generateName hooks get Argo CD's name, §3.1, and every hook the hook finalizer,
///   §3.2), skipped and dropped manifests go to `ignored`.
/// * Tasks are sorted (§2.3), Namespaces and CRDs moved before their first user (§2.4), and
///   grouped into steps by (phase, wave); SyncFail steps come last.
///
/// # Errors
///
/// [`Error::MissingField`] for an object without `apiVersion` or `kind`, or a non-hook without
/// `metadata.name` and `metadata.generateName`.
pub fn build(objects: &[Object], opts: &PlanOptions) -> Result<Plan, Error> {
    build_owned(objects.to_vec(), opts)
}

/// [`build`], taking the objects: the plan's tasks are made of them rather than of copies, which
/// matters when there are thousands (`syncsim plan` of a large render).
///
/// # Errors
///
/// As [`build`].
pub fn build_owned(objects: Vec<Object>, opts: &PlanOptions) -> Result<Plan, Error> {
    let mut warnings: Vec<Warning> = Vec::new();
    let mut ignored: Vec<Ignored> = Vec::new();

    let mut targets = objects;
    for obj in &mut targets {
        validate(obj)?;
        if obj.namespace().is_empty() && !opts.dest_namespace.is_empty() {
            obj.set_metadata_str("namespace", &opts.dest_namespace);
        }
    }
    // The origin of each manifest, for the duplicate warnings: the kept copy is consumed later.
    let origins: Vec<Arc<Origin>> = targets.iter().map(|o| o.origin.clone()).collect();

    // Duplicates: the last manifest of a key wins. `winner[i]` is the index that replaces
    // object i (i itself when it is kept), with the number of copies.
    let mut by_key: HashMap<(&str, &str, &str, String), (usize, usize)> =
        HashMap::with_capacity(targets.len());
    for (i, o) in targets.iter().enumerate() {
        let name = match (o.name(), o.generate_name()) {
            ("", Some(g)) => format!("{g}{i}"),
            (n, _) => n.to_string(),
        };
        let entry = by_key
            .entry((o.group(), o.kind(), o.namespace(), name))
            .or_insert((i, 0));
        entry.0 = i;
        entry.1 += 1;
    }
    let mut winner: Vec<(usize, usize)> = (0..targets.len()).map(|i| (i, 1)).collect();
    for (i, o) in targets.iter().enumerate() {
        if o.name().is_empty() {
            continue; // generateName keys are unique per index
        }
        let key = (o.group(), o.kind(), o.namespace(), o.name().to_string());
        winner[i] = by_key[&key];
    }
    drop(by_key);

    let mut tasks: Vec<Task> = Vec::with_capacity(targets.len());
    for (i, obj) in targets.into_iter().enumerate() {
        let (ann, bad_key) = annotations_of(&obj);
        let class = classify_from(&ann);
        Linter::new(&obj, &mut warnings).lint(&ann, bad_key, &class);

        let (kept_index, copies) = winner[i];
        if kept_index != i {
            let kept = &origins[kept_index];
            warnings.push(Warning {
                origin: obj.origin.to_string(),
                object: obj.display_name(),
                message: format!(
                    "appears {} times among the manifests; Argo CD keeps only the last one \
                     ({kept}) and reports RepeatedResourceWarning",
                    copies
                ),
            });
            ignored.push(ignored_entry(
                &obj,
                "duplicate",
                format!("replaced by {kept}"),
            ));
            continue;
        }

        let (wave, _) = wave_from(&ann);
        let sync_options = sync_options_from(&ann);
        match class {
            Class::Resource => tasks.push(Task {
                phase: Phase::Sync,
                wave,
                hook: false,
                delete_policies: Vec::new(),
                sync_options,
                object: obj,
            }),
            Class::Hook(phases) => {
                let delete_policies = delete_policies_from(&ann);
                let n = phases.len();
                let mut obj = Some(obj);
                for (p, phase) in phases.into_iter().enumerate() {
                    // The last phase takes the object; earlier ones clone it.
                    let mut object = if p + 1 == n {
                        obj.take().expect("object is taken once")
                    } else {
                        obj.clone().expect("object is present until the last phase")
                    };
                    if object.name().is_empty() {
                        let name = hook_name(object.generate_name().unwrap_or(""), phase, opts);
                        object.set_metadata_str("name", &name);
                    }
                    add_finalizer(&mut object);
                    tasks.push(Task {
                        phase,
                        wave,
                        hook: true,
                        delete_policies: delete_policies.clone(),
                        sync_options: sync_options.clone(),
                        object,
                    });
                }
            }
            Class::Skipped => {
                let detail = format!("`{}: Skip`: never applied", key::HOOK);
                ignored.push(ignored_entry(&obj, "skipped", detail));
            }
            Class::Ignored(reason) => {
                let detail = match reason {
                    IgnoreReason::NoValidHookType => {
                        "a hook without a valid hook type is dropped from the sync"
                    }
                    IgnoreReason::DeletionHookOnly => {
                        "PreDelete/PostDelete hooks run only on application deletion"
                    }
                };
                ignored.push(ignored_entry(&obj, "ignored", detail.to_string()));
            }
        }
    }

    sort_tasks(&mut tasks);
    adjust_dependencies(&mut tasks);
    Ok(Plan {
        steps: group_steps(tasks),
        ignored,
        warnings,
    })
}

fn validate(obj: &Object) -> Result<(), Error> {
    let missing = |field| Error::MissingField {
        origin: obj.origin.to_string(),
        object: obj.display_name(),
        field,
    };
    if obj.api_version().is_empty() {
        return Err(missing("apiVersion"));
    }
    if obj.kind().is_empty() {
        return Err(missing("kind"));
    }
    if let Some((field, found)) = crate::manifest::non_string_metadata(obj.value.get("metadata")) {
        return Err(Error::NotAString {
            origin: obj.origin.to_string(),
            object: obj.display_name(),
            field,
            found,
        });
    }
    if let Some(message) = super::rejected_data_keys(obj) {
        return Err(Error::Rejected {
            origin: obj.origin.to_string(),
            object: obj.display_name(),
            message,
        });
    }
    if obj.name().is_empty() && obj.generate_name().is_none_or(str::is_empty) {
        // §3.1 names a hook without name and generateName by its suffix alone; a resource
        // cannot be applied at all.
        if matches!(classify_from(&annotations_of(obj).0), Class::Resource) {
            return Err(missing("metadata.name"));
        }
    }
    Ok(())
}

fn ignored_entry(obj: &Object, reason: &str, detail: String) -> Ignored {
    Ignored {
        kind: obj.kind().to_string(),
        name: if obj.name().is_empty() {
            obj.generate_name().unwrap_or("").to_string()
        } else {
            obj.name().to_string()
        },
        namespace: obj.namespace().to_string(),
        reason: reason.to_string(),
        detail,
        origin: obj.origin.to_string(),
    }
}

/// Argo CD's name for a generateName hook (§3.1): `generateName + lower("<rev>-<phase>-<unix>")`,
/// `<rev>` being the first 7 characters of the revision when it has 8 or more.
pub fn hook_name(generate_name: &str, phase: Phase, opts: &PlanOptions) -> String {
    let rev = &opts.revision;
    let rev: String = if rev.chars().count() >= 8 {
        rev.chars().take(7).collect()
    } else {
        rev.clone()
    };
    let suffix = format!("{rev}-{}-{}", phase.as_str(), opts.started_at_unix).to_lowercase();
    format!("{generate_name}{suffix}")
}

fn add_finalizer(obj: &mut Object) {
    let Some(meta) = obj.value.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let finalizers = meta
        .entry("finalizers")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Some(list) = finalizers.as_array_mut() {
        if !list.iter().any(|f| f.as_str() == Some(key::HOOK_FINALIZER)) {
            list.push(Value::String(key::HOOK_FINALIZER.to_string()));
        }
    }
}

/// Groups sorted tasks into steps of equal (phase, wave).
fn group_steps(tasks: Vec<Task>) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    for task in tasks {
        match steps.last_mut() {
            Some(step) if step.phase == task.phase && step.wave == task.wave => {
                step.tasks.push(task)
            }
            _ => steps.push(Step {
                phase: task.phase,
                wave: task.wave,
                tasks: vec![task],
            }),
        }
    }
    steps
}
