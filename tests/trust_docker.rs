//! Issue #9 through the CLI: a green rehearsal means a green Argo CD sync. Each test pins one
//! bullet of the issue's "Why" with the wording of the upstream file named beside it.
//! Run with `cargo test --test trust_docker -- --include-ignored` (needs Docker and the busybox
//! test image of `compose/testimages/build.sh`).
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const IMAGE: &str = "syncsim-test/busybox:1";

/// A source folder with `app.yaml` and a `syncsim.yaml` describing the cluster.
fn source(app_yaml: &str, cluster: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.yaml");
    std::fs::write(&file, app_yaml).unwrap();
    std::fs::write(
        dir.path().join("syncsim.yaml"),
        format!("apiVersion: syncsim.dev/v1alpha1\nkind: Config\ncluster: {cluster}\n"),
    )
    .unwrap();
    (dir, file)
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn sync(app: &str, file: &Path, extra: &[&str]) -> Out {
    let state = std::env::temp_dir().join(format!("syncsim-trust-state-{app}"));
    let out = Command::new(env!("CARGO_BIN_EXE_syncsim"))
        .env("SYNCSIM_STATE_DIR", &state)
        .arg("sync")
        .arg(file)
        .args(["--app", app, "--job-backoff", "200ms"])
        .args(extra)
        .output()
        .expect("run syncsim");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Removes everything of `app`, PersistentVolumeClaim volumes included (`down` keeps them by
/// default, like a cluster keeps claims' data).
fn down(app: &str) {
    let state = std::env::temp_dir().join(format!("syncsim-trust-state-{app}"));
    let _ = Command::new(env!("CARGO_BIN_EXE_syncsim"))
        .env("SYNCSIM_STATE_DIR", &state)
        .args(["down", "--app", app, "--volumes"])
        .output();
}

/// A ConfigMap in wave 1: the Deployment's wave is not the last, so Argo CD waits for its
/// health (the overall last wave is never waited for).
const LATER_WAVE: &str = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after\n  annotations: {argocd.argoproj.io/sync-wave: \"1\"}\ndata: {a: b}\n";

fn deployment(name: &str, image: &str, extra_container: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers:\n        - name: main\n          image: {image}\n          command: [sh, -c, 'sleep 3600']\n{extra_container}"
    )
}

/// A StatefulSet: unlike a Deployment it has no progress deadline, so a pod that cannot start
/// makes Argo CD wait for ever.
fn statefulset(name: &str, image: &str, extra_container: &str) -> String {
    deployment(name, image, extra_container).replace(
        "kind: Deployment\nmetadata: {name: NAME}\nspec:\n"
            .replace("NAME", name)
            .as_str(),
        &format!("kind: StatefulSet\nmetadata: {{name: {name}}}\nspec:\n  serviceName: {name}\n"),
    )
}

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

/// pkg/kubelet/kuberuntime/security_context_others.go (`verifyRunAsNonRoot`): an image without
/// a user runs as root, so `runAsNonRoot: true` keeps the pod in `CreateContainerConfigError`
/// and the Deployment fails at its progress deadline. With a `runAsUser` the check passes, and
/// a pod-level `runAsUser: 0` is refused with the kubelet's other message.
#[test]
#[ignore = "needs docker"]
fn run_as_non_root_on_an_image_that_runs_as_root_fails_the_sync() {
    common::ensure_test_image();
    let with = |pod_sc: &str| {
        deployment("web", IMAGE, "")
            .replace(
                "spec:\n  selector",
                "spec:\n  progressDeadlineSeconds: 4\n  selector",
            )
            .replace(
                "    spec:\n      containers:",
                &format!("    spec:\n      securityContext: {pod_sc}\n      containers:"),
            )
            + LATER_WAVE
    };
    let fails = |pod_sc: &str, message: &str| {
        let (_d, file) = source(&with(pod_sc), "{}");
        let out = sync("trust-nonroot", &file, &["--timeout", "1s"]);
        let all = format!("{}{}", out.stdout, out.stderr);
        assert_eq!(out.code, 1, "{all}");
        assert!(
            all.contains("Deployment \"web\" exceeded its progress deadline"),
            "{all}"
        );
        assert!(all.contains(message), "{all}");
    };
    fails(
        "{runAsNonRoot: true}",
        "CreateContainerConfigError: container has runAsNonRoot and image will run as root (pod: \"web-",
    );
    fails(
        "{runAsNonRoot: true, runAsUser: 0}",
        "CreateContainerConfigError: container's runAsUser breaks non-root policy (pod: \"web-",
    );
    let (_d, file) = source(&with("{runAsNonRoot: true, runAsUser: 1000}"), "{}");
    let out = sync("trust-nonroot", &file, &["--timeout", "60s"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
}

/// A pod's security context through the CLI, checked from inside its container: the user and
/// group (pkg/securitycontext/util.go), `fsGroup` and `supplementalGroups` as supplementary
/// groups (pkg/kubelet/kuberuntime/security_context.go), an emptyDir that starts empty and
/// writable by anyone (pkg/volume/emptydir/empty_dir.go), a Secret of mode 0400 readable
/// through the `fsGroup` (pkg/volume/volume_linux.go `SetVolumeOwnership`), and a root-owned
/// path that the non-root user cannot write. The hook fails the sync if any check fails.
#[test]
#[ignore = "needs docker"]
fn a_pods_security_context_applies_inside_its_containers() {
    common::ensure_test_image();
    let checks = [
        "test \"$(id -u)\" = 1000",
        "test \"$(id -g)\" = 3000",
        "id -G | tr \" \" \"\\n\" | grep -qx 2000",
        "id -G | tr \" \" \"\\n\" | grep -qx 4000",
        "test -z \"$(ls -A /var)\"",
        "touch /var/written",
        "test \"$(stat -c %g /var)\" = 2000",
        "grep -qx s3cret /secret/token",
        "! touch /etc/forbidden",
        "echo all-checks-passed",
    ]
    // How far it got shows in the hook's log.
    .join(" && echo passed && ");
    let yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: creds}}\nstringData: {{token: s3cret}}\n---\n\
         apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: check\n  annotations: {{argocd.argoproj.io/hook: PostSync}}\n\
         spec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      \
         securityContext: {{runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000]}}\n      \
         volumes:\n        - {{name: scratch, emptyDir: {{}}}}\n        - {{name: creds, secret: {{secretName: creds, defaultMode: 256}}}}\n      \
         containers:\n        - name: main\n          image: {IMAGE}\n          command: [sh, -c, '{checks}']\n          \
         volumeMounts:\n            - {{name: scratch, mountPath: /var}}\n            - {{name: creds, mountPath: /secret}}\n"
    );
    let (_d, file) = source(&yaml, "{}");
    let out = sync("trust-secctx", &file, &["--timeout", "60s"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);

    // A group alone keeps the image's user (root here), as containerd composes it.
    let yaml = yaml
        .replace("runAsUser: 1000, ", "")
        .replace("test \"$(id -u)\" = 1000", "test \"$(id -u)\" = 0")
        .replace(" && ! touch /etc/forbidden", "");
    assert!(yaml.contains("= 0 &&") && !yaml.contains("forbidden"));
    let (_d, file) = source(&yaml, "{}");
    let out = sync("trust-secctx", &file, &["--timeout", "60s"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
}

/// `readOnlyRootFilesystem` (pkg/kubelet/kuberuntime/security_context.go sets the runtime's
/// `ReadonlyRootfs`): a write outside the volumes fails, even as root; an emptyDir stays
/// writable (for a non-root user too), and a ConfigMap volume still holds its files.
#[test]
#[ignore = "needs docker"]
fn read_only_root_filesystem_refuses_writes_outside_volumes() {
    common::ensure_test_image();
    let checks = |who: &str| {
        [
            format!("test \"$(id -u)\" = {who}"),
            "! touch /written 2>/dev/null".into(),
            format!("touch /scratch/{who}"),
            "grep -qx v /etc/app/k".into(),
            "echo all-checks-passed".into(),
        ]
        .join(" && echo passed && ")
    };
    let container = |name: &str, user: &str| {
        format!(
            "        - name: {name}\n          image: {IMAGE}\n          command: [sh, -c, '{}']\n          \
             securityContext: {{readOnlyRootFilesystem: true, runAsUser: {user}}}\n          \
             volumeMounts:\n            - {{name: scratch, mountPath: /scratch}}\n            - {{name: app, mountPath: /etc/app}}\n",
            checks(user)
        )
    };
    let yaml = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{k: v}}\n---\n\
         apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: check\n  annotations: {{argocd.argoproj.io/hook: PostSync}}\n\
         spec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      \
         volumes:\n        - {{name: scratch, emptyDir: {{}}}}\n        - {{name: app, configMap: {{name: app}}}}\n      \
         containers:\n{}{}",
        container("root", "0"),
        container("user", "1000")
    );
    let (_d, file) = source(&yaml, "{}");
    let out = sync("trust-readonly", &file, &["--timeout", "60s"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);

    // Without the setting the same write succeeds, so the check above can fail.
    let yaml = yaml.replace(
        "readOnlyRootFilesystem: true",
        "readOnlyRootFilesystem: false",
    );
    let (_d, file) = source(&yaml, "{}");
    let out = sync("trust-readonly", &file, &["--timeout", "60s"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
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

/// A container's `capabilities`, `allowPrivilegeEscalation` and `seccompProfile` apply inside
/// it (containerd internal/cri/opts/spec_linux_opts.go `WithCapabilities`;
/// pkg/securitycontext/util.go `AddNoNewPrivileges`; pkg/kubelet/kuberuntime/security_context_linux.go
/// `getSeccompProfile`): with every capability dropped but CHOWN, the process holds exactly
/// CHOWN (bit 0 of CapEff), `no_new_privs` and no seccomp filter (no profile asked for); with
/// CHOWN dropped too, a hook that changes a file's owner as root fails, and so does the sync
/// (it was green before: the default set applied), while `RuntimeDefault` gives the filter.
#[test]
#[ignore = "needs docker"]
fn capabilities_and_no_new_privileges_apply_inside_a_container() {
    common::ensure_test_image();
    let checks = [
        "grep CapEff /proc/self/status | grep -q 0000000000000001",
        "grep NoNewPrivs /proc/self/status | grep -q 1",
        "grep ^Seccomp: /proc/self/status | grep -q [[:space:]]0$",
        "touch /tmp/owned",
        "chown 65534 /tmp/owned",
        "echo all-checks-passed",
    ]
    .join(" && echo passed && ");
    let yaml = format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: check\n  annotations: {{argocd.argoproj.io/hook: PostSync}}\n\
         spec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      \
         containers:\n        - name: main\n          image: {IMAGE}\n          command: [sh, -c, '{checks}']\n          \
         securityContext:\n            allowPrivilegeEscalation: false\n            capabilities: {{drop: [ALL], add: [CHOWN]}}\n"
    );
    let (_d, file) = source(&yaml, "{}");
    let out = sync("trust-caps", &file, &["--timeout", "60s"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    // On a cluster whose kubelet has seccompDefault on, no profile means the runtime's filter.
    let (_d, file) = source(
        &yaml.replace("[[:space:]]0$", "[[:space:]]2$"),
        "{seccompDefault: true}",
    );
    let out = sync("trust-caps", &file, &["--timeout", "60s"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);

    // Without CHOWN, and with the runtime's seccomp filter (mode 2) asked for by the pod.
    let without_chown = yaml
        .replace(", add: [CHOWN]", "")
        .replace(
            "grep CapEff /proc/self/status | grep -q 0000000000000001",
            "grep CapEff /proc/self/status | grep -q 0000000000000000",
        )
        .replace("[[:space:]]0$", "[[:space:]]2$")
        .replace(
            "      restartPolicy: Never\n",
            "      restartPolicy: Never\n      securityContext: {seccompProfile: {type: RuntimeDefault}}\n",
        );
    assert!(!without_chown.contains("CHOWN]") && without_chown.contains("RuntimeDefault"));
    let (_d, file) = source(&without_chown, "{}");
    let out = sync("trust-caps", &file, &["--timeout", "60s"]);
    down("trust-caps");
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("Operation not permitted"), "{all}");
}

/// Service links (pkg/kubelet/envvars/envvars.go `FromServices`, pkg/kubelet/kubelet_pods.go
/// `makeEnvironmentVariables`): a pod started after Service `cache` has `CACHE_SERVICE_HOST`,
/// `CACHE_SERVICE_PORT` and the Docker-link `CACHE_PORT=tcp://…:6379`, and the host reaches the
/// Service. An image that reads `CACHE_PORT` as a port number therefore fails on a cluster,
/// and now here (it was green before); `enableServiceLinks: false` leaves them out.
#[test]
#[ignore = "needs docker"]
fn service_links_reach_the_service_and_collide_with_port_variables() {
    common::ensure_test_image();
    let cache = format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: cache}}\nspec:\n  selector: {{app: cache}}\n  ports: [{{port: 6379}}]\n---\n{}",
        deployment("cache", IMAGE, "").replace(
            "'sleep 3600'",
            "'echo ok > /tmp/index.html && httpd -f -p 6379 -h /tmp'"
        )
    );
    let hook = |script: &str, extra: &str| {
        format!(
            "{cache}---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: client\n  annotations: {{argocd.argoproj.io/hook: PostSync}}\n\
             spec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n{extra}      \
             containers:\n        - name: main\n          image: {IMAGE}\n          command: [sh, -c, '{script}']\n"
        )
    };
    let uses_links = hook(
        "test \"$CACHE_SERVICE_PORT\" = 6379 && test \"$CACHE_PORT\" = tcp://cache.default.svc.cluster.local:6379 \
         && wget -q -O- http://$CACHE_SERVICE_HOST:$CACHE_SERVICE_PORT/ | grep -qx ok",
        "",
    );
    let (_d, file) = source(&uses_links, "{}");
    let out = sync("trust-links", &file, &["--timeout", "90s"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);

    // An app reading CACHE_PORT as its port number, defaulting to 6379.
    let reads_port = "port=${CACHE_PORT:-6379} && test \"$port\" -eq \"$port\" && echo port=$port";
    let (_d, file) = source(&hook(reads_port, ""), "{}");
    let out = sync("trust-links", &file, &["--timeout", "90s"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let (_d, file) = source(&hook(reads_port, "      enableServiceLinks: false\n"), "{}");
    let out = sync("trust-links", &file, &["--timeout", "90s"]);
    down("trust-links");
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
}

/// `hostAliases` (pkg/kubelet/kubelet_pods.go `hostsEntriesFromHostAliases`) are in every
/// container's `/etc/hosts`, a pod of several containers included (they share its network
/// namespace and its hosts file). A name only an alias resolves failed here before.
#[test]
#[ignore = "needs docker"]
fn host_aliases_resolve_in_every_container_of_the_pod() {
    common::ensure_test_image();
    let check = "grep -q \"^10.1.2.3[[:space:]].*legacy-db.internal\" /etc/hosts && ping -c1 -W1 localhost-alias >/dev/null";
    let yaml = format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: aliases\n  annotations: {{argocd.argoproj.io/hook: PostSync}}\n\
         spec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      \
         hostAliases:\n        - {{ip: 10.1.2.3, hostnames: [legacy-db.internal]}}\n        - {{ip: 127.0.0.1, hostnames: [localhost-alias]}}\n      \
         containers:\n        - name: main\n          image: {IMAGE}\n          command: [sh, -c, '{check}']\n        \
         - name: second\n          image: {IMAGE}\n          command: [sh, -c, '{check}']\n"
    );
    let (_d, file) = source(&yaml, "{}");
    let out = sync("trust-hosts", &file, &["--timeout", "60s"]);
    down("trust-hosts");
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
}

/// `lifecycle.postStart` runs right after its container starts (pkg/kubelet/kuberuntime/
/// kuberuntime_container.go `startContainer`): a readiness probe waiting for the file a
/// postStart command writes passes (the Deployment never became ready before), and a postStart
/// command that fails kills its container (`FailedPostStartHook`), so a hook whose own command
/// succeeds fails, and the sync with it (green before).
#[test]
#[ignore = "needs docker"]
fn post_start_handlers_run_and_their_failure_kills_the_container() {
    common::ensure_test_image();
    let lifecycle = "          lifecycle:\n            postStart:\n              exec: {command: [sh, -c, 'sleep 1 && touch /tmp/ready']}\n          \
                     readinessProbe:\n            exec: {command: [test, -f, /tmp/ready]}\n            periodSeconds: 1\n";
    let yaml = format!(
        "{}{LATER_WAVE}",
        deployment("web", IMAGE, lifecycle).replace(
            "spec:\n  selector",
            "spec:\n  progressDeadlineSeconds: 30\n  selector"
        )
    );
    let (_d, file) = source(&yaml, "{}");
    let out = sync("trust-poststart", &file, &["--timeout", "60s"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);

    let hook = format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: check\n  annotations: {{argocd.argoproj.io/hook: PostSync}}\n\
         spec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      \
         containers:\n        - name: main\n          image: {IMAGE}\n          command: [sh, -c, 'sleep 2 && echo done']\n          \
         lifecycle:\n            postStart:\n              exec: {{command: [sh, -c, 'exit 3']}}\n"
    );
    let (_d, file) = source(&hook, "{}");
    let out = sync("trust-poststart", &file, &["--timeout", "60s"]);
    down("trust-poststart");
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("FailedPostStartHook"), "{all}");
}

/// A failing init container is started again after a back-off (pkg/kubelet/kuberuntime/
/// kuberuntime_manager.go `computeInitContainerActions`, `doBackOff`), so an init container
/// that waits for something not there yet holds its pod back until it is: the Deployment
/// becomes available and the sync succeeds. Before, the pod stayed Pending for ever and the
/// sync failed at the progress deadline.
#[test]
#[ignore = "needs docker"]
fn a_failing_init_container_is_retried_until_it_succeeds() {
    common::ensure_test_image();
    let ready_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3;
    let init = format!(
        "      initContainers:\n        - name: wait\n          image: {IMAGE}\n          \
         command: [sh, -c, 'test $(date +%s) -ge {ready_at}']\n"
    );
    let yaml = format!(
        "{}{LATER_WAVE}",
        deployment("web", IMAGE, "")
            .replace(
                "spec:\n  selector",
                "spec:\n  progressDeadlineSeconds: 40\n  selector"
            )
            .replace("      containers:\n", &format!("{init}      containers:\n"))
    );
    assert!(yaml.contains("initContainers"));
    let (_d, file) = source(&yaml, "{}");
    let out = sync("trust-init", &file, &["--timeout", "60s"]);
    down("trust-init");
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("Init:CrashLoopBackOff"),
        "{}",
        out.stderr
    );
}

/// A `downwardAPI` volume (pkg/volume/downwardapi/downwardapi.go `CollectData`,
/// pkg/fieldpath/fieldpath.go `FormatMap`) holds the pod's name and its labels as
/// `key="value"` lines; such a pod was refused as an unsupported volume before.
#[test]
#[ignore = "needs docker"]
fn a_downward_api_volume_holds_the_pods_name_and_labels() {
    common::ensure_test_image();
    let check = "grep -qx app=\\\"checker\\\" /etc/podinfo/labels && case $(cat /etc/podinfo/name) in check-*) ;; *) exit 1;; esac && echo $(cat /etc/podinfo/name)";
    let yaml = format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: check\n  annotations: {{argocd.argoproj.io/hook: PostSync}}\n\
         spec:\n  backoffLimit: 0\n  template:\n    metadata: {{labels: {{app: checker}}}}\n    spec:\n      restartPolicy: Never\n      \
         volumes:\n        - name: podinfo\n          downwardAPI:\n            items:\n              \
         - {{path: name, fieldRef: {{fieldPath: metadata.name}}}}\n              - {{path: labels, fieldRef: {{fieldPath: metadata.labels}}}}\n      \
         containers:\n        - name: main\n          image: {IMAGE}\n          command: [sh, -c, '{check}']\n          \
         volumeMounts: [{{name: podinfo, mountPath: /etc/podinfo}}]\n"
    );
    let (_d, file) = source(&yaml, "{}");
    let out = sync("trust-downward", &file, &["--timeout", "60s"]);
    down("trust-downward");
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
}

/// Pod sysctls (pkg/kubelet/sysctl/allowlist.go `Admit`, safe_sysctls.go; pkg/kubelet/kubelet.go
/// `rejectPod`): a safe one is set in the pod; an unsafe one the node does not allow gets the
/// pod rejected (`SysctlForbidden`), which fails a hook and its sync (green before: Docker
/// applied it); allowed by the cluster description's `allowedUnsafeSysctls` (the kubelet's
/// `--allowed-unsafe-sysctls`), it is set.
#[test]
#[ignore = "needs docker"]
fn unsafe_sysctls_need_the_nodes_allowlist_and_safe_ones_apply() {
    common::ensure_test_image();
    let job = |sysctls: &str, check: &str| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: tuned\n  annotations: {{argocd.argoproj.io/hook: PostSync}}\n\
             spec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      \
             securityContext: {{sysctls: {sysctls}}}\n      \
             containers:\n        - name: main\n          image: {IMAGE}\n          command: [sh, -c, '{check}']\n"
        )
    };
    let safe = job(
        "[{name: net.ipv4.tcp_keepalive_time, value: '600'}]",
        "test $(cat /proc/sys/net/ipv4/tcp_keepalive_time) = 600",
    );
    let (_d, file) = source(&safe, "{}");
    let out = sync("trust-sysctl", &file, &["--timeout", "60s"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);

    let unsafe_one = job(
        "[{name: net.core.somaxconn, value: '1024'}]",
        "test $(cat /proc/sys/net/core/somaxconn) = 1024",
    );
    let (_d, file) = source(&unsafe_one, "{}");
    let out = sync("trust-sysctl", &file, &["--timeout", "60s"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("Pod was rejected: forbidden sysctl: \"net.core.somaxconn\" not allowlisted"),
        "{all}"
    );

    let (_d, file) = source(&unsafe_one, "{allowedUnsafeSysctls: [net.core.*]}");
    let out = sync("trust-sysctl", &file, &["--timeout", "60s"]);
    down("trust-sysctl");
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
}

/// The ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount/admission.go)
/// refuses a pod whose ServiceAccount does not exist, and the controller retries: a hook Job
/// whose ServiceAccount comes in no wave never runs, so the sync does not finish (it ran and
/// went green before); with the ServiceAccount in the source, or declared in the cluster
/// description as existing, it runs.
#[test]
#[ignore = "needs docker"]
fn a_pod_waits_for_its_service_account() {
    common::ensure_test_image();
    let job = format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations: {{argocd.argoproj.io/hook: PostSync}}\n\
         spec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      serviceAccountName: migrator\n      \
         containers:\n        - name: main\n          image: {IMAGE}\n          command: [sh, -c, 'echo migrated']\n"
    );
    let (_d, file) = source(&job, "{}");
    let out = sync("trust-sa", &file, &["--timeout", "8s"]);
    assert_ne!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("pods \"migrate-\" is forbidden: error looking up service account default/migrator: serviceaccount \"migrator\" not found"),
        "{all}"
    );

    let with_sa =
        format!("apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: migrator}}\n---\n{job}");
    let (_d, file) = source(&with_sa, "{}");
    let out = sync("trust-sa", &file, &["--timeout", "60s"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);

    let (_d, file) = source(&job, "{serviceAccounts: [default/migrator]}");
    let out = sync("trust-sa", &file, &["--timeout", "60s"]);
    down("trust-sa");
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
}
