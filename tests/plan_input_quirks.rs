//! Input quirks of issue #14 through `syncsim plan`: a byte order mark, symlinked manifests in a
//! plain directory, a non-string namespace, escape sequences in names, and data keys the
//! Kubernetes API server rejects.
use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

fn syncsim() -> Command {
    Command::cargo_bin("syncsim").unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn cm(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n")
}

#[test]
fn a_leading_byte_order_mark_is_accepted_and_lines_stay_right() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "bom.yaml",
        &format!("\u{feff}{}---\n{}", cm("first"), cm("second")),
    );
    syncsim().args(["plan", &f]).assert().success().stdout(
        predicate::str::contains("ConfigMap/first")
            .and(predicate::str::contains("ConfigMap/second")),
    );
    let j = write(
        tmp.path(),
        "bom.json",
        "\u{feff}{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"j\"}}",
    );
    syncsim().args(["plan", &j]).assert().success();
    // A real error after the mark still points at the right line (the mark is not a line).
    let bad = write(
        tmp.path(),
        "bad.yaml",
        &format!(
            "\u{feff}{}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{}}\n",
            cm("a")
        ),
    );
    syncsim()
        .args(["plan", &bad])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{bad}:6 has neither")));
}

#[cfg(unix)]
#[test]
fn symlinked_manifests_in_a_plain_directory_are_read_as_argo_cd_reads_them() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "real.yaml", &cm("linked"));
    write(outside.path(), "dir/inner.yaml", &cm("in-linked-dir"));
    let app = tmp.path().join("app");
    write(&app, "plain.yaml", &cm("plain"));
    symlink(outside.path().join("real.yaml"), app.join("link.yaml")).unwrap();
    // A link to a directory is not descended (Argo CD's filepath.Walk does not follow it).
    symlink(outside.path().join("dir"), app.join("linkdir")).unwrap();
    // A dangling link is skipped with a warning.
    symlink(app.join("gone.yaml"), app.join("dangling.yaml")).unwrap();
    syncsim()
        .args(["plan", app.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("ConfigMap/linked"))
        .stdout(predicate::str::contains("ConfigMap/plain"))
        .stdout(predicate::str::contains("in-linked-dir").not())
        .stderr(predicate::str::contains("dangling.yaml"));

    // A loop of file links is an error naming the link, not a hang or a silent skip.
    symlink(app.join("b.yaml"), app.join("a.yaml")).unwrap();
    symlink(app.join("a.yaml"), app.join("b.yaml")).unwrap();
    syncsim()
        .args(["plan", app.to_str().unwrap()])
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("failed to read `").and(predicate::str::contains("a.yaml")),
        );
}

#[test_case::test_case("namespace: 5", "namespace", "number" ; "number namespace")]
#[test_case::test_case("namespace: [a]", "namespace", "sequence" ; "list namespace")]
#[test_case::test_case("namespace: {a: b}", "namespace", "mapping" ; "map namespace")]
#[test_case::test_case("name: 12", "name", "number" ; "number name")]
#[test_case::test_case("generateName: true", "generateName", "boolean" ; "boolean generate name")]
fn a_non_string_metadata_field_is_bad_input_naming_file_and_object(
    field: &str,
    name: &str,
    found: &str,
) {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "ns.yaml",
        &format!(
            "{}---\napiVersion: v1\nkind: Secret\nmetadata:\n  {}\n  {field}\n",
            cm("ok"),
            if name == "name" {
                "generateName: s-"
            } else {
                "name: s"
            }
        ),
    );
    let object = if name == "name" {
        "Secret/<no name>"
    } else {
        "Secret/s"
    };
    syncsim()
        .args(["plan", &f])
        .assert()
        .code(2)
        .stderr(format!(
            "error: object `{object}` at {f}:6 has `metadata.{name}` that is a {found}, not a \
         string (Kubernetes rejects the object; quote the value)\n"
        ));
    // `namespace: null` is no namespace, as in Kubernetes: the destination namespace applies.
    let n = write(
        tmp.path(),
        "null.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: null\n",
    );
    syncsim()
        .args(["plan", &n])
        .assert()
        .success()
        .stdout(predicate::str::contains("Secret/s  ns=default"));
}

#[test]
fn escape_sequences_in_names_are_not_echoed_raw_in_errors_and_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    // A misspelled annotation (a warning) on an object whose name clears the screen.
    let f = write(
        tmp.path(),
        "esc.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"evil\\e[2J\\e]0;title\\a\"\n  annotations:\n    argocd.argoproj.io/sync-wav: \"1\"\n",
    );
    let out = syncsim().args(["plan", &f, "-o", "json"]).output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("ConfigMap/evil\\u{1b}[2J\\u{1b}]0;title\\u{7}"),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");

    let bad = write(
        tmp.path(),
        "esc-bad.yaml",
        "apiVersion: v1\nmetadata:\n  name: \"x\\e[31m\"\n",
    );
    syncsim()
        .args(["plan", &bad])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("object `<no kind>/x\\u{1b}[31m`"))
        .stderr(predicate::str::contains("\u{1b}").not());
}

/// The message is the API server's: `IsConfigMapKey` and `hasChDirPrefix` in Kubernetes'
/// `staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go`, `field.Invalid` in
/// `.../util/validation/field/errors.go` and `NewInvalid` in `.../api/errors/errors.go`.
#[test]
fn a_config_map_key_kubernetes_rejects_fails_the_plan_with_the_api_servers_message() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "keys.yaml",
        &format!(
            "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: files\ndata:\n  ok.txt: a\n  ../../..: b\n",
            cm("fine")
        ),
    );
    syncsim()
        .args(["plan", &f])
        .assert()
        .code(2)
        .stderr(format!(
            "error: object `ConfigMap/files` at {f}:6 would be rejected by Kubernetes: ConfigMap \
         \"files\" is invalid: [data[../../..]: Invalid value: \"../../..\": a valid config key \
         must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or \
         'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+'), \
         data[../../..]: Invalid value: \"../../..\": must not start with '..']\n"
        ));
    for (doc, needle) in [
        (
            "kind: ConfigMap\nmetadata: {name: c}\ndata: {\".\": x}\n",
            "data[.]: Invalid value: \".\": must not be '.'",
        ),
        (
            "kind: ConfigMap\nmetadata: {name: c}\nbinaryData: {\"a b\": eA==}\n",
            "binaryData[a b]: Invalid value: \"a b\": a valid config key",
        ),
        (
            "kind: ConfigMap\nmetadata: {name: c}\ndata: {k: x}\nbinaryData: {k: eA==}\n",
            "data[k]: Invalid value: \"k\": duplicate of key present in binaryData",
        ),
        (
            "kind: Secret\nmetadata: {name: s}\nstringData: {\"..\": x}\n",
            "Secret \"s\" is invalid: data[..]: Invalid value: \"..\": must not be '..'",
        ),
    ] {
        let f = write(tmp.path(), "k.yaml", &format!("apiVersion: v1\n{doc}"));
        syncsim()
            .args(["plan", &f])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(needle));
    }
    // Valid keys, and the same keys in a custom resource, plan fine.
    let ok = write(
        tmp.path(),
        "ok.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {.env: x, KEY_NAME: y, key-name.txt: z}\n---\napiVersion: ex.com/v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {\"../x\": y}\n",
    );
    syncsim().args(["plan", &ok]).assert().success();
}
