//! An Argo CD Application file as SOURCE, against real kustomize (`kubectl kustomize` or
//! `kustomize`), real helm (`compose/install-helm.sh`) and real git: each Application field,
//! the examples under argocd/, and the errors of bad Applications (exit 2, file and field named).
mod common;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use syncsim::manifest::{self, LoadOptions, Loaded, Object};

fn syncsim() -> Command {
    Command::cargo_bin("syncsim").unwrap()
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=syncsim",
            "-c",
            "user.email=syncsim@example.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A git repository holding `files`, committed.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        write(tmp.path(), rel, text);
    }
    git(tmp.path(), &["init", "-q"]);
    git(tmp.path(), &["add", "-A"]);
    git(tmp.path(), &["commit", "-q", "-m", "first"]);
    tmp
}

const REPO_URL: &str = "https://git.example.invalid/team/app.git";

/// An Application named `app` with `spec` merged over a source at `REPO_URL`.
fn application(source: Value, extra_spec: Value) -> String {
    let mut spec = json!({
        "project": "default",
        "source": source,
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "team"},
    });
    for (k, v) in extra_spec.as_object().unwrap() {
        spec[k] = v.clone();
    }
    let doc = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "app", "namespace": "argocd"},
        "spec": spec,
    });
    serde_yaml::to_string(&doc).unwrap()
}

fn load(file: &Path, opts: LoadOptions) -> Loaded {
    manifest::load(file.to_str().unwrap(), &opts).unwrap_or_else(|e| {
        panic!("{}", syncsim::error::render_chain(&e));
    })
}

fn find<'a>(loaded: &'a Loaded, kind: &str) -> &'a Object {
    loaded
        .objects
        .iter()
        .find(|o| o.kind() == kind)
        .unwrap_or_else(|| panic!("no {kind} in {:?}", names(loaded)))
}

fn names(loaded: &Loaded) -> Vec<String> {
    loaded
        .objects
        .iter()
        .map(|o| format!("{}/{}", o.kind(), o.name()))
        .collect()
}

// ---------------------------------------------------------------- kustomize

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    team: base
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.25
";

const CONFIGMAP: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: base
";

fn kustomize_repo() -> tempfile::TempDir {
    repo(&[
        ("app/kustomization.yaml", "resources: [deployment.yaml, configmap.yaml]\ncommonLabels:\n  team: base\n"),
        ("app/deployment.yaml", DEPLOYMENT),
        ("app/configmap.yaml", CONFIGMAP),
        (
            "components/extra/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [secret.yaml]\n",
        ),
        (
            "components/extra/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: extra\nstringData:\n  k: v\n",
        ),
    ])
}

fn kustomize_app(kustomize: Value) -> (tempfile::TempDir, PathBuf) {
    let repo = kustomize_repo();
    let app = repo.path().join("argocd/app.yaml");
    write(
        repo.path(),
        "argocd/app.yaml",
        &application(
            json!({"repoURL": REPO_URL, "targetRevision": "HEAD", "path": "app", "kustomize": kustomize}),
            json!({}),
        ),
    );
    (repo, app)
}

#[test]
fn kustomize_name_prefix_and_suffix() {
    let (_r, app) = kustomize_app(json!({"namePrefix": "p-", "nameSuffix": "-s"}));
    let loaded = load(&app, LoadOptions::default());
    assert_eq!(find(&loaded, "Deployment").name(), "p-web-s");
    assert_eq!(find(&loaded, "ConfigMap").name(), "p-settings-s");
}

#[test]
fn kustomize_options_edit_a_copy_not_the_checkout() {
    let (r, app) = kustomize_app(json!({"namePrefix": "p-"}));
    let before = std::fs::read_to_string(r.path().join("app/kustomization.yaml")).unwrap();
    load(&app, LoadOptions::default());
    let after = std::fs::read_to_string(r.path().join("app/kustomization.yaml")).unwrap();
    assert_eq!(before, after);
}

#[test]
fn kustomize_images() {
    let (_r, app) = kustomize_app(json!({"images": ["nginx=registry.local/nginx:1.27"]}));
    let loaded = load(&app, LoadOptions::default());
    assert_eq!(
        find(&loaded, "Deployment").value["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.local/nginx:1.27"
    );
}

#[test]
fn kustomize_replicas() {
    let (_r, app) = kustomize_app(json!({"replicas": [{"name": "web", "count": 4}]}));
    let loaded = load(&app, LoadOptions::default());
    assert_eq!(find(&loaded, "Deployment").value["spec"]["replicas"], 4);
}

#[test]
fn kustomize_common_labels_and_force() {
    let (_r, app) = kustomize_app(json!({"commonLabels": {"env": "prod"}}));
    let loaded = load(&app, LoadOptions::default());
    let labels = find(&loaded, "ConfigMap").labels();
    assert_eq!(labels.get("env"), Some(&"prod"));
    assert_eq!(labels.get("team"), Some(&"base"));

    // `team` is already a commonLabel of the kustomization: Argo CD's `kustomize edit add
    // label` refuses it unless forceCommonLabels.
    let (_r, app) = kustomize_app(json!({"commonLabels": {"team": "platform"}}));
    let err = manifest::load(app.to_str().unwrap(), &LoadOptions::default()).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.to_string()
            .contains("spec.source.kustomize.commonLabels"),
        "{err}"
    );
    let (_r, app) =
        kustomize_app(json!({"commonLabels": {"team": "platform"}, "forceCommonLabels": true}));
    let loaded = load(&app, LoadOptions::default());
    assert_eq!(
        find(&loaded, "ConfigMap").labels().get("team"),
        Some(&"platform")
    );
}

#[test]
fn kustomize_common_annotations_and_force() {
    let (_r, app) = kustomize_app(json!({"commonAnnotations": {"owner": "sre"}}));
    let loaded = load(&app, LoadOptions::default());
    assert_eq!(
        find(&loaded, "Deployment").annotations().get("owner"),
        Some(&"sre")
    );
    let (_r, app) =
        kustomize_app(json!({"commonAnnotations": {"owner": "a"}, "forceCommonAnnotations": true}));
    let loaded = load(&app, LoadOptions::default());
    assert_eq!(
        find(&loaded, "ConfigMap").annotations().get("owner"),
        Some(&"a")
    );
}

#[test]
fn kustomize_namespace() {
    let (_r, app) = kustomize_app(json!({"namespace": "elsewhere"}));
    let loaded = load(&app, LoadOptions::default());
    assert!(loaded.objects.iter().all(|o| o.namespace() == "elsewhere"));
}

#[test]
fn kustomize_patches_are_appended() {
    let (_r, app) = kustomize_app(json!({"patches": [{
        "target": {"kind": "ConfigMap", "name": "settings"},
        "patch": "- op: replace\n  path: /data/mode\n  value: patched\n"
    }]}));
    let loaded = load(&app, LoadOptions::default());
    assert_eq!(find(&loaded, "ConfigMap").value["data"]["mode"], "patched");
}

#[test]
fn kustomize_components_are_added() {
    let (_r, app) = kustomize_app(json!({"components": ["../components/extra"]}));
    let loaded = load(&app, LoadOptions::default());
    assert_eq!(find(&loaded, "Secret").name(), "extra");

    let (_r, app) = kustomize_app(json!({"components": ["../components/missing"]}));
    let err = manifest::load(app.to_str().unwrap(), &LoadOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("spec.source.kustomize.components"),
        "{err}"
    );
}

#[test]
#[ignore = "needs helm"]
fn kustomize_kube_version_and_api_versions_reach_the_helm_inflator_with_enable_helm() {
    common::ensure_helm();
    // Argo CD passes them as --helm-kube-version/--helm-api-versions only when argocd-cm's
    // kustomize.buildOptions hold --enable-helm (util/kustomize/kustomize.go).
    let chart = chart_repo();
    write(
        chart.path(),
        "inflate/kustomization.yaml",
        "helmGlobals:\n  chartHome: ../\nhelmCharts:\n  - name: chart\n    releaseName: inflated\n",
    );
    git(chart.path(), &["add", "-A"]);
    git(chart.path(), &["commit", "-q", "-m", "inflate"]);
    write(
        chart.path(),
        "app.yaml",
        &application(
            json!({"repoURL": REPO_URL, "path": "inflate", "kustomize": {
                "kubeVersion": "1.30.0", "apiVersions": ["status.shortlink.dev/v1"]
            }}),
            json!({}),
        ),
    );
    let app = chart.path().join("app.yaml");
    let opts = LoadOptions {
        kustomize_build_options: Some(
            "--enable-helm --load-restrictor LoadRestrictionsNone".into(),
        ),
        ..LoadOptions::default()
    };
    let loaded = load(&app, opts);
    assert_eq!(config(&loaded)["kubeVersion"], "v1.30.0");
    assert!(
        names(&loaded)
            .iter()
            .any(|n| n == "StatusCheck/inflated-check"),
        "{:?}",
        names(&loaded)
    );
}

// ---------------------------------------------------------------- examples

#[test]
fn prod_application_plans_like_the_overlay_with_its_namespace() {
    let app = syncsim()
        .args(["plan", "argocd/application-prod.yaml"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let dir = syncsim()
        .args(["plan", "k8s/overlays/prod", "--dest-namespace", "shortlink"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8(app).unwrap(),
        String::from_utf8(dir).unwrap()
    );
}

#[test]
fn prod_application_settings_are_read() {
    let loaded = load(
        Path::new("argocd/application-prod.yaml"),
        LoadOptions::default(),
    );
    let app = loaded.application.expect("an Application");
    assert_eq!(app.name, "shortlink-prod");
    assert_eq!(app.dest_namespace(), Some("shortlink"));
    assert!(app.sync_option_is_true("CreateNamespace"));
    let auto = app.automated.clone().unwrap();
    assert!(auto.prune && auto.self_heal);
    assert_eq!(app.retry.as_ref().unwrap().limit, 5);
    assert_eq!(
        app.revision.len(),
        40,
        "the working tree's HEAD commit: {}",
        app.revision
    );
    assert!(
        app.source_dirs[0].ends_with("k8s/overlays/prod"),
        "{:?}",
        app.source_dirs
    );
}

#[cfg(unix)]
#[test]
fn a_helm_source_without_helm_exits_3_naming_what_to_install() {
    let empty = tempfile::tempdir().unwrap();
    let opts = LoadOptions {
        search_path: Some(empty.path().as_os_str().to_owned()),
        ..LoadOptions::default()
    };
    let err = manifest::load("argocd/application-helm.yaml", &opts).unwrap_err();
    assert_eq!(err.exit_code(), 3);
    let msg = err.to_string();
    assert!(msg.contains("`helm` is not on PATH"), "{msg}");
    assert!(msg.contains("compose/install-helm.sh"), "{msg}");
}

#[test]
fn app_of_apps_plan_lists_the_children_in_their_waves() {
    syncsim()
        .args(["plan", "argocd/app-of-apps.yaml"])
        .assert()
        .success()
        .stdout(
            "step 1: Sync wave 1 (1 task)\n  Application/shortlink-local  ns=argocd\n\
             step 2: Sync wave 2 (1 task)\n  Application/shortlink-status  ns=argocd\n",
        );
}

#[test]
#[ignore = "needs helm"]
fn helm_example_plan_follows_argo_cd_hook_mapping() {
    common::ensure_helm();
    // docs/argo-cd-semantics.md §1.3: pre-install/pre-upgrade → PreSync, post-install and
    // post-upgrade → PostSync, hook-weight → wave, a pre-install,post-install hook in both
    // phases, `test` hooks dropped; Helm delete policies mapped.
    syncsim()
        .args(["plan", "argocd/application-helm.yaml"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "\
step 1: PreSync wave -10 (1 task)
  ConfigMap/status-db-init-sql  ns=shortlink  [hook, delete: BeforeHookCreation]
step 2: PreSync wave -5 (1 task)
  Job/status-db-init  ns=shortlink  [hook, delete: BeforeHookCreation,HookSucceeded]
step 3: PreSync wave 1 (1 task)
  Job/status-announce  ns=shortlink  [hook, delete: BeforeHookCreation]
step 4: Sync wave 0 (4 tasks)
  ConfigMap/status-config  ns=shortlink
  CustomResourceDefinition/statuschecks.status.shortlink.dev  ns=shortlink
  Service/status  ns=shortlink
  Deployment/status  ns=shortlink
step 5: PostSync wave 1 (1 task)
  Job/status-announce  ns=shortlink  [hook, delete: BeforeHookCreation]
step 6: PostSync wave 3 (1 task)
  Job/status-smoke-test  ns=shortlink  [hook, delete: HookSucceeded]

not applied:
  Pod/status-helm-test  ns=shortlink  ignored:",
        ));
}

// ---------------------------------------------------------------- helm

/// A repository holding a copy of the example chart under `chart/`.
fn chart_repo() -> tempfile::TempDir {
    let src = Path::new("k8s/charts/shortlink-status");
    let tmp = tempfile::tempdir().unwrap();
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(src).unwrap();
            write(
                tmp.path(),
                &format!("chart/{}", rel.display()),
                &std::fs::read_to_string(entry.path()).unwrap(),
            );
        }
    }
    git(tmp.path(), &["init", "-q"]);
    git(tmp.path(), &["add", "-A"]);
    git(tmp.path(), &["commit", "-q", "-m", "chart"]);
    tmp
}

fn helm_app(helm: Value) -> (tempfile::TempDir, PathBuf) {
    let repo = chart_repo();
    let app = repo.path().join("app.yaml");
    write(
        repo.path(),
        "app.yaml",
        &application(
            json!({"repoURL": REPO_URL, "path": "chart", "helm": helm}),
            json!({}),
        ),
    );
    (repo, app)
}

fn config(loaded: &Loaded) -> &Value {
    &loaded
        .objects
        .iter()
        .find(|o| o.kind() == "ConfigMap" && o.name().ends_with("-config"))
        .expect("the chart's ConfigMap")
        .value["data"]
}

#[test]
#[ignore = "needs helm"]
fn helm_release_name_defaults_to_the_application_name() {
    common::ensure_helm();
    let (_r, app) = helm_app(json!({}));
    let loaded = load(&app, LoadOptions::default());
    assert_eq!(find(&loaded, "Deployment").name(), "app");
    // `helm version --short`, asked for while the chart renders (`source/helm.rs`).
    let renderer = loaded.renderer.to_string();
    assert!(renderer.contains("(helm v3."), "{renderer}");
    let (_r, app) = helm_app(json!({"releaseName": "rel"}));
    assert_eq!(
        find(&load(&app, LoadOptions::default()), "Deployment").name(),
        "rel"
    );
}

#[test]
#[ignore = "needs helm"]
fn helm_namespace_is_the_destination_unless_set() {
    common::ensure_helm();
    let (_r, app) = helm_app(json!({}));
    assert_eq!(
        config(&load(&app, LoadOptions::default()))["namespace"],
        "team"
    );
    let (_r, app) = helm_app(json!({"namespace": "other"}));
    assert_eq!(
        config(&load(&app, LoadOptions::default()))["namespace"],
        "other"
    );
}

#[test]
#[ignore = "needs helm"]
fn helm_value_files_then_values_then_values_object() {
    common::ensure_helm();
    let (_r, app) = helm_app(json!({"valueFiles": ["values-prod.yaml"]}));
    let loaded = load(&app, LoadOptions::default());
    assert_eq!(find(&loaded, "Deployment").value["spec"]["replicas"], 2);
    assert_eq!(config(&loaded)["message"], "shortlink status (prod)");

    let (_r, app) =
        helm_app(json!({"valueFiles": ["values-prod.yaml"], "values": "message: inline\n"}));
    assert_eq!(
        config(&load(&app, LoadOptions::default()))["message"],
        "inline"
    );

    // valuesObject wins over values, as in Argo CD.
    let (_r, app) =
        helm_app(json!({"values": "message: text\n", "valuesObject": {"message": "object"}}));
    assert_eq!(
        config(&load(&app, LoadOptions::default()))["message"],
        "object"
    );

    // A string of valuesObject stays a string for helm, which reads values as YAML 1.1
    // (Argo CD's ApplicationSourceHelm.ValuesYAML prints it through sigs.k8s.io/yaml, quoted).
    let (_r, app) = helm_app(json!({"valuesObject": {"message": "no"}}));
    // serde_yaml prints `no` plain, which YAML 1.1 (Argo CD's reading and syncsim's) takes for
    // a boolean; as a user would, quote it.
    let text = std::fs::read_to_string(&app).unwrap();
    assert!(text.contains("message: no\n"), "{text}");
    std::fs::write(&app, text.replace("message: no\n", "message: 'no'\n")).unwrap();
    assert_eq!(config(&load(&app, LoadOptions::default()))["message"], "no");
}

#[test]
#[ignore = "needs helm"]
fn helm_missing_value_files_fail_unless_ignored() {
    common::ensure_helm();
    let (_r, app) = helm_app(json!({"valueFiles": ["values-prod.yaml", "nope.yaml"]}));
    syncsim()
        .args(["plan", app.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(app.to_str().unwrap()))
        .stderr(predicate::str::contains("spec.source.helm.valueFiles[1]"))
        .stderr(predicate::str::contains("nope.yaml"));
    let (_r, app) = helm_app(
        json!({"valueFiles": ["values-prod.yaml", "nope.yaml"], "ignoreMissingValueFiles": true}),
    );
    assert_eq!(
        find(&load(&app, LoadOptions::default()), "Deployment").value["spec"]["replicas"],
        2
    );
}

#[test]
#[ignore = "needs helm"]
fn helm_parameters_and_file_parameters() {
    common::ensure_helm();
    let (_r, app) = helm_app(json!({
        "parameters": [
            {"name": "replicas", "value": "3"},
            {"name": "message", "value": "a,b"},
            {"name": "image.tag", "value": "2.0", "forceString": true}
        ],
        "fileParameters": [{"name": "banner", "path": "files/banner.txt"}]
    }));
    let loaded = load(&app, LoadOptions::default());
    let deploy = find(&loaded, "Deployment");
    assert_eq!(deploy.value["spec"]["replicas"], 3);
    assert_eq!(
        deploy.value["spec"]["template"]["spec"]["containers"][0]["image"],
        "syncsim-kit/shortlink:2.0"
    );
    assert_eq!(config(&loaded)["message"], "a,b");
    assert_eq!(config(&loaded)["banner"], "Welcome to shortlink\n");
}

#[test]
#[ignore = "needs helm"]
fn helm_crds_are_included_unless_skip_crds() {
    common::ensure_helm();
    let (_r, app) = helm_app(json!({}));
    assert!(names(&load(&app, LoadOptions::default()))
        .iter()
        .any(|n| n.starts_with("CustomResourceDefinition/")));
    let (_r, app) = helm_app(json!({"skipCrds": true}));
    assert!(!names(&load(&app, LoadOptions::default()))
        .iter()
        .any(|n| n.starts_with("CustomResourceDefinition/")));
}

#[test]
#[ignore = "needs helm"]
fn helm_skip_schema_validation() {
    common::ensure_helm();
    let bad = json!([{"name": "replicas", "value": "many", "forceString": true}]);
    let (_r, app) = helm_app(json!({"parameters": bad}));
    let err = manifest::load(app.to_str().unwrap(), &LoadOptions::default()).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        syncsim::error::render_chain(&err).contains("schema"),
        "{}",
        syncsim::error::render_chain(&err)
    );
    let (_r, app) = helm_app(json!({"parameters": bad, "skipSchemaValidation": true}));
    assert_eq!(
        find(&load(&app, LoadOptions::default()), "Deployment").value["spec"]["replicas"],
        "many"
    );
}

#[test]
#[ignore = "needs helm"]
fn helm_kube_version_and_api_versions() {
    common::ensure_helm();
    let (_r, app) = helm_app(json!({}));
    let loaded = load(&app, LoadOptions::default());
    assert_eq!(
        config(&loaded)["kubeVersion"],
        format!("v{}", syncsim::manifest::source::HELM_KUBE_VERSION)
    );
    assert!(!names(&loaded).iter().any(|n| n.starts_with("StatusCheck/")));
    let (_r, app) =
        helm_app(json!({"kubeVersion": "1.30.0", "apiVersions": ["status.shortlink.dev/v1"]}));
    let loaded = load(&app, LoadOptions::default());
    assert_eq!(config(&loaded)["kubeVersion"], "v1.30.0");
    assert!(names(&loaded).iter().any(|n| n == "StatusCheck/app-check"));
}

#[test]
#[ignore = "needs helm"]
fn helm_version_v2_is_refused() {
    common::ensure_helm();
    let (_r, app) = helm_app(json!({"version": "v2"}));
    let err = manifest::load(app.to_str().unwrap(), &LoadOptions::default()).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.to_string().contains("spec.source.helm.version"),
        "{err}"
    );
}

#[test]
#[ignore = "needs helm"]
fn multi_source_values_come_from_a_ref_source() {
    common::ensure_helm();
    let chart = chart_repo();
    let values = repo(&[(
        "envs/prod.yaml",
        "message: from-the-values-repo\nreplicas: 5\n",
    )]);
    let values_url = "https://git.example.invalid/team/values.git";
    let doc = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "multi"},
        "spec": {
            "sources": [
                {"repoURL": REPO_URL, "path": "chart", "helm": {"valueFiles": ["$values/envs/prod.yaml"]}},
                {"repoURL": values_url, "targetRevision": "HEAD", "ref": "values"}
            ],
            "destination": {"namespace": "team"}
        }
    });
    write(
        chart.path(),
        "app.yaml",
        &serde_yaml::to_string(&doc).unwrap(),
    );
    let app = chart.path().join("app.yaml");
    // Without a map the second repository is unknown.
    let err = manifest::load(app.to_str().unwrap(), &LoadOptions::default()).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("spec.sources[1].repoURL"), "{err}");
    let opts = LoadOptions {
        repos: vec![format!("{values_url}={}", values.path().display())],
        ..LoadOptions::default()
    };
    let loaded = load(&app, opts);
    assert_eq!(config(&loaded)["message"], "from-the-values-repo");
    assert_eq!(find(&loaded, "Deployment").value["spec"]["replicas"], 5);
    assert_eq!(
        loaded.application.unwrap().revisions.len(),
        1,
        "the ref source renders nothing"
    );
}

// ---------------------------------------------------------------- directory

fn directory_app(directory: Value) -> (tempfile::TempDir, PathBuf) {
    let cm = |n: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {n}\n");
    let repo = repo(&[
        ("manifests/a.yaml", &cm("a")),
        ("manifests/b.yml", &cm("b")),
        ("manifests/sub/c.yaml", &cm("c")),
        ("manifests/notes.txt", "not yaml: ["),
    ]);
    let app = repo.path().join("app.yaml");
    write(
        repo.path(),
        "app.yaml",
        &application(
            json!({"repoURL": REPO_URL, "path": "manifests", "directory": directory}),
            json!({}),
        ),
    );
    (repo, app)
}

fn cm_names(loaded: &Loaded) -> Vec<&str> {
    loaded.objects.iter().map(|o| o.name()).collect()
}

#[test]
fn directory_is_not_recursive_unless_recurse() {
    let (_r, app) = directory_app(json!({}));
    assert_eq!(cm_names(&load(&app, LoadOptions::default())), ["a", "b"]);
    let (_r, app) = directory_app(json!({"recurse": true}));
    assert_eq!(
        cm_names(&load(&app, LoadOptions::default())),
        ["a", "b", "c"]
    );
}

#[test]
fn directory_include_and_exclude() {
    let (_r, app) = directory_app(json!({"recurse": true, "include": "{a.yaml,sub/*}"}));
    assert_eq!(cm_names(&load(&app, LoadOptions::default())), ["a", "c"]);
    let (_r, app) = directory_app(json!({"recurse": true, "exclude": "*.yml"}));
    assert_eq!(cm_names(&load(&app, LoadOptions::default())), ["a", "c"]);
}

#[test]
fn jsonnet_is_not_supported() {
    let (_r, app) = directory_app(json!({"jsonnet": {"tlas": [{"name": "x", "value": "y"}]}}));
    syncsim()
        .args(["plan", app.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Application `app`"))
        .stderr(predicate::str::contains("spec.source.directory.jsonnet"))
        .stderr(predicate::str::contains("not supported"));
}

// ---------------------------------------------------------------- revisions

#[test]
fn target_revision_of_an_older_commit_renders_that_commit() {
    let r = repo(&[("m/cm.yaml", &CONFIGMAP.replace("mode: base", "mode: v1"))]);
    let first = git(r.path(), &["rev-parse", "HEAD"]);
    git(r.path(), &["tag", "v1"]);
    write(
        r.path(),
        "m/cm.yaml",
        &CONFIGMAP.replace("mode: base", "mode: v2"),
    );
    git(r.path(), &["commit", "-q", "-am", "second"]);
    write(
        r.path(),
        "m/cm.yaml",
        &CONFIGMAP.replace("mode: base", "mode: uncommitted"),
    );
    let app = r.path().join("app.yaml");
    for (target, want) in [
        (first.as_str(), "v1"),
        ("v1", "v1"),
        ("HEAD", "uncommitted"),
        ("main", "uncommitted"),
    ] {
        write(
            r.path(),
            "app.yaml",
            &application(
                json!({"repoURL": REPO_URL, "path": "m", "targetRevision": target}),
                json!({}),
            ),
        );
        let loaded = load(&app, LoadOptions::default());
        assert_eq!(
            find(&loaded, "ConfigMap").value["data"]["mode"],
            want,
            "targetRevision {target}"
        );
    }
    write(
        r.path(),
        "app.yaml",
        &application(
            json!({"repoURL": REPO_URL, "path": "m", "targetRevision": "v1"}),
            json!({}),
        ),
    );
    let loaded = load(&app, LoadOptions::default());
    assert_eq!(loaded.application.unwrap().revision, first);
}

#[test]
fn generate_name_hooks_are_named_after_the_resolved_revision() {
    let hook = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\n  annotations:\n    argocd.argoproj.io/hook: PreSync\nspec: {}\n";
    let r = repo(&[("m/job.yaml", hook)]);
    let sha = git(r.path(), &["rev-parse", "HEAD"]);
    write(
        r.path(),
        "app.yaml",
        &application(json!({"repoURL": REPO_URL, "path": "m"}), json!({})),
    );
    syncsim()
        .args(["plan", r.path().join("app.yaml").to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "Job/migrate-{}-presync-",
            &sha[..7]
        )))
        .stdout(predicate::str::contains("ns=team"));
}

#[test]
fn unknown_revision_exits_2_naming_the_field() {
    let (r, _) = directory_app(json!({}));
    write(
        r.path(),
        "app.yaml",
        &application(
            json!({"repoURL": REPO_URL, "path": "manifests", "targetRevision": "no-such-tag"}),
            json!({}),
        ),
    );
    syncsim()
        .args(["plan", r.path().join("app.yaml").to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("spec.source.targetRevision"))
        .stderr(predicate::str::contains("no-such-tag"));
}

// ---------------------------------------------------------------- bad Applications

fn bad(doc_source: Option<Value>, extra: &[&str], field: &str) {
    let r = kustomize_repo();
    let mut doc: Value = serde_yaml::from_str(&application(json!({}), json!({}))).unwrap();
    match doc_source {
        Some(s) => doc["spec"]["source"] = s,
        None => {
            doc["spec"].as_object_mut().unwrap().remove("source");
        }
    }
    let file = r.path().join("app.yaml");
    std::fs::write(&file, serde_yaml::to_string(&doc).unwrap()).unwrap();
    let file = file.to_str().unwrap().to_string();
    syncsim()
        .arg("plan")
        .arg(&file)
        .args(extra)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{file}: Application `app`: {field}"
        )));
}

#[test]
fn application_without_source_exits_2() {
    bad(None, &[], "spec.source: the Application has no source");
}

#[test]
fn unknown_repository_exits_2() {
    // The file is in no git checkout and no --repo is given: nothing serves the repoURL.
    let r = tempfile::tempdir().unwrap();
    write(
        r.path(),
        "app.yaml",
        &application(json!({"repoURL": REPO_URL, "path": "."}), json!({})),
    );
    let file = r.path().join("app.yaml");
    syncsim()
        .args(["plan", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("spec.source.repoURL"))
        .stderr(predicate::str::contains("is not known"));
}

#[test]
fn plugin_source_exits_2() {
    bad(
        Some(json!({"repoURL": REPO_URL, "path": "app", "plugin": {"name": "sops"}})),
        &[],
        "spec.source.plugin: a config management plugin is not supported",
    );
}

#[test]
fn helm_repository_chart_exits_2() {
    bad(
        Some(
            json!({"repoURL": "https://charts.example.invalid", "chart": "redis", "targetRevision": "1.0.0"}),
        ),
        &[],
        "spec.source.chart",
    );
}

#[test]
fn missing_path_exits_2() {
    bad(
        Some(json!({"repoURL": REPO_URL, "path": "nowhere"})),
        &[],
        "spec.source.path: `nowhere` is not a directory",
    );
}

#[test]
fn several_applications_need_app() {
    let r = kustomize_repo();
    let one = application(json!({"repoURL": REPO_URL, "path": "app"}), json!({}));
    let two = one.replace("name: app\n", "name: other\n");
    write(r.path(), "apps.yaml", &format!("{one}---\n{two}"));
    let file = r.path().join("apps.yaml");
    syncsim()
        .args(["plan", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "holds 2 Applications (app, other); pick one with --app NAME",
        ));
    syncsim()
        .args(["plan", file.to_str().unwrap(), "--app", "other"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Deployment/web  ns=team"));
    syncsim()
        .args(["plan", file.to_str().unwrap(), "--app", "third"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no Application named `third`"));
}

// ---------------------------------------------------------------- sync, watch: bad input before Docker

/// `syncsim ARGS` with an engine that does not exist: reaching Docker would be exit 3, so an
/// exit 2 proves the input was refused first.
fn without_docker(args: &[&str]) -> assert_cmd::assert::Assert {
    let state = tempfile::tempdir().unwrap();
    syncsim()
        .args(args)
        .env("SYNCSIM_STATE_DIR", state.path())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .assert()
}

/// A repository with an app of apps: `parent.yaml` renders `apps/`, whose `child.yaml` points
/// at `child_path`.
fn app_of_apps_repo(child_path: &str) -> tempfile::TempDir {
    let r = kustomize_repo();
    write(
        r.path(),
        "parent.yaml",
        &application(json!({"repoURL": REPO_URL, "path": "apps"}), json!({})),
    );
    let child = application(json!({"repoURL": REPO_URL, "path": child_path}), json!({}))
        .replace("name: app\n", "name: child\n");
    write(r.path(), "apps/child.yaml", &child);
    r
}

#[test]
fn an_app_of_apps_with_a_bad_child_exits_2_naming_the_childs_file_and_field() {
    let r = app_of_apps_repo("nowhere");
    let parent = r.path().join("parent.yaml");
    without_docker(&["sync", parent.to_str().unwrap()])
        .code(2)
        .stderr(predicate::str::contains(
            "apps/child.yaml: Application `child`: spec.source.path",
        ))
        .stderr(predicate::str::contains("`nowhere` is not a directory"));
}

#[test]
fn an_app_of_apps_cannot_be_kept_yet() {
    let r = app_of_apps_repo("app");
    let parent = r.path().join("parent.yaml");
    without_docker(&["sync", parent.to_str().unwrap(), "--keep"])
        .code(2)
        .stderr(predicate::str::contains(
            "--keep is not supported for an app of apps",
        ));
}

#[test]
fn an_argocd_cm_with_another_application_check_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "argocd-cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: argocd-cm}\ndata:\n  \
         resource.customizations.health.argoproj.io_Application: |\n    \
         hs = {}\n    hs.status = \"Healthy\"\n    return hs\n",
    );
    let cm = dir.path().join("argocd-cm.yaml");
    without_docker(&[
        "sync",
        "tests/fixtures/sync/small.yaml",
        "--argocd-cm",
        cm.to_str().unwrap(),
    ])
    .code(2)
    .stderr(predicate::str::contains(
        "data.resource.customizations.health.argoproj.io_Application: syncsim runs no Lua",
    ));
}

#[test]
fn watch_of_an_application_with_a_bad_retry_backoff_exits_2_naming_the_field() {
    let r = kustomize_repo();
    write(
        r.path(),
        "app.yaml",
        &application(
            json!({"repoURL": REPO_URL, "path": "app"}),
            json!({"syncPolicy": {"automated": {"prune": true},
                   "retry": {"limit": 2, "backoff": {"duration": "soon"}}}}),
        ),
    );
    let file = r.path().join("app.yaml");
    without_docker(&["watch", file.to_str().unwrap()])
        .code(2)
        .stderr(predicate::str::contains(
            "Application `app`: spec.syncPolicy.retry.backoff.duration: `soon` is not a duration",
        ));
}

// ---------------------------------------------------------------- scenarios

#[test]
fn a_scenario_whose_source_is_an_application_takes_its_destination_namespace() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sc = syncsim::scenario::read(&root.join("scenarios/application-local.yaml")).unwrap();
    let p = syncsim::scenario::prepare(sc).unwrap_or_else(|e| {
        panic!("{}", syncsim::error::render_chain(&e));
    });
    let namespaces: std::collections::BTreeSet<&str> =
        p.plan.tasks().map(|t| t.namespace()).collect();
    assert_eq!(namespaces.into_iter().collect::<Vec<_>>(), ["shortlink"]);
}

#[test]
#[ignore = "needs helm"]
fn the_helm_applications_scenario_prepares_with_its_hooks_in_argo_cd_phases() {
    common::ensure_helm();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sc = syncsim::scenario::read(&root.join("scenarios/application-helm.yaml")).unwrap();
    let p = syncsim::scenario::prepare(sc).unwrap_or_else(|e| {
        panic!("{}", syncsim::error::render_chain(&e));
    });
    let steps: Vec<String> = p
        .plan
        .steps
        .iter()
        .map(|s| format!("{}/{}", s.phase, s.wave))
        .collect();
    assert_eq!(
        steps,
        [
            "PreSync/-10",
            "PreSync/-5",
            "PreSync/1",
            "Sync/0",
            "PostSync/1",
            "PostSync/3"
        ]
    );
}
