//! Pods the kubelet cannot start yet (a missing ConfigMap/Secret/key, an image that cannot be
//! pulled): on a cluster they stay Pending and Argo CD waits. Kept here so the rehearsal can show
//! them as they happen and name them when it gives up.
use crate::manifest::ObjectKey;
use std::{collections::BTreeMap, sync::Mutex};

/// One pod waiting to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodWaiting {
    /// The object the pod belongs to.
    pub owner: ObjectKey,
    pub pod: String,
    /// The kubelet's reason, e.g. `CreateContainerConfigError`, `ImagePullBackOff`.
    pub reason: String,
    /// The kubelet's message, e.g. `couldn't find key K in Secret ns/name`.
    pub message: String,
}

impl std::fmt::Display for PodWaiting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pod {} of {}/{} is Pending: {}: {}",
            self.pod, self.owner.kind, self.owner.name, self.reason, self.message
        )
    }
}

/// The pods waiting now, and what was not reported yet.
#[derive(Debug, Default)]
pub(crate) struct WaitingPods {
    inner: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Pod name → why it waits now.
    current: BTreeMap<String, PodWaiting>,
    /// New waits (a pod, or a new reason of a pod) not taken yet.
    fresh: Vec<PodWaiting>,
}

impl WaitingPods {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The pod waits for `w.reason`; reported once per pod and reason.
    pub fn waiting(&self, w: PodWaiting) {
        let mut s = self.lock();
        let new = s
            .current
            .get(&w.pod)
            .is_none_or(|old| old.reason != w.reason || old.message != w.message);
        if new {
            s.fresh.push(w.clone());
        }
        s.current.insert(w.pod.clone(), w);
    }

    /// The pod started (or is gone).
    pub fn started(&self, pod: &str) {
        self.lock().current.remove(pod);
    }

    /// New waits since the last call.
    pub fn take_fresh(&self) -> Vec<PodWaiting> {
        std::mem::take(&mut self.lock().fresh)
    }

    /// Every pod waiting now.
    pub fn current(&self) -> Vec<PodWaiting> {
        self.lock().current.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(pod: &str, reason: &str) -> PodWaiting {
        PodWaiting {
            owner: ObjectKey {
                group: "apps".into(),
                kind: "Deployment".into(),
                namespace: "default".into(),
                name: "web".into(),
            },
            pod: pod.into(),
            reason: reason.into(),
            message: "m".into(),
        }
    }

    #[test]
    fn a_wait_is_reported_once_and_forgotten_when_the_pod_starts() {
        let pods = WaitingPods::default();
        pods.waiting(w("web-1", "ImagePullBackOff"));
        pods.waiting(w("web-1", "ImagePullBackOff"));
        assert_eq!(pods.take_fresh().len(), 1);
        assert!(pods.take_fresh().is_empty());
        pods.waiting(w("web-1", "CreateContainerConfigError"));
        assert_eq!(pods.take_fresh()[0].reason, "CreateContainerConfigError");
        assert_eq!(pods.current().len(), 1);
        pods.started("web-1");
        assert!(pods.current().is_empty());
    }
}
