//! The simulated kubelet is as strict as a real one (issue #9's first priority: a green
//! rehearsal means a green Argo CD sync): a pod's security context, service links, host
//! aliases, lifecycle handlers, init container retries, downward API volumes, sysctls and
//! ServiceAccount. Each test names the Kubernetes or containerd source it reproduces and fails
//! without the behaviour it pins.
//! Run with `cargo test --test kubelet_docker -- --include-ignored` (needs Docker and the
//! busybox test image of `compose/testimages/build.sh`).
mod common;

#[path = "common/rehearse.rs"]
mod rehearse;

use rehearse::*;

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

/// A pod's resolver (pkg/kubelet/network/dns/dns.go `GetPodDNS`: search
/// `<ns>.svc.cluster.local svc.cluster.local cluster.local`, `ndots:5`): a bare Service name
/// is the Service of the pod's own namespace, `svc.other-namespace` the other's. Two
/// namespaces each with a Service `cache` answer a hook in `team-a` with team-a's by the bare
/// name (before, the shared network answered with either at random), and a bare name that only
/// another namespace has does not resolve, failing the hook (it resolved before: green here,
/// red on the cluster).
#[test]
#[ignore = "needs docker"]
fn bare_service_names_resolve_in_the_pods_namespace_only() {
    common::ensure_test_image();
    let cache = |ns: &str, answer: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: cache, namespace: {ns}}}\nspec:\n  selector: {{app: cache}}\n  ports: [{{port: 6379}}]\n---\n{}---\n",
            deployment("cache", IMAGE, "")
                .replace("metadata: {name: cache}", &format!("metadata: {{name: cache, namespace: {ns}}}"))
                .replace("'sleep 3600'", &format!("'echo {answer} > /tmp/index.html && httpd -f -p 6379 -h /tmp'"))
        )
    };
    let only_b = "apiVersion: v1\nkind: Service\nmetadata: {name: only-b, namespace: team-b}\nspec:\n  selector: {app: cache}\n  ports: [{port: 6379}]\n---\n";
    let hook = |script: &str| {
        format!(
            "{}{}{only_b}apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: client\n  namespace: team-a\n  annotations: {{argocd.argoproj.io/hook: PostSync}}\n\
             spec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      \
             containers:\n        - name: main\n          image: {IMAGE}\n          command: [sh, -c, '{script}']\n",
            cache("team-a", "a"),
            cache("team-b", "b"),
        )
    };
    let cluster = "{namespaces: [team-a, team-b]}";
    // Several reads: a shared name would answer b about half the time.
    let own = hook(
        "for i in 1 2 3 4 5 6; do wget -q -O- http://cache:6379/ | grep -qx a || exit 1; done \
         && wget -q -O- http://cache.team-b:6379/ | grep -qx b \
         && wget -q -O- http://only-b.team-b.svc.cluster.local:6379/ | grep -qx b",
    );
    let (_d, file) = source(&own, cluster);
    let out = sync("kubelet-dns", &file, &["--timeout", "90s"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);

    let (_d, file) = source(&hook("wget -q -O- http://only-b:6379/"), cluster);
    let out = sync("kubelet-dns", &file, &["--timeout", "90s"]);
    down("kubelet-dns");
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
}
