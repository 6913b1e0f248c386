//! Unit tests of the scenario file format (`spec.rs`).
use super::*;
use std::time::Duration;

fn err(text: &str) -> String {
    parse(text, Path::new("scenarios/x.yaml"))
        .unwrap_err()
        .to_string()
}

const HEAD: &str = "apiVersion: syncsim.dev/v1alpha1\nkind: Scenario\nsource: ../app\n";

#[test]
fn a_full_scenario_parses() {
    let text = format!(
        "{HEAD}metadata: {{name: broken-migration}}
sync: {{app: demo, images: {{a: b}}, waveDelay: 2, timeout: 3m, destNamespace: shop, times: 2}}
patches:
  - merge: {{kind: Job, metadata: {{name: m}}, spec: {{backoffLimit: 0}}}}
  - target: {{kind: Job, name: m}}
    ops: [{{op: replace, path: /spec/backoffLimit, value: 1}}, {{op: remove, path: /x}}]
files:
  - {{configMap: migrations, key: V3__broken.sql, content: 'select nope;'}}
  - {{configMap: migrations, key: V4.sql, from: files/V4.sql}}
faults:
  - hookExitCode: {{target: m, code: 3}}
  - crash: {{target: redis, after: 3s}}
  - stop: {{target: kafka, whileRunning: topic}}
  - imageUnavailable: img:1
  - memoryLimit: {{target: m, limit: 16Mi}}
expect:
  phase: Failed
  message: 'completed unsuccessfully'
  stepsNotStarted: [PostSync/2]
  hookPhases: {{m: Failed, topic: NotStarted}}
  exec: [{{in: postgres, command: [psql, -tAc, select 1], equals: '1'}}]
"
    );
    let s = parse(&text, Path::new("scenarios/x.yaml")).unwrap();
    assert_eq!(s.name, "broken-migration");
    assert_eq!(s.spec.sync.wave_delay, Some(Dur(Duration::from_secs(2))));
    assert_eq!(s.spec.sync.timeout, Some(Dur(Duration::from_secs(180))));
    assert_eq!(s.spec.patches.len(), 2);
    assert!(matches!(s.spec.files[1].content, FileContent::From(ref f) if f == "files/V4.sql"));
    assert_eq!(s.spec.faults.len(), 5);
    assert!(
        matches!(&s.spec.faults[1], Fault::Crash { after: Some(d), .. } if d.0 == Duration::from_secs(3))
    );
    assert_eq!(s.spec.expect.steps_not_started[0].to_string(), "PostSync/2");
    assert_eq!(s.spec.expect.hook_phases["topic"], HookPhase::NotStarted);
    assert_eq!(s.dir(), Path::new("scenarios"));
}

#[test]
fn the_name_defaults_to_the_file_stem() {
    let s = parse(HEAD, Path::new("dir/happy-path.yaml")).unwrap();
    assert_eq!(s.name, "happy-path");
}

#[test]
fn unknown_keys_point_at_their_line() {
    let e = err(&format!(
        "{HEAD}fautls:\n  - crash: {{target: a, after: 1s}}\n"
    ));
    assert!(
        e.starts_with("scenarios/x.yaml:4:1: unknown field `fautls`"),
        "{e}"
    );
}

#[test]
fn bad_values_point_at_their_line_and_say_how_to_fix() {
    let e = err(&format!(
        "{HEAD}faults:\n  - crash: {{target: a, after: soon}}\n"
    ));
    assert!(e.starts_with("scenarios/x.yaml:5:"), "{e}");
    assert!(
        e.contains("`soon` is not a duration") && e.contains("write e.g. 3s"),
        "{e}"
    );
    let e = err(&format!("{HEAD}expect:\n  message: 'V3(broken'\n"));
    assert!(e.starts_with("scenarios/x.yaml:5:"), "{e}");
    assert!(e.contains("not a valid regular expression"), "{e}");
    let e = err(&format!("{HEAD}expect:\n  stepsRan: [Postsync/1]\n"));
    assert!(
        e.contains("`Postsync/1` is not a step (write Phase/wave"),
        "{e}"
    );
    let e = err(&format!("{HEAD}faults:\n  - explode: {{target: a}}\n"));
    assert!(
        e.starts_with("scenarios/x.yaml:5:")
            && e.contains("unknown field `explode`, expected one of `hookCommand`"),
        "{e}"
    );
    let e = err(&format!("{HEAD}expect:\n  hookPhases: {{a: Done}}\n"));
    assert!(e.contains("unknown variant `Done`"), "{e}");
}

#[test]
fn patches_and_files_need_one_shape() {
    let e = err(&format!("{HEAD}patches:\n  - merge: {{kind: Job, metadata: {{name: a}}}}\n    target: {{name: a}}\n    ops: []\n"));
    assert!(
        e.contains("either `merge: <partial object>` or `target: {kind, name}`"),
        "{e}"
    );
    let e = err(&format!("{HEAD}patches:\n  - merge: {{spec: {{}}}}\n"));
    assert!(e.contains("needs `kind` and `metadata.name`"), "{e}");
    let e = err(&format!("{HEAD}files:\n  - {{configMap: m, key: k}}\n"));
    assert!(e.contains("exactly one of `content`"), "{e}");
    let e = err(&format!(
        "{HEAD}patches:\n  - target: {{name: a}}\n    ops: [{{op: merge, path: /a}}]\n"
    ));
    assert!(e.contains("unknown variant `merge`"), "{e}");
    let e = err(&format!(
        "{HEAD}patches:\n  - target: {{name: a}}\n    ops: [{{op: move, path: /a}}]\n"
    ));
    assert!(e.contains("missing field `from`"), "{e}");
}

#[test]
fn semantic_errors_point_at_the_offending_line() {
    let e = err("# a scenario\napiVersion: syncsim.dev/v1\nkind: Scenario\nsource: .\n");
    assert_eq!(e, "scenarios/x.yaml:2: apiVersion `syncsim.dev/v1` is not supported (write `apiVersion: syncsim.dev/v1alpha1`)");
    let e = err(&format!("{HEAD}faults:\n  - crash: {{target: a}}\n"));
    assert!(
        e.starts_with("scenarios/x.yaml:5:")
            && e.contains(
                "`crash` needs exactly one of `after: <duration>` or `whileRunning: <hook>`"
            ),
        "{e}"
    );
    let e = err(&format!(
        "{HEAD}planOnly: true\nexpect:\n  planWarnings: [x]\n  hookPhases: {{a: Failed}}\n"
    ));
    assert_eq!(e, "scenarios/x.yaml:7: `expect.hookPhases` needs a sync, but the scenario is `planOnly: true` (remove one of them; planOnly checks planWarnings, stepsRan and stepsNotStarted)");
    let e = err(&format!("{HEAD}sync:\n  times: 0\n"));
    assert_eq!(e, "scenarios/x.yaml:5: `sync.times` must be at least 1");
}
