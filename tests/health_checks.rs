//! One named case per rule of docs/argo-cd-semantics.md §5.3, each an inline live object.
use syncsim::health::{assess, HealthStatus, HealthStatus::*};
use test_case::test_case;

fn check(yaml: &str) -> (HealthStatus, String) {
    let live: serde_json::Value = serde_yaml::from_str(yaml).expect("test yaml");
    let h = assess(&live)
        .expect("assess")
        .expect("kind has a health check");
    (h.status, h.message)
}

const DEPLOY: &str =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, generation: 2}\n";

#[test_case("spec: {paused: true}\nstatus: {observedGeneration: 1}", Suspended, "Deployment is paused" ; "deployment 1 paused")]
#[test_case("spec: {replicas: 1}\nstatus: {observedGeneration: 1}", Progressing, "Waiting for rollout to finish: observed deployment generation less than desired generation" ; "deployment 2 generation not observed")]
#[test_case("spec: {replicas: 1}\nstatus: {observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 0, conditions: [{type: Progressing, status: 'False', reason: ProgressDeadlineExceeded}]}", Degraded, "Deployment \"web\" exceeded its progress deadline" ; "deployment 3 progress deadline exceeded")]
#[test_case("spec: {replicas: 3}\nstatus: {observedGeneration: 2, replicas: 3, updatedReplicas: 1}", Progressing, "Waiting for rollout to finish: 1 out of 3 new replicas have been updated..." ; "deployment 4 updated below spec")]
#[test_case("spec: {replicas: 1}\nstatus: {observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1}", Progressing, "Waiting for rollout to finish: 1 old replicas are pending termination..." ; "deployment 5 old replicas terminating")]
#[test_case("spec: {replicas: 2}\nstatus: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1}", Progressing, "Waiting for rollout to finish: 1 of 2 updated replicas are available..." ; "deployment 6 not all available")]
#[test_case("spec: {replicas: 2}\nstatus: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2}", Healthy, "" ; "deployment 7 healthy")]
#[test_case("spec: {replicas: 0}\nstatus: {observedGeneration: 2}", Healthy, "" ; "deployment scaled to zero is healthy")]
fn deployment(rest: &str, status: HealthStatus, message: &str) {
    assert_eq!(
        check(&format!("{DEPLOY}{rest}")),
        (status, message.to_string())
    );
}

const STS: &str = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, generation: 1}\n";

#[test_case("spec: {replicas: 1}\nstatus: {readyReplicas: 1}", Progressing ; "statefulset 1 observed generation zero")]
#[test_case("spec: {replicas: 2}\nstatus: {observedGeneration: 1, readyReplicas: 1}", Progressing ; "statefulset 2 not all ready")]
#[test_case("spec: {replicas: 3, updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 1}}}\nstatus: {observedGeneration: 1, readyReplicas: 3, updatedReplicas: 1, updateRevision: b, currentRevision: a}", Progressing ; "statefulset 3 partition rollout pending")]
#[test_case("spec: {replicas: 3, updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 1}}}\nstatus: {observedGeneration: 1, readyReplicas: 3, updatedReplicas: 2, updateRevision: b, currentRevision: a}", Healthy ; "statefulset 3 partition rollout complete skips revision check")]
#[test_case("spec: {replicas: 1, updateStrategy: {type: OnDelete}}\nstatus: {observedGeneration: 1, readyReplicas: 1, updateRevision: b, currentRevision: a}", Healthy ; "statefulset 4 ondelete skips revision check")]
#[test_case("spec: {replicas: 1, updateStrategy: {type: RollingUpdate}}\nstatus: {observedGeneration: 1, readyReplicas: 1, updateRevision: b, currentRevision: a}", Progressing ; "statefulset 5 revisions differ")]
#[test_case("spec: {replicas: 1}\nstatus: {observedGeneration: 1, readyReplicas: 1, currentReplicas: 1, updateRevision: a, currentRevision: a}", Healthy ; "statefulset 6 healthy")]
fn statefulset(rest: &str, status: HealthStatus) {
    assert_eq!(check(&format!("{STS}{rest}")).0, status);
}

#[test]
fn statefulset_healthy_message() {
    let (_, msg) = check(&format!(
        "{STS}spec: {{replicas: 1}}\nstatus: {{observedGeneration: 1, readyReplicas: 1, currentReplicas: 1, updateRevision: db-1, currentRevision: db-1}}"
    ));
    assert_eq!(
        msg,
        "statefulset rolling update complete 1 pods at revision db-1..."
    );
}

const DS: &str = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, generation: 2}\n";

#[test_case("status: {observedGeneration: 1}", Progressing ; "daemonset 1 generation not observed")]
#[test_case("spec: {updateStrategy: {type: OnDelete}}\nstatus: {observedGeneration: 2, desiredNumberScheduled: 2}", Healthy ; "daemonset 2 ondelete")]
#[test_case("status: {observedGeneration: 2, desiredNumberScheduled: 2, updatedNumberScheduled: 1, numberAvailable: 2}", Progressing ; "daemonset 3 not all updated")]
#[test_case("status: {observedGeneration: 2, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 1}", Progressing ; "daemonset 4 not all available")]
#[test_case("status: {observedGeneration: 2, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2}", Healthy ; "daemonset 5 healthy")]
fn daemonset(rest: &str, status: HealthStatus) {
    assert_eq!(check(&format!("{DS}{rest}")).0, status);
}

const RS: &str = "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-1, generation: 2}\n";

#[test_case("spec: {replicas: 1}\nstatus: {observedGeneration: 1}", Progressing, "Waiting for rollout to finish: observed replica set generation less than desired generation" ; "replicaset 1 generation not observed")]
#[test_case("spec: {replicas: 1}\nstatus: {observedGeneration: 2, conditions: [{type: ReplicaFailure, status: 'True', message: quota exceeded}]}", Degraded, "quota exceeded" ; "replicaset 2 replica failure")]
#[test_case("spec: {replicas: 1}\nstatus: {observedGeneration: 2, conditions: [{type: ReplicaFailure, status: 'False', message: old}], availableReplicas: 1}", Healthy, "" ; "replicaset 2 replica failure false is ignored")]
#[test_case("spec: {replicas: 2}\nstatus: {observedGeneration: 2, availableReplicas: 1}", Progressing, "Waiting for rollout to finish: 1 out of 2 new replicas are available..." ; "replicaset 3 not all available")]
#[test_case("spec: {replicas: 2}\nstatus: {observedGeneration: 2, availableReplicas: 2}", Healthy, "" ; "replicaset 4 healthy")]
fn replicaset(rest: &str, status: HealthStatus, message: &str) {
    assert_eq!(check(&format!("{RS}{rest}")), (status, message.to_string()));
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n";
const HOOK_ANN: &str = "  annotations: {argocd.argoproj.io/hook: PreSync}\n";
const IGNORE_ANN: &str = "  annotations: {argocd.argoproj.io/ignore-restart-policy: 'true'}\n";
const HOOK_AND_IGNORE_ANN: &str =
    "  annotations: {argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/ignore-restart-policy: 'true'}\n";

#[test_case("", "spec: {restartPolicy: Always}\nstatus: {phase: Running, containerStatuses: [{name: a, state: {waiting: {reason: CrashLoopBackOff, message: back-off a}}}, {name: b, state: {waiting: {reason: ErrImagePull, message: pull b}}}]}", Degraded, "back-off a, pull b" ; "pod 1 long running waiting errors are degraded")]
#[test_case("", "spec: {}\nstatus: {phase: Pending, containerStatuses: [{name: a, state: {waiting: {reason: CreateContainerConfigError, message: no cm}}}]}", Degraded, "no cm" ; "pod 1 default restart policy is always")]
#[test_case("", "spec: {restartPolicy: Always}\nstatus: {phase: Pending, initContainerStatuses: [{name: i, state: {waiting: {reason: CrashLoopBackOff}}}]}", Progressing, "" ; "pod 1 init containers are not inspected")]
#[test_case("", "spec: {restartPolicy: Never}\nstatus: {phase: Pending, message: waiting, containerStatuses: [{name: a, state: {waiting: {reason: ImagePullBackOff}}}]}", Progressing, "waiting" ; "pod 1 never pod in image pull backoff is not degraded")]
#[test_case(IGNORE_ANN, "spec: {restartPolicy: Never}\nstatus: {phase: Pending, containerStatuses: [{name: a, state: {waiting: {reason: ImagePullBackOff, message: nope}}}]}", Degraded, "nope" ; "pod 1 ignore restart policy annotation makes it long running")]
#[test_case(HOOK_AND_IGNORE_ANN, "spec: {restartPolicy: Never}\nstatus: {phase: Pending, containerStatuses: [{name: a, state: {waiting: {reason: ImagePullBackOff, message: nope}}}]}", Progressing, "" ; "pod 1 ignore restart policy annotation does not apply to hooks")]
#[test_case("", "spec: {restartPolicy: Always}\nstatus: {phase: Pending}", Progressing, "" ; "pod 2 pending")]
#[test_case("", "spec: {restartPolicy: Never}\nstatus: {phase: Succeeded}", Healthy, "" ; "pod 3 succeeded")]
#[test_case("", "spec: {restartPolicy: Never}\nstatus: {phase: Failed, message: evicted, containerStatuses: [{name: a, state: {terminated: {exitCode: 1}}}]}", Degraded, "evicted" ; "pod 4 failed with pod message")]
#[test_case("", "spec: {restartPolicy: Never}\nstatus: {phase: Failed, containerStatuses: [{name: a, state: {terminated: {exitCode: 1, message: boom}}}]}", Degraded, "boom" ; "pod 4 failed with container message")]
#[test_case("", "spec: {restartPolicy: Never}\nstatus: {phase: Failed, containerStatuses: [{name: a, state: {terminated: {exitCode: 137, reason: OOMKilled}}}]}", Degraded, "OOMKilled" ; "pod 4 failed oom killed")]
#[test_case("", "spec: {restartPolicy: Never}\nstatus: {phase: Failed, initContainerStatuses: [{name: migrate, state: {terminated: {exitCode: 3}}}], containerStatuses: [{name: a, state: {terminated: {exitCode: 1}}}]}", Degraded, "container \"migrate\" failed with exit code 3" ; "pod 4 failed init container first")]
#[test_case("", "spec: {restartPolicy: Never}\nstatus: {phase: Failed}", Degraded, "" ; "pod 4 failed without details")]
#[test_case("", "spec: {restartPolicy: Always}\nstatus: {phase: Running, conditions: [{type: Ready, status: 'True'}]}", Healthy, "" ; "pod 5 running ready")]
#[test_case("", "spec: {restartPolicy: Always}\nstatus: {phase: Running, conditions: [{type: Ready, status: 'False'}], containerStatuses: [{name: a, state: {running: {}}, lastState: {terminated: {exitCode: 1}}}]}", Degraded, "" ; "pod 5 running not ready restarted")]
#[test_case("", "spec: {restartPolicy: Always}\nstatus: {phase: Running, conditions: [{type: Ready, status: 'False'}], containerStatuses: [{name: a, state: {running: {}}}]}", Progressing, "" ; "pod 5 running not ready")]
#[test_case("", "spec: {restartPolicy: Never}\nstatus: {phase: Running, conditions: [{type: Ready, status: 'True'}]}", Progressing, "" ; "pod 5 never runs to completion")]
#[test_case(HOOK_ANN, "spec: {restartPolicy: OnFailure}\nstatus: {phase: Running}", Progressing, "" ; "pod 5 onfailure hook runs to completion")]
#[test_case("", "spec: {restartPolicy: Always}\nstatus: {phase: Weird}", Unknown, "" ; "pod 6 unknown phase")]
#[test_case("", "spec: {restartPolicy: Always}\nstatus: {}", Unknown, "" ; "pod 6 no phase")]
fn pod(annotations: &str, rest: &str, status: HealthStatus, message: &str) {
    assert_eq!(
        check(&format!("{POD}{annotations}{rest}")),
        (status, message.to_string())
    );
}

const JOB: &str = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate}\n";

#[test_case("status: {active: 1}", Progressing, "" ; "job running without conditions")]
#[test_case("status: {conditions: [{type: Failed, status: 'True', reason: BackoffLimitExceeded, message: Job has reached the specified backoff limit}]}", Degraded, "Job has reached the specified backoff limit" ; "job failed condition")]
#[test_case("status: {conditions: [{type: Failed, status: 'False', message: x}]}", Degraded, "x" ; "job failed condition status is not checked")]
#[test_case("status: {conditions: [{type: Complete, status: 'True', message: done}]}", Healthy, "done" ; "job complete")]
#[test_case("spec: {suspend: true}\nstatus: {conditions: [{type: Suspended, status: 'True', message: Job suspended}]}", Suspended, "" ; "job suspended")]
#[test_case("status: {conditions: [{type: Suspended, status: 'False', message: Job resumed}]}", Healthy, "Job resumed" ; "job resumed quirk is healthy")]
#[test_case("status: {conditions: [{type: FailureTarget, status: 'True'}]}", Progressing, "" ; "job other conditions ignored")]
fn job(rest: &str, status: HealthStatus, message: &str) {
    assert_eq!(
        check(&format!("{JOB}{rest}")),
        (status, message.to_string())
    );
}

#[test_case("Bound", Healthy ; "pvc bound")]
#[test_case("Pending", Progressing ; "pvc pending")]
#[test_case("Lost", Degraded ; "pvc lost")]
#[test_case("Resizing", Unknown ; "pvc other phase")]
fn pvc(phase: &str, status: HealthStatus) {
    let y = format!("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: data}}\nstatus: {{phase: {phase}}}");
    assert_eq!(check(&y).0, status);
}

#[test_case("spec: {type: ClusterIP}", Healthy ; "service clusterip")]
#[test_case("spec: {}", Healthy ; "service default type")]
#[test_case("spec: {type: LoadBalancer}\nstatus: {loadBalancer: {}}", Progressing ; "service loadbalancer without ingress")]
#[test_case("spec: {type: LoadBalancer}\nstatus: {loadBalancer: {ingress: [{ip: 10.0.0.1}]}}", Healthy ; "service loadbalancer with ingress")]
fn service(rest: &str, status: HealthStatus) {
    assert_eq!(
        check(&format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: s}}\n{rest}"
        ))
        .0,
        status
    );
}

#[test_case("networking.k8s.io/v1", "status: {loadBalancer: {ingress: [{hostname: lb}]}}", Healthy ; "ingress with address")]
#[test_case("networking.k8s.io/v1", "status: {loadBalancer: {}}", Progressing ; "ingress without address")]
#[test_case("extensions/v1beta1", "status: {loadBalancer: {ingress: [{ip: 1.2.3.4}]}}", Healthy ; "ingress extensions any version")]
#[test_case("networking.k8s.io/v1beta1", "spec: {}", Progressing ; "ingress without status")]
fn ingress(api_version: &str, rest: &str, status: HealthStatus) {
    let y = format!("apiVersion: {api_version}\nkind: Ingress\nmetadata: {{name: i}}\n{rest}");
    assert_eq!(check(&y).0, status);
}

#[test_case("v1", "status: {conditions: [{type: Available, status: 'True', reason: Passed, message: all checks passed}]}", Healthy, "Passed: all checks passed" ; "apiservice available")]
#[test_case("v1beta1", "status: {conditions: [{type: Available, status: 'False', reason: MissingEndpoints, message: none}]}", Progressing, "MissingEndpoints: none" ; "apiservice not available")]
#[test_case("v1", "status: {}", Progressing, "Waiting to be processed" ; "apiservice without condition")]
fn apiservice(version: &str, rest: &str, status: HealthStatus, message: &str) {
    let y = format!("apiVersion: apiregistration.k8s.io/{version}\nkind: APIService\nmetadata: {{name: v1.metrics}}\n{rest}");
    assert_eq!(check(&y), (status, message.to_string()));
}

const HPA_V2: &str =
    "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\n";

#[test_case("AbleToScale", "FailedGetScale" ; "able to scale failed get scale")]
#[test_case("AbleToScale", "FailedUpdateScale" ; "able to scale failed update scale")]
#[test_case("ScalingActive", "FailedGetResourceMetric" ; "scaling active failed get resource metric")]
#[test_case("ScalingActive", "FailedGetObjectMetric" ; "scaling active failed get object metric")]
#[test_case("ScalingActive", "FailedGetPodsMetric" ; "scaling active failed get pods metric")]
#[test_case("ScalingActive", "FailedGetExternalMetric" ; "scaling active failed get external metric")]
#[test_case("ScalingActive", "FailedComputeMetricsReplicas" ; "scaling active failed compute metrics replicas")]
#[test_case("ScalingActive", "InvalidSelector" ; "scaling active invalid selector")]
fn hpa_v2_degraded_conditions(type_: &str, reason: &str) {
    let y = format!(
        "{HPA_V2}status: {{conditions: [{{type: AbleToScale, status: 'True', reason: SucceededGetScale}}, {{type: {type_}, status: 'False', reason: {reason}, message: bad}}]}}"
    );
    assert_eq!(check(&y), (Degraded, "bad".to_string()));
}

#[test_case("status: {conditions: [{type: AbleToScale, status: 'True', message: ok}]}", Healthy, "ok" ; "hpa v2 able to scale")]
#[test_case("status: {conditions: [{type: AbleToScale, status: 'False', reason: BackoffBoth}, {type: ScalingLimited, status: 'True', message: too few}]}", Healthy, "too few" ; "hpa v2 scaling limited")]
#[test_case("status: {conditions: [{type: AbleToScale, status: 'False', reason: BackoffBoth}]}", Progressing, "Waiting to Autoscale" ; "hpa v2 nothing conclusive")]
#[test_case("status: {}", Progressing, "Waiting to Autoscale" ; "hpa v2 no conditions")]
fn hpa_v2(rest: &str, status: HealthStatus, message: &str) {
    assert_eq!(
        check(&format!("{HPA_V2}{rest}")),
        (status, message.to_string())
    );
}

#[test_case(None, Progressing, "Waiting to Autoscale" ; "hpa v1 without annotation")]
#[test_case(Some("[]"), Progressing, "Waiting to Autoscale" ; "hpa v1 empty annotation")]
#[test_case(Some(r#"[{"type":"AbleToScale","status":"True","reason":"SucceededRescale","message":"fine"}]"#), Healthy, "fine" ; "hpa v1 healthy annotation")]
#[test_case(Some(r#"[{"type":"ScalingActive","status":"False","reason":"FailedGetResourceMetric","message":"no metrics"}]"#), Degraded, "no metrics" ; "hpa v1 degraded annotation")]
fn hpa_v1(annotation: Option<&str>, status: HealthStatus, message: &str) {
    let mut live = serde_json::json!({
        "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"}, "status": {"conditions": [{"type": "AbleToScale", "status": "True"}]}
    });
    if let Some(a) = annotation {
        live["metadata"]["annotations"] =
            serde_json::json!({"autoscaling.alpha.kubernetes.io/conditions": a});
    }
    let h = assess(&live).unwrap().unwrap();
    assert_eq!((h.status, h.message.as_str()), (status, message));
}

#[test]
fn hpa_v1_malformed_annotation_is_an_error() {
    let live = serde_json::json!({
        "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "annotations": {"autoscaling.alpha.kubernetes.io/conditions": "{not json"}}
    });
    let err = assess(&live).unwrap_err();
    assert!(
        err.to_string().contains("HorizontalPodAutoscaler `web`"),
        "{err}"
    );
}

#[test_case("{}", Progressing ; "workflow no phase")]
#[test_case("{phase: Pending}", Progressing ; "workflow pending")]
#[test_case("{phase: Running}", Progressing ; "workflow running")]
#[test_case("{phase: Succeeded}", Healthy ; "workflow succeeded")]
#[test_case("{phase: Failed}", Degraded ; "workflow failed")]
#[test_case("{phase: Error}", Degraded ; "workflow error")]
#[test_case("{phase: Skipped}", Unknown ; "workflow other phase")]
fn workflow(status_yaml: &str, status: HealthStatus) {
    let y = format!("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {{name: wf}}\nstatus: {status_yaml}");
    assert_eq!(check(&y).0, status);
}

const CRON: &str = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\n";

#[test_case("spec: {suspend: true}", Healthy, "CronJob is Suspended" ; "cronjob suspended")]
#[test_case("spec: {}\nstatus: {}", Healthy, "CronJob has not been scheduled yet" ; "cronjob never scheduled")]
#[test_case("spec: {}\nstatus: {lastScheduleTime: '2026-01-02T00:00:00Z'}", Healthy, "The Cronjob never completed succesfully. It may not be healthy" ; "cronjob never succeeded")]
#[test_case("spec: {}\nstatus: {lastScheduleTime: '2026-01-02T00:00:00Z', lastSuccessfulTime: '2026-01-01T00:00:05Z', active: [{name: j}]}", Healthy, "The job is running. Its last execution may not have been successful" ; "cronjob running")]
#[test_case("spec: {}\nstatus: {lastScheduleTime: '2026-01-02T00:00:00Z', lastSuccessfulTime: '2026-01-01T00:00:05Z'}", Degraded, "CronJob has not completed its last execution successfully" ; "cronjob last run failed")]
#[test_case("spec: {}\nstatus: {lastScheduleTime: '2026-01-02T00:00:00Z', lastSuccessfulTime: '2026-01-02T00:00:07Z'}", Healthy, "CronJob has completed its last execution successfully" ; "cronjob last run succeeded")]
#[test_case("spec: {}", Progressing, "Waiting for CronJob" ; "cronjob no status")]
fn cronjob(rest: &str, status: HealthStatus, message: &str) {
    assert_eq!(
        check(&format!("{CRON}{rest}")),
        (status, message.to_string())
    );
}
