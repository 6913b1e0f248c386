//! Issue #9 through the CLI: a green rehearsal means a green Argo CD sync. Each test pins one
//! bullet of the issue's "Why" with the wording of the upstream file named beside it.
//! Run with `cargo test --test trust_docker -- --include-ignored` (needs Docker and the busybox
//! test image of `compose/testimages/build.sh`).
mod common;

use std::process::Command;

#[path = "common/rehearse.rs"]
mod rehearse;

use rehearse::*;

/// gitops-engine pkg/sync/sync_context.go (`one or more synchronization tasks are not valid`)
/// and pkg/utils/kube/kube.go (`failed to discover server resources for group version …`).
#[test]
#[ignore = "needs docker"]
fn a_custom_resource_without_its_crd_fails_the_sync_and_applies_nothing() {
    common::ensure_test_image();
    let app = "trust-crd";
    let yaml = format!(
        "{}---\napiVersion: kafka.strimzi.io/v1beta2\nkind: KafkaTopic\nmetadata: {{name: clicks}}\nspec: {{partitions: 1}}\n",
        deployment("web", IMAGE, "")
    );
    let (_d, file) = source(&yaml, "{}");
    let out = sync(app, &file, &["--timeout", "60s"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("one or more synchronization tasks are not valid: failed to discover server resources for group version kafka.strimzi.io/v1beta2: the server could not find the requested resource"),
        "{all}"
    );
    assert!(
        all.contains("cluster.crds"),
        "the hint names the fix: {all}"
    );
    assert!(!all.contains("deployment.apps/web created"), "{all}");

    // Declared in the cluster description: served, the sync goes through.
    let (_d, file) = source(&yaml, "{crds: [kafka.strimzi.io/KafkaTopic]}");
    let out = sync(app, &file, &["--timeout", "60s"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
}

/// Strict decoding (apimachinery's strict field validation: `unknown field`).
#[test]
#[ignore = "needs docker"]
fn a_misspelled_field_is_refused_by_the_api_server() {
    common::ensure_test_image();
    let yaml = deployment("web", IMAGE, "          imagePullPolcy: IfNotPresent\n");
    let (_d, file) = source(&yaml, "{}");
    let out = sync("trust-field", &file, &["--timeout", "60s"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("unknown field"), "{all}");
    assert!(all.contains("imagePullPolcy"), "{all}");
    assert!(all.contains("one or more objects failed to apply"), "{all}");
}

/// apimachinery/pkg/api/errors/errors.go `NewNotFound` from the NamespaceLifecycle admission
/// plugin: `namespaces "x" not found`; `CreateNamespace=true` creates it first (§2.1.4).
#[test]
#[ignore = "needs docker"]
fn a_namespace_nothing_creates_fails_the_apply_unless_create_namespace() {
    common::ensure_test_image();
    let app = "trust-ns";
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n";
    let (_d, file) = source(yaml, "{}");
    let out = sync(app, &file, &["--dest-namespace", "nowhere"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains(r#"namespaces "nowhere" not found"#), "{all}");

    let out = sync(
        app,
        &file,
        &[
            "--dest-namespace",
            "nowhere",
            "--sync-option",
            "CreateNamespace=true",
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("Namespace"), "{}", out.stdout);
}

/// pkg/kubelet/kuberuntime/kuberuntime_container.go (`CreateContainerConfigError`) and
/// pkg/kubelet/kubelet_pods.go (`couldn't find key K in Secret ns/name`): the pod stays Pending,
/// Argo CD waits, the run ends at --timeout as Running (exit 4), naming the reason.
#[test]
#[ignore = "needs docker"]
fn a_missing_secret_key_hangs_the_sync_instead_of_failing_it() {
    common::ensure_test_image();
    let yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: creds}}\nstringData: {{user: u}}\n---\n{}",
        statefulset(
            "web",
            IMAGE,
            "          env:\n            - name: PASSWORD\n              valueFrom: {secretKeyRef: {name: creds, key: password}}\n"
        )
    ) + LATER_WAVE;
    let (_d, file) = source(&yaml, "{}");
    let out = sync("trust-key", &file, &["--timeout", "20s"]);
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("would still be Running"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "CreateContainerConfigError: couldn't find key password in Secret default/creds"
        ),
        "{}",
        out.stderr
    );
}

/// pkg/kubelet/images/types.go (`ImagePullBackOff`) and pkg/kubelet/images/image_manager.go
/// (`Back-off pulling image "x"`). Before the operation syncsim stops (exit 3) and says how to
/// fix it; `--allow-missing-images` rehearses the hang.
#[test]
#[ignore = "needs docker"]
fn an_image_nobody_can_pull_stops_before_the_sync_or_hangs_it() {
    common::ensure_test_image();
    let image = "syncsim-test/does-not-exist:1";
    let yaml = statefulset("web", image, "          imagePullPolicy: Never\n") + LATER_WAVE;
    let (_d, file) = source(&yaml, "{}");
    let out = sync("trust-img", &file, &["--timeout", "20s"]);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("can be neither found nor pulled")
            && out.stderr.contains(image)
            && out.stderr.contains("--allow-missing-images"),
        "{}",
        out.stderr
    );

    let out = sync(
        "trust-img",
        &file,
        &["--timeout", "15s", "--allow-missing-images"],
    );
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("ErrImageNeverPull"), "{}", out.stderr);
}

/// pkg/apis/apps/validation/validation.go `ValidateStatefulSetUpdate`: a changed serviceName is
/// forbidden on re-sync; `--force` deletes and re-creates the StatefulSet.
#[test]
#[ignore = "needs docker"]
fn an_immutable_statefulset_change_fails_the_resync_unless_forced() {
    common::ensure_test_image();
    let app = "trust-sts";
    down(app);
    let sts = |svc: &str| {
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: db}}\nspec:\n  serviceName: {svc}\n  selector: {{matchLabels: {{app: db}}}}\n  template:\n    metadata: {{labels: {{app: db}}}}\n    spec:\n      containers:\n        - name: main\n          image: {IMAGE}\n          command: [sh, -c, 'sleep 3600']\n"
        )
    };
    let (dir, file) = source(&sts("db"), "{}");
    let out = sync(app, &file, &["--keep", "--timeout", "60s"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    std::fs::write(dir.path().join("app.yaml"), sts("db-headless")).unwrap();
    let out = sync(app, &file, &["--keep", "--timeout", "60s"]);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert_eq!(out.code, 1, "{all}");
    assert!(
        all.contains("Forbidden: updates to statefulset spec for fields other than"),
        "{all}"
    );
    let out = sync(app, &file, &["--force", "--timeout", "60s"]);
    down(app);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
}

/// pkg/kubelet/kuberuntime/kuberuntime_container.go (`CreateContainerConfigError`): the pod waits
/// for the missing key instead of failing, and starts once a re-sync adds it.
#[test]
#[ignore = "needs docker"]
fn a_pod_waiting_for_a_missing_key_starts_once_the_resync_adds_it() {
    common::ensure_test_image();
    let app = "trust-recover";
    down(app);
    let yaml = |data: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: creds}}\nstringData: {data}\n---\n{}",
            statefulset(
                "web",
                IMAGE,
                "          env:\n            - name: PASSWORD\n              valueFrom: {secretKeyRef: {name: creds, key: password}}\n"
            )
        ) + LATER_WAVE
    };
    let (dir, file) = source(&yaml("{user: u}"), "{}");
    let out = sync(app, &file, &["--keep", "--timeout", "5s"]);
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("CreateContainerConfigError"),
        "{}",
        out.stderr
    );
    std::fs::write(dir.path().join("app.yaml"), yaml("{user: u, password: p}")).unwrap();
    let out = sync(app, &file, &["--keep", "--timeout", "60s"]);
    down(app);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
}

/// Kubernetes' pkg/controller/deployment/progress.go (`ReplicaSet "…" has timed out
/// progressing.`, counted from the last progress) and gitops-engine pkg/health/health_deployment.go
/// (`Deployment "web" exceeded its progress deadline` is Degraded). Argo CD does not wait for
/// ever for a Deployment that stopped progressing, so neither does syncsim: `--timeout` is
/// extended to its deadline, the sync fails and the SyncFail hook runs.
#[test]
#[ignore = "needs docker"]
fn a_deployment_past_its_progress_deadline_fails_the_sync_even_after_the_timeout() {
    common::ensure_test_image();
    let never_ready = "          readinessProbe: {exec: {command: ['false']}, periodSeconds: 1}\n";
    let yaml = deployment("web", IMAGE, never_ready).replace(
        "spec:\n  selector",
        "spec:\n  progressDeadlineSeconds: 4\n  selector",
    ) + LATER_WAVE
        + &format!(
            "---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: notify\n  annotations: {{argocd.argoproj.io/hook: SyncFail}}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: main\n          image: {IMAGE}\n          command: [sh, -c, 'echo sync failed']\n"
        );
    let (_d, file) = source(&yaml, "{}");
    let out = sync("trust-deadline", &file, &["--timeout", "1s"]);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert_eq!(out.code, 1, "{all}");
    assert!(
        all.contains("Deployment \"web\" exceeded its progress deadline"),
        "{all}"
    );
    assert!(all.contains("--timeout passed"), "{all}");
    assert!(
        all.lines()
            .any(|l| l.contains("notify") && l.contains("SyncFail") && l.contains("Succeeded")),
        "the SyncFail hook ran: {all}"
    );
}

/// Each immutable field of the issue through the CLI, on the re-sync of a kept environment; the
/// wording is the API server's (pkg/apis/apps/validation/validation.go
/// `ValidateDeploymentUpdate`, pkg/apis/core/validation/validation.go
/// `validateUpgradeDowngradeClusterIPs`, `ValidatePersistentVolumeClaimUpdate`,
/// `ValidateConfigMapUpdate`; tests/apiserver.rs pins the whole messages).
#[test_case::test_case("deployment-selector",
    &deployment("web", IMAGE, ""),
    &deployment("web", IMAGE, "").replace("{app: web}", "{app: web2}"),
    "spec.selector: Invalid value"; "Deployment selector")]
#[test_case::test_case("service-ip",
    "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 80}]\n",
    "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  clusterIP: None\n  ports: [{port: 80}]\n",
    "may not change once set"; "Service clusterIP")]
#[test_case::test_case("pvc-class",
    "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec:\n  accessModes: [ReadWriteOnce]\n  storageClassName: standard\n  resources: {requests: {storage: 1Gi}}\n",
    "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec:\n  accessModes: [ReadWriteOnce]\n  storageClassName: fast\n  resources: {requests: {storage: 1Gi}}\n",
    "spec is immutable after creation"; "PVC spec")]
#[test_case::test_case("configmap-immutable",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\nimmutable: true\ndata: {k: a}\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\nimmutable: true\ndata: {k: b}\n",
    "field is immutable when `immutable` is set"; "immutable ConfigMap")]
#[ignore = "needs docker"]
fn an_immutable_field_fails_the_resync(name: &str, before: &str, after: &str, message: &str) {
    common::ensure_test_image();
    let app = format!("trust-imm-{name}");
    down(&app);
    let classes = "{storageClasses: [{name: standard, default: true, volumeBindingMode: Immediate}, {name: fast, volumeBindingMode: Immediate}]}";
    let (dir, file) = source(before, classes);
    let out = sync(&app, &file, &["--keep", "--timeout", "60s"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    std::fs::write(dir.path().join("app.yaml"), after).unwrap();
    let out = sync(&app, &file, &["--keep", "--timeout", "60s"]);
    down(&app);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert_eq!(out.code, 1, "{all}");
    assert!(all.contains(message), "{all}");
    assert!(all.contains("one or more objects failed to apply"), "{all}");
}

/// pkg/kubelet/images/image_manager.go (`ErrImageNeverPull`) with the kubelet's image back-off
/// (10 s doubling, pkg/kubelet/kubelet.go): the kubelet keeps looking for a missing image, so a
/// pod waiting for one starts once it arrives (here: `docker tag` during the run).
#[test]
#[ignore = "needs docker"]
fn a_pod_waiting_for_an_image_starts_once_it_arrives() {
    common::ensure_test_image();
    let late = "syncsim-test/arrives-late:1";
    let docker = |args: &[&str]| Command::new("docker").args(args).output().unwrap();
    docker(&["rmi", late]);
    let yaml = statefulset("web", late, "          imagePullPolicy: Never\n") + LATER_WAVE;
    let (_d, file) = source(&yaml, "{}");
    let state = std::env::temp_dir().join("syncsim-trust-state-trust-late");
    let child = Command::new(env!("CARGO_BIN_EXE_syncsim"))
        .env("SYNCSIM_STATE_DIR", &state)
        .arg("sync")
        .arg(&file)
        .args([
            "--app",
            "trust-late",
            "--allow-missing-images",
            "--timeout",
            "90s",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run syncsim");
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(docker(&["tag", IMAGE, late]).status.success());
    let out = child.wait_with_output().unwrap();
    docker(&["rmi", late]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("ErrImageNeverPull"), "it waited first: {all}");
}

/// Manifests are read as YAML 1.1, as Argo CD's repo server and kubectl read them
/// (sigs.k8s.io/yaml/yaml.go `yamlToJSON` over gopkg.in/yaml.v2/resolve.go `resolve`):
/// `defaultMode: 0755` is the octal number 493, so a script mounted from a ConfigMap runs (under
/// YAML 1.2 it was a string and the pod spec was refused), and `enabled: yes` is a boolean, which
/// a ConfigMap's string data refuses (under YAML 1.2 it was a string and the sync went green).
/// The refusal is encoding/json's `UnmarshalTypeError` as the API server wraps it
/// (apiserver/pkg/endpoints/handlers/rest.go `transformDecodeError`).
#[test]
#[ignore = "needs docker"]
fn yaml_1_1_scalars_reach_the_cluster_as_argo_cd_reads_them() {
    common::ensure_test_image();
    let yaml = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: scripts}}\ndata:\n  run.sh: |\n    #!/bin/sh\n    \
         echo script-ran\n  debug: 'no'\n---\n\
         apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations: {{argocd.argoproj.io/hook: PostSync}}\n\
         spec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      \
         volumes:\n        - name: scripts\n          configMap: {{name: scripts, defaultMode: 0755}}\n      \
         containers:\n        - name: main\n          image: {IMAGE}\n          \
         command: [sh, -c, 'test \"$(stat -L -c %a /scripts/run.sh)\" = 755 && /scripts/run.sh']\n          \
         volumeMounts:\n            - {{name: scripts, mountPath: /scripts}}\n"
    );
    let (_d, file) = source(&yaml, "{}");
    let out = sync("trust-yaml11", &file, &["--timeout", "60s"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);

    let refused = yaml.replace("  debug: 'no'\n", "  debug: no\n");
    assert_ne!(refused, yaml);
    let (_d, file) = source(&refused, "{}");
    let out = sync("trust-yaml11", &file, &["--timeout", "60s"]);
    down("trust-yaml11");
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains(
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal \
             bool into Go struct field ConfigMap.data of type string"
        ),
        "{all}"
    );
}
