//! Jobs: run pods to completion, with backoff, a backoff limit and a deadline.
use super::{
    template::{int_at, pod_input},
    PodSink,
};
use crate::{
    cluster::{
        kubelet::{self, PodPhase, RunningPod},
        probe::{Observation, CLUSTER_JOB_BACKOFF, CLUSTER_JOB_BACKOFF_MAX},
        sim::Inner,
    },
    manifest::ObjectKey,
};
use k8s_openapi::api::core::v1::PodSpec;
use serde_json::{json, Value};
use std::{collections::BTreeMap, sync::Arc, time::Duration};
use tokio::time::Instant;

/// A Job: pods until `completions` succeeded (up to `parallelism` at once), a new pod per
/// failure with exponential backoff until more than `backoffLimit` failed, and
/// `activeDeadlineSeconds`.
pub(super) async fn run_job(
    inner: Arc<Inner>,
    key: ObjectKey,
    obj: Value,
    spec: PodSpec,
    sink: PodSink,
) {
    let completions = int_at(&obj, "/spec/completions").unwrap_or(1).max(1) as u32;
    let parallelism = int_at(&obj, "/spec/parallelism").unwrap_or(1).max(1) as u32;
    let backoff_limit = int_at(&obj, "/spec/backoffLimit").unwrap_or(6).max(0) as u32;
    let deadline =
        int_at(&obj, "/spec/activeDeadlineSeconds").map(|s| Duration::from_secs(s.max(0) as u64));
    let suspended = obj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
    let start = Instant::now();
    let (mut succeeded, mut failed) = (0u32, 0u32);
    let mut active: Vec<RunningPod> = Vec::new();
    let mut next_start = Instant::now();
    let start_time = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    if suspended {
        sink.set_status(json!({"conditions": [{"type": "Suspended", "status": "True", "reason": "JobSuspended"}]}));
        return;
    }
    let finish = |cond: Value, succeeded: u32, failed: u32| json!({"startTime": start_time, "succeeded": succeeded, "failed": failed, "conditions": [cond]});
    loop {
        // Deadline.
        if deadline.is_some_and(|d| start.elapsed() >= d) {
            for p in &active {
                p.kill(&inner).await;
            }
            sink.set_status(finish(
                json!({"type": "Failed", "status": "True", "reason": "DeadlineExceeded",
                       "message": "Job was active longer than specified deadline"}),
                succeeded,
                failed + active.len() as u32,
            ));
            return;
        }
        // Start pods.
        while (active.len() as u32) < parallelism
            && succeeded + (active.len() as u32) < completions
            && Instant::now() >= next_start
        {
            let name = format!("{}-{}", key.name, inner.names.next(&key, 5));
            let pod =
                RunningPod::start(&inner, pod_input(&key, &obj, &spec, name, BTreeMap::new()))
                    .await;
            sink.track(&pod);
            active.push(pod);
        }
        sink.mark_settled();
        // Observe.
        let mut still = Vec::new();
        for mut pod in active.drain(..) {
            pod.poll(&inner).await;
            sink.track(&pod);
            failed += pod.take_failures();
            match pod.phase() {
                PodPhase::Succeeded => succeeded += 1,
                PodPhase::Failed => {
                    failed += 1;
                    // Exponential backoff before the next pod: base, 2×base, 4×base… ≤ 6 min.
                    let exp = failed.saturating_sub(1).min(16);
                    let backoff =
                        |base: Duration| (base * 2u32.pow(exp)).min(CLUSTER_JOB_BACKOFF_MAX);
                    let delay = backoff(inner.opts.job_backoff_base);
                    next_start = Instant::now() + delay;
                    if failed <= backoff_limit {
                        inner.observe(Observation::Backoff {
                            at: std::time::SystemTime::now(),
                            waited: delay,
                            extra: backoff(CLUSTER_JOB_BACKOFF).saturating_sub(delay),
                        });
                    }
                }
                _ => still.push(pod),
            }
        }
        active = still;
        if failed > backoff_limit {
            for p in &active {
                p.kill(&inner).await;
            }
            sink.set_status(finish(
                json!({"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                       "message": "Job has reached the specified backoff limit"}),
                succeeded,
                failed,
            ));
            return;
        }
        if succeeded >= completions {
            sink.set_status(finish(
                json!({"type": "Complete", "status": "True"}),
                succeeded,
                failed,
            ));
            return;
        }
        sink.set_status(json!({"startTime": start_time, "active": active.len(), "succeeded": succeeded, "failed": failed}));
        kubelet::sleep_until_due(&inner, &active).await;
    }
}
