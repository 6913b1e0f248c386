//! The simulated API server refuses what a real one refuses, in its words (issue #9).
//!
//! Each test names the upstream file its expected text is copied from:
//! * Kubernetes: staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go (`NewNotFound`,
//!   `NewInvalid`, `NewGenericServerResponse`), staging/src/k8s.io/apimachinery/pkg/util/validation/field/errors.go
//!   (`ErrorBody`), staging/src/k8s.io/apimachinery/pkg/runtime/error.go (`strictDecodingError`),
//!   staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go (`transformDecodeError`),
//!   staging/src/k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle/admission.go,
//!   pkg/apis/apps/validation/validation.go, pkg/apis/core/validation/validation.go,
//!   pkg/apis/batch/validation/validation.go;
//! * gitops-engine (argo-cd repository): gitops-engine/pkg/utils/kube/kube.go
//!   (`ServerResourceForGroupVersionKind`), gitops-engine/pkg/sync/sync_context.go (`Sync`,
//!   `getSyncTasks`, `applyObject`);
//! * Argo CD: util/argo/argo.go (`AugmentSyncMsg`).
use serde_json::{json, Value};
use std::path::Path;
use syncsim::{
    apiserver::{
        check_all, check_object, check_update, invalid_tasks_message, update_action,
        ClusterDescription, Discovery, KindCheck, KubeVersion, Namespaces, RawCluster, Reason,
        Stage, UpdateAction, UpdateOptions,
    },
    build::config,
    manifest::{self, Object, Origin},
};
use test_case::test_case;

fn obj(value: Value) -> Object {
    Object::new(
        value,
        Origin {
            file: "test.yaml".into(),
            document: 0,
            line: Some(1),
        },
    )
}

fn cluster(yaml: &str) -> ClusterDescription {
    let raw: RawCluster = serde_yaml::from_str(yaml).unwrap();
    ClusterDescription::from_raw(raw, Path::new(".")).unwrap()
}

fn kafka_topic() -> Object {
    obj(
        json!({"apiVersion": "kafka.strimzi.io/v1beta2", "kind": "KafkaTopic",
               "metadata": {"name": "stats", "namespace": "shortlink"}, "spec": {"partitions": 1}}),
    )
}

fn deployment(container: Value) -> Object {
    obj(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shortlink"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [container]}}}
    }))
}

// ---------------------------------------------------------------- discovery (§2.1.6)

#[test]
fn an_unknown_group_makes_the_task_invalid_with_argo_cds_messages() {
    let topic = kafka_topic();
    let d = Discovery::new(&ClusterDescription::default(), std::slice::from_ref(&topic));
    let KindCheck::Invalid(r) = d.check_kind(&topic, "default") else {
        panic!("KafkaTopic without its CRD must be invalid");
    };
    assert_eq!(r.reason, Reason::UnknownKind);
    assert_eq!(r.stage, Stage::Tasks);
    // gitops-engine/pkg/utils/kube/kube.go wraps discovery's 404
    // (apimachinery/pkg/api/errors/errors.go NewGenericServerResponse).
    assert_eq!(
        r.message,
        "failed to discover server resources for group version kafka.strimzi.io/v1beta2: \
         the server could not find the requested resource"
    );
    // util/argo/argo.go AugmentSyncMsg rewrites the task's message.
    assert_eq!(
        r.task_message,
        "The Kubernetes API could not find kafka.strimzi.io/KafkaTopic for requested resource \
         shortlink/stats. Make sure the \"KafkaTopic\" CRD is installed on the destination cluster."
    );
    // gitops-engine/pkg/sync/sync_context.go Sync(): the operation message, with the causes.
    assert_eq!(
        invalid_tasks_message([r.message.as_str()]),
        "one or more synchronization tasks are not valid: failed to discover server resources \
         for group version kafka.strimzi.io/v1beta2: the server could not find the requested resource"
    );
    // syncsim's hint names both fixes.
    let hint = r.hint.unwrap();
    assert!(hint.contains("cluster.crds"), "{hint}");
    assert!(hint.contains("SkipDryRunOnMissingResource=true"), "{hint}");
}

#[test_case("apps/v1", "Deploymnt", r#"Deploymnt.apps "" not found"#, r#"Deploymnt.apps "" not found"# ; "unknown kind in a served group version")]
#[test_case("v1", "ConfigMapp", r#"ConfigMapp "" not found"#, r#"ConfigMapp "" not found"# ; "core group")]
#[test_case("apps/v1beta1", "Deployment",
    "failed to discover server resources for group version apps/v1beta1: the server could not find the requested resource",
    "The Kubernetes API could not find version \"v1beta1\" of apps/Deployment for requested resource default/x. Version \"v1\" of apps/Deployment is installed on the destination cluster." ;
    "removed version of a served kind")]
fn unserved_kinds_read_like_gitops_engine_and_argo_cd(
    api_version: &str,
    kind: &str,
    message: &str,
    task: &str,
) {
    // gitops-engine/pkg/utils/kube/kube.go (NewNotFound of GroupResource{group, Kind});
    // apimachinery/pkg/api/errors/errors.go; util/argo/argo.go AugmentSyncMsg.
    let o = obj(json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}));
    let d = Discovery::new(&ClusterDescription::default(), &[]);
    let KindCheck::Invalid(r) = d.check_kind(&o, "default") else {
        panic!("{api_version} {kind} must be invalid");
    };
    assert_eq!(r.message, message);
    assert_eq!(r.task_message, task);
}

#[test]
fn a_crd_in_the_same_sync_or_skip_dry_run_makes_the_task_valid() {
    // gitops-engine/pkg/sync/sync_context.go getSyncTasks: hasCRDOfGroupKind or the
    // SkipDryRunOnMissingResource=true annotation skip the dry run instead.
    let crd = obj(
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "kafkatopics.kafka.strimzi.io"},
        "spec": {"group": "kafka.strimzi.io", "scope": "Namespaced",
                 "names": {"kind": "KafkaTopic", "plural": "kafkatopics"},
                 "versions": [{"name": "v1beta2", "served": true, "storage": true}]}}),
    );
    let topic = kafka_topic();
    let d = Discovery::new(
        &ClusterDescription::default(),
        &[crd.clone(), topic.clone()],
    );
    assert_eq!(
        d.check_kind(&topic, "default"),
        KindCheck::SkipDryRun { namespaced: true }
    );
    assert_eq!(
        d.check_kind(&crd, "default"),
        KindCheck::Served { namespaced: false }
    );

    let mut skip = kafka_topic();
    skip.value["metadata"]["annotations"] =
        json!({"argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true"});
    let d = Discovery::new(&ClusterDescription::default(), std::slice::from_ref(&skip));
    assert_eq!(
        d.check_kind(&skip, "default"),
        KindCheck::SkipDryRun { namespaced: true }
    );
}

#[test]
fn kinds_declared_in_the_cluster_description_are_served() {
    let topic = kafka_topic();
    let vs = obj(
        json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                        "metadata": {"name": "web", "namespace": "shortlink"}}),
    );
    let c = cluster("{crds: [kafka.strimzi.io/KafkaTopic, networking.istio.io/VirtualService]}");
    let d = Discovery::new(&c, &[]);
    assert_eq!(
        d.check_kind(&topic, "default"),
        KindCheck::Served { namespaced: true }
    );
    assert_eq!(
        d.check_kind(&vs, "default"),
        KindCheck::Served { namespaced: true }
    );
}

#[test_case("1.29", "admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", false ; "VAP v1 is GA from 1.30")]
#[test_case("1.30", "admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", true ; "VAP v1 on 1.30")]
#[test_case("1.32", "networking.k8s.io/v1", "ServiceCIDR", false ; "ServiceCIDR v1 is GA from 1.33")]
#[test_case("1.33", "networking.k8s.io/v1", "ServiceCIDR", true ; "ServiceCIDR v1 on 1.33")]
#[test_case("1.31", "flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", true ; "flowcontrol v1beta3 until 1.31")]
#[test_case("1.32", "flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", false ; "flowcontrol v1beta3 removed in 1.32")]
#[test_case("1.33", "resource.k8s.io/v1beta2", "ResourceClaim", false ; "new beta APIs are off by default")]
#[test_case("1.33", "batch/v1", "CronJob", true ; "GA kinds are served")]
fn discovery_follows_the_kubernetes_version(
    version: &str,
    api_version: &str,
    kind: &str,
    served: bool,
) {
    let c = cluster(&format!("{{kubernetesVersion: \"{version}\"}}"));
    assert_eq!(c.kubernetes_version, KubeVersion::parse(version).unwrap());
    let o = obj(json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}));
    let d = Discovery::new(&c, &[]);
    let valid = !matches!(d.check_kind(&o, "default"), KindCheck::Invalid(_));
    assert_eq!(valid, served, "{api_version} {kind} on {version}");
}

// ---------------------------------------------------------------- strict decoding

#[test]
fn a_misspelled_field_is_a_strict_decoding_error() {
    // apiserver/pkg/endpoints/handlers/rest.go transformDecodeError,
    // apimachinery/pkg/runtime/error.go strictDecodingError (unknown field "<path>").
    let d = deployment(json!({"name": "web", "image": "nginx", "imagePullPolcy": "Always"}));
    let r = check_object(&d).unwrap_err();
    assert_eq!(r.reason, Reason::StrictDecoding);
    assert_eq!(r.stage, Stage::Apply);
    assert_eq!(
        r.task_message,
        "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: \
         unknown field \"spec.template.spec.containers[0].imagePullPolcy\""
    );
    // Validate=false asks for fieldValidation=Ignore: the field is dropped.
    let mut lenient = d.clone();
    lenient.value["metadata"]["annotations"] =
        json!({"argocd.argoproj.io/sync-options": "Validate=false"});
    assert_eq!(check_object(&lenient), Ok(()));
}

#[test]
fn several_unknown_fields_are_listed_in_one_message() {
    // apimachinery/pkg/runtime/error.go: joined with ", ".
    let mut d = deployment(json!({"name": "web", "image": "nginx"}));
    d.value["metadata"]["labelz"] = json!({"a": "b"});
    d.value["spec"]["replica"] = json!(2);
    let r = check_object(&d).unwrap_err();
    assert!(
        r.task_message.ends_with(
            "strict decoding error: unknown field \"metadata.labelz\", unknown field \"spec.replica\""
        ),
        "{}",
        r.task_message
    );
}

#[test]
fn a_wrong_type_fails_the_decoding() {
    // apiserver/pkg/endpoints/handlers/rest.go transformDecodeError around Go's
    // encoding/json UnmarshalTypeError (as forked by sigs.k8s.io/json).
    let mut d = deployment(json!({"name": "web", "image": "nginx"}));
    d.value["spec"]["replicas"] = json!("two");
    let r = check_object(&d).unwrap_err();
    assert_eq!(r.reason, Reason::BadType);
    assert_eq!(
        r.task_message,
        "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal \
         string into Go struct field DeploymentSpec.spec.replicas of type int32"
    );
}

/// A YAML 1.1 boolean (`yes`, `no`, `on`, `off`) where a string belongs, read from YAML as a
/// cluster reads it. encoding/json's field stack holds struct fields only (encoding/json
/// decode.go `object`: a map's keys are not pushed), so a value of `data` or of `labels` is in
/// field `ConfigMap.data` or `ObjectMeta.metadata.labels`.
#[test_case("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  debug: no\n",
    "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal bool into Go struct field ConfigMap.data of type string" ; "configmap data")]
#[test_case("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: {canary: on}\n",
    "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string" ; "label")]
#[test_case("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n        env: [{name: DEBUG, value: yes}]\n",
    "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal bool into Go struct field EnvVar.spec.template.spec.containers.env.value of type string" ; "env value")]
fn a_yaml_1_1_boolean_where_a_string_belongs_is_refused(yaml: &str, message: &str) {
    let objects = manifest::from_yaml_str(yaml, "app.yaml").unwrap();
    let r = check_object(&objects[0]).unwrap_err();
    assert_eq!(r.reason, Reason::BadType);
    assert_eq!(r.task_message, message);
    // Quoted, the same value is a string and is taken.
    let quoted = yaml
        .replace("debug: no", "debug: 'no'")
        .replace("canary: on", "canary: 'on'")
        .replace("value: yes", "value: \"yes\"");
    let objects = manifest::from_yaml_str(&quoted, "app.yaml").unwrap();
    assert!(check_object(&objects[0]).is_ok(), "{quoted}");
}

#[test_case(json!({"image": "nginx"}), "spec.template.spec.containers[0].name: Required value" ; "container without a name")]
#[test_case(json!({"name": "web"}), "spec.template.spec.containers[0].image: Required value" ; "container without an image")]
fn missing_required_fields_get_required_value(container: Value, error: &str) {
    // apimachinery/pkg/api/errors/errors.go NewInvalid, field/errors.go ErrorBody,
    // pkg/apis/core/validation/validation.go validateContainers.
    let r = check_object(&deployment(container)).unwrap_err();
    assert_eq!(r.reason, Reason::Invalid);
    assert_eq!(
        r.task_message,
        format!("Deployment.apps \"web\" is invalid: {error}")
    );
}

#[test]
fn several_validation_errors_are_aggregated_in_brackets() {
    // apimachinery/pkg/util/errors/errors.go aggregate: "[a, b]".
    let r = check_object(&deployment(json!({"ports": [{"containerPort": 80}]}))).unwrap_err();
    assert_eq!(
        r.task_message,
        "Deployment.apps \"web\" is invalid: [spec.template.spec.containers[0].name: Required \
         value, spec.template.spec.containers[0].image: Required value]"
    );
}

// ---------------------------------------------------------------- namespaces

#[test]
fn a_namespace_nobody_creates_is_not_found() {
    // apiserver/pkg/admission/plugin/namespace/lifecycle/admission.go:
    // errors.NewNotFound(v1.Resource("namespaces"), ns) -> `namespaces "x" not found`.
    let cm = obj(json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "c", "namespace": "payments"}}));
    let c = ClusterDescription::default();
    let ns = Namespaces::new(&c, std::slice::from_ref(&cm), "default", false);
    let r = ns.check(&cm, true, "default").unwrap_err();
    assert_eq!(r.reason, Reason::NamespaceNotFound);
    assert_eq!(r.task_message, r#"namespaces "payments" not found"#);
    assert!(r.hint.unwrap().contains("cluster.namespaces"));

    // Created by a Namespace object, by CreateNamespace=true, or already in the cluster.
    let namespace =
        obj(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "payments"}}));
    let with_ns = Namespaces::new(&c, &[namespace, cm.clone()], "default", false);
    assert_eq!(with_ns.check(&cm, true, "default"), Ok(()));
    assert_eq!(
        Namespaces::new(&c, &[], "payments", true).check(&cm, true, "default"),
        Ok(())
    );
    let listed = cluster("{namespaces: [payments]}");
    assert_eq!(
        Namespaces::new(&listed, &[], "default", false).check(&cm, true, "default"),
        Ok(())
    );
    // Cluster-scoped objects have no namespace to miss; objects without one go to the destination.
    assert_eq!(ns.check(&cm, false, "default"), Ok(()));
    let plain = obj(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}));
    assert_eq!(ns.check(&plain, true, "kube-system"), Ok(()));
}

// ---------------------------------------------------------------- immutable fields

fn statefulset(storage: &str, service_name: &str, replicas: i64) -> Object {
    obj(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shortlink"},
        "spec": {"replicas": replicas, "serviceName": service_name,
                 "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}},
                              "spec": {"containers": [{"name": "db", "image": "postgres"}]}},
                 "volumeClaimTemplates": [{"metadata": {"name": "data"},
                     "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}}}]}
    }))
}

const STS_FORBIDDEN: &str = "StatefulSet.apps \"db\" is invalid: spec: Forbidden: updates to \
    statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', \
    'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

#[test_case(statefulset("1Gi", "db", 1), statefulset("2Gi", "db", 1), Some(STS_FORBIDDEN) ; "volumeClaimTemplates")]
#[test_case(statefulset("1Gi", "db", 1), statefulset("1Gi", "db-headless", 1), Some(STS_FORBIDDEN) ; "serviceName")]
#[test_case(statefulset("1Gi", "db", 1), statefulset("1Gi", "db", 3), None ; "replicas may change")]
fn statefulset_updates(live: Object, target: Object, expected: Option<&str>) {
    // pkg/apis/apps/validation/validation.go ValidateStatefulSetUpdate.
    let got = check_update(&live, &target).err().map(|r| r.task_message);
    assert_eq!(got.as_deref(), expected);
}

#[test]
fn a_deployment_selector_is_immutable() {
    // pkg/apis/apps/validation/validation.go ValidateDeploymentUpdate ->
    // apimachinery/pkg/api/validation/generic.go ValidateImmutableField ("field is immutable").
    let live = deployment(json!({"name": "web", "image": "nginx"}));
    let mut target = live.clone();
    target.value["spec"]["selector"] = json!({"matchLabels": {"app": "web2"}});
    target.value["spec"]["template"]["metadata"]["labels"] = json!({"app": "web2"});
    let r = check_update(&live, &target).unwrap_err();
    assert_eq!(
        r.task_message,
        "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: \
         v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}, \
         MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
    );
    let mut image_only = live.clone();
    image_only.value["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
    assert_eq!(check_update(&live, &image_only), Ok(()));
}

#[test]
fn a_service_cluster_ip_may_not_change() {
    // pkg/apis/core/validation/validation.go validateUpgradeDowngradeClusterIPs.
    let svc = |ip: Option<&str>| {
        let mut spec = json!({"ports": [{"port": 80}], "selector": {"app": "web"}});
        if let Some(ip) = ip {
            spec["clusterIP"] = json!(ip);
        }
        obj(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": spec}),
        )
    };
    let r = check_update(&svc(None), &svc(Some("None"))).unwrap_err();
    assert_eq!(
        r.task_message,
        "Service \"web\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"None\"}: may not change once set"
    );
    assert_eq!(check_update(&svc(Some("None")), &svc(Some("None"))), Ok(()));
    assert_eq!(check_update(&svc(Some("10.96.0.10")), &svc(None)), Ok(()));
}

fn pvc(storage: &str, class: &str, phase: Option<&str>) -> Object {
    let mut v = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": class,
                 "resources": {"requests": {"storage": storage}}}});
    if let Some(p) = phase {
        v["status"] = json!({"phase": p, "capacity": {"storage": "1Gi"}});
    }
    obj(v)
}

const PVC_FORBIDDEN: &str = "PersistentVolumeClaim \"data\" is invalid: spec: Forbidden: spec is \
    immutable after creation except resources.requests and volumeAttributesClassName for bound claims";

#[test_case(pvc("1Gi", "standard", Some("Bound")), pvc("2Gi", "standard", None), None ; "a bound claim may grow")]
#[test_case(pvc("1Gi", "standard", Some("Pending")), pvc("2Gi", "standard", None), Some(PVC_FORBIDDEN) ; "a pending claim may not")]
#[test_case(pvc("1Gi", "standard", Some("Bound")), pvc("1Gi", "fast", None), Some(PVC_FORBIDDEN) ; "storage class")]
#[test_case(pvc("1Gi", "standard", Some("Bound")), pvc("512Mi", "standard", None),
    Some("PersistentVolumeClaim \"data\" is invalid: spec.resources.requests.storage: Forbidden: field can not be less than status.capacity") ; "shrinking")]
fn pvc_updates(live: Object, target: Object, expected: Option<&str>) {
    // pkg/apis/core/validation/validation.go ValidatePersistentVolumeClaimUpdate.
    let got = check_update(&live, &target).err().map(|r| r.task_message);
    assert_eq!(got.as_deref(), expected);
}

#[test]
fn immutable_config_maps_and_secrets_keep_their_data() {
    // pkg/apis/core/validation/validation.go ValidateConfigMapUpdate / ValidateSecretUpdate.
    let cm = |v: &str, immutable: bool| {
        obj(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                   "immutable": immutable, "data": {"k": v}}),
        )
    };
    let r = check_update(&cm("a", true), &cm("b", true)).unwrap_err();
    assert_eq!(
        r.task_message,
        "ConfigMap \"cfg\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
    );
    let r = check_update(&cm("a", true), &cm("b", false)).unwrap_err();
    assert_eq!(
        r.task_message,
        "ConfigMap \"cfg\" is invalid: [immutable: Forbidden: field is immutable when `immutable` \
         is set, data: Forbidden: field is immutable when `immutable` is set]"
    );
    assert_eq!(check_update(&cm("a", false), &cm("b", false)), Ok(()));

    let secret = |data: Value| {
        obj(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                   "immutable": true, "data": data}),
        )
    };
    // stringData is merged into data before validation.
    let mut same = secret(json!({}));
    same.value["stringData"] = json!({"k": "v"});
    assert_eq!(check_update(&secret(json!({"k": "dg=="})), &same), Ok(()));
    let r = check_update(&secret(json!({"k": "dg=="})), &secret(json!({"k": "dw=="}))).unwrap_err();
    assert_eq!(
        r.task_message,
        "Secret \"s\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
    );
}

#[test]
fn a_job_template_is_immutable() {
    // pkg/apis/batch/validation/validation.go ValidateJobSpecUpdate (the template value is
    // abbreviated; Kubernetes prints the whole internal struct).
    let job = |image: &str| {
        obj(
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
                   "spec": {"template": {"spec": {"restartPolicy": "Never",
                            "containers": [{"name": "m", "image": image}]}}}}),
        )
    };
    let r = check_update(&job("flyway:1"), &job("flyway:2")).unwrap_err();
    assert_eq!(r.reason, Reason::Immutable);
    assert_eq!(
        r.task_message,
        "Job.batch \"migrate\" is invalid: spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable"
    );
}

// ---------------------------------------------------------------- Replace / Force (§6.2)

fn annotated(mut o: Object, options: &str) -> Object {
    o.value["metadata"]["annotations"] = json!({"argocd.argoproj.io/sync-options": options});
    o
}

#[test_case(None, "", false, Ok(UpdateAction::Create) ; "absent objects are created")]
#[test_case(Some(""), "", false, Err(()) ; "apply is refused")]
#[test_case(Some(""), "Force=true", false, Ok(UpdateAction::Recreate) ; "Force on the target recreates")]
#[test_case(Some("Force=true"), "", false, Ok(UpdateAction::Recreate) ; "Force on the live object recreates")]
#[test_case(Some(""), "", true, Ok(UpdateAction::Recreate) ; "sync --force recreates")]
#[test_case(Some(""), "Replace=true", false, Err(()) ; "Replace alone still hits the immutable field")]
#[test_case(Some(""), "Force=true,Replace=true", false, Ok(UpdateAction::Recreate) ; "replace --force")]
fn replace_and_force_follow_apply_object(
    live_options: Option<&str>,
    target_options: &str,
    cli_force: bool,
    expected: Result<UpdateAction, ()>,
) {
    // gitops-engine/pkg/sync/sync_context.go applyObject; kubectl apply --force deletes and
    // re-creates on an Invalid patch.
    let live = live_options.map(|o| annotated(statefulset("1Gi", "db", 1), o));
    let target = annotated(statefulset("2Gi", "db", 1), target_options);
    let got = update_action(
        live.as_ref(),
        &target,
        &UpdateOptions {
            force: cli_force,
            replace: false,
        },
    )
    .map_err(|r| assert_eq!(r.reason, Reason::Immutable));
    assert_eq!(got, expected);
}

#[test]
fn replace_without_violation_replaces_and_crds_are_updated() {
    let live = statefulset("1Gi", "db", 1);
    let target = statefulset("1Gi", "db", 2);
    let opts = UpdateOptions {
        force: false,
        replace: true,
    };
    assert_eq!(
        update_action(Some(&live), &target, &opts),
        Ok(UpdateAction::Replace)
    );
    assert_eq!(
        update_action(Some(&live), &target, &UpdateOptions::default()),
        Ok(UpdateAction::Patch)
    );
    // A Namespace under Replace+Force is updated, never deleted (it would take its content).
    let ns = obj(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}));
    let forced = UpdateOptions {
        force: true,
        replace: true,
    };
    assert_eq!(
        update_action(Some(&ns), &ns, &forced),
        Ok(UpdateAction::Replace)
    );
}

// ---------------------------------------------------------------- no false positives

fn assert_clean(
    objects: &[Object],
    cluster: &ClusterDescription,
    dest: &str,
    create_namespace: bool,
    what: &str,
) {
    assert!(!objects.is_empty(), "{what}: no objects");
    for check in check_all(objects, cluster, dest, create_namespace) {
        let o = &objects[check.index];
        assert!(
            !matches!(check.kind, KindCheck::Invalid(_)),
            "{what}: {} refused: {:?}",
            o.display_name(),
            check.kind
        );
        assert!(
            check.apply.is_empty(),
            "{what}: {} refused: {:?}",
            o.display_name(),
            check.apply
        );
    }
}

#[test_case("k8s/overlays/prod" ; "prod overlay")]
#[test_case("k8s/overlays/local" ; "local overlay")]
#[test_case("scenarios/overlays/with-checks" ; "scenario overlay")]
fn the_real_overlays_validate_cleanly(overlay: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(overlay);
    let loaded = manifest::load(dir.to_str().unwrap(), &manifest::LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    // Argo CD's application for these overlays: destination namespace `shortlink`, created by
    // CreateNamespace=true.
    let cluster = match config::find_config(dir.to_str().unwrap()) {
        Some(path) => {
            config::load(&path)
                .unwrap_or_else(|e| panic!("{e}"))
                .cluster
        }
        None => ClusterDescription::default(),
    };
    assert_clean(&loaded.objects, &cluster, "shortlink", true, overlay);
}

#[test_case("tests/fixtures/sync/small.yaml")]
#[test_case("tests/fixtures/cli/keep.yaml")]
#[test_case("tests/fixtures/cli/stubborn.yaml")]
#[test_case("tests/fixtures/cli/stuck.yaml")]
#[test_case("tests/fixtures/scenario/app/app.yaml")]
fn the_fixtures_validate_cleanly(file: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let loaded = manifest::load(path.to_str().unwrap(), &manifest::LoadOptions::default()).unwrap();
    assert_clean(
        &loaded.objects,
        &ClusterDescription::default(),
        "default",
        false,
        file,
    );
}

// ---------------------------------------------------------------- syncsim.yaml `cluster:`

#[test]
fn the_cluster_section_is_read_from_syncsim_yaml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("crds")).unwrap();
    std::fs::write(
        dir.path().join("crds/vs.yaml"),
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: virtualservices.networking.istio.io}\nspec:\n  group: networking.istio.io\n  scope: Namespaced\n  names: {kind: VirtualService, plural: virtualservices}\n  versions: [{name: v1, served: true, storage: true}]\n",
    )
    .unwrap();
    let path = dir.path().join(config::CONFIG_FILE_NAME);
    std::fs::write(
        &path,
        "apiVersion: syncsim.dev/v1alpha1\nkind: Config\ncluster:\n  kubernetesVersion: \"1.31\"\n  crds: [crds/, kafka.strimzi.io/KafkaTopic]\n  namespaces: [istio-system]\n",
    )
    .unwrap();
    let c = config::load(&path).unwrap().cluster;
    assert_eq!(c.kubernetes_version.to_string(), "1.31");
    assert!(c.has_namespace("istio-system"));
    let kinds: Vec<&str> = c.custom_kinds.iter().map(|k| k.kind.as_str()).collect();
    assert_eq!(kinds, ["KafkaTopic", "VirtualService"]);
    assert_eq!(c.default_storage_class().unwrap().name, "standard");
}

#[test_case("cluster:\n  kubernetesVersion: \"1.40\"\n", "syncsim.yaml:3: cluster.kubernetesVersion: Kubernetes 1.40 is not supported" ; "version")]
#[test_case("cluster:\n  crds: [missing/]\n", "syncsim.yaml:3: cluster.crds[0]: `missing/` does not exist" ; "crd path")]
#[test_case("cluster:\n  storageClasses: [{name: a, volumeBindingMode: Later}]\n", "unknown variant `Later`" ; "binding mode")]
#[test_case("cluster:\n  namespace: [a]\n", "unknown field `namespace`" ; "misspelled field")]
fn bad_cluster_entries_exit_2_naming_file_and_field(section: &str, expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(config::CONFIG_FILE_NAME);
    std::fs::write(
        &path,
        format!("apiVersion: syncsim.dev/v1alpha1\nkind: Config\n{section}"),
    )
    .unwrap();
    let err = config::load(&path).unwrap_err();
    let rendered = syncsim::error::render_chain(&err);
    assert!(rendered.contains(expected), "{rendered}");
    assert!(rendered.contains("syncsim.yaml"), "{rendered}");
    assert_eq!(
        syncsim::error::ExitCode::exit_code(&err),
        syncsim::error::BAD_INPUT
    );
}
