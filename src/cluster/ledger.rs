//! The cleanup ledger: every Docker object syncsim creates is recorded the moment it exists,
//! and teardown removes containers, then networks, then volumes.
use crate::runtime::{ContainerRuntime, ListedKind};
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Ledger {
    entries: Mutex<Vec<(ListedKind, String)>>,
    /// Id → name of the containers recorded with [`Ledger::record_container`]: a network
    /// endpoint is named after its container, which is how a stale one is removed.
    container_names: Mutex<std::collections::HashMap<String, String>>,
}

/// What teardown removed, and what it could not.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TeardownReport {
    pub containers: usize,
    pub networks: usize,
    pub volumes: usize,
    pub errors: Vec<String>,
}

impl TeardownReport {
    /// Counts one removed object.
    pub fn count(&mut self, kind: ListedKind) {
        match kind {
            ListedKind::Container => self.containers += 1,
            ListedKind::Network => self.networks += 1,
            ListedKind::Volume => self.volumes += 1,
        }
    }
}

impl Ledger {
    pub fn record(&self, kind: ListedKind, id: impl Into<String>) {
        self.lock().push((kind, id.into()));
    }

    /// Records a container with its name (see [`Ledger::teardown`]).
    pub fn record_container(&self, id: &str, name: &str) {
        self.record(ListedKind::Container, id);
        self.container_names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string(), name.to_string());
    }

    /// Forgets an object that was already removed (a deleted hook's containers).
    pub fn forget(&self, id: &str) {
        self.lock().retain(|(_, i)| i != id);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(ListedKind, String)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Removes everything recorded: containers (with their anonymous volumes) first, then
    /// networks, then volumes. Containers get `grace` to stop on SIGTERM first; zero removes
    /// them at once (their data goes with them anyway).
    ///
    /// Each object is forgotten only once removed: a teardown abandoned half-way (a second
    /// Ctrl-C drops the graceful one to start a forced one) leaves the rest to the next.
    pub async fn teardown(&self, rt: &dyn ContainerRuntime, grace: Duration) -> TeardownReport {
        let mut entries = self.lock().clone();
        entries.sort_by_key(|(k, _)| *k);
        let mut report = TeardownReport::default();
        let containers: Vec<&String> = entries
            .iter()
            .filter(|(k, _)| *k == ListedKind::Container)
            .map(|(_, id)| id)
            .collect();
        if !grace.is_zero() {
            let stops = containers.iter().map(|id| rt.stop_container(id, grace));
            for r in futures_util::future::join_all(stops).await {
                if let Err(e) = r {
                    tracing::debug!("stop during teardown: {e}");
                }
            }
        }
        let removals = containers.iter().map(|id| rt.remove_container(id));
        let results = futures_util::future::join_all(removals).await;
        for (id, r) in containers.iter().zip(results) {
            match r {
                Ok(()) => {
                    report.containers += 1;
                    self.forget(id);
                }
                Err(e) => report.errors.push(crate::error::render_chain(&e)),
            }
        }
        // Networks, then volumes (sorted by kind), each kind at once.
        for kind in [ListedKind::Network, ListedKind::Volume] {
            let of_kind: Vec<&String> = entries
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, id)| id)
                .collect();
            let removals = of_kind.iter().map(|id| self.remove(rt, kind, id));
            let results = futures_util::future::join_all(removals).await;
            for (id, r) in of_kind.iter().zip(results) {
                match r {
                    Ok(()) => {
                        report.count(kind);
                        self.forget(id);
                    }
                    Err(e) => report.errors.push(crate::error::render_chain(&e)),
                }
            }
        }
        report
    }

    /// Removes one network or volume. A network the engine still thinks has endpoints after
    /// every container is gone (Docker 20.10 can keep a stale endpoint when a container is
    /// removed while being started under load) is force-disconnected from each container this
    /// run created and removed since, by name, and removed again: Docker's own remedy
    /// (`docker network disconnect --force NETWORK CONTAINER`). A container still there keeps
    /// its network (the next teardown removes both).
    async fn remove(
        &self,
        rt: &dyn ContainerRuntime,
        kind: ListedKind,
        id: &str,
    ) -> crate::runtime::Result<()> {
        let first = rt.remove_listed(kind, id).await;
        if first.is_ok() || kind != ListedKind::Network {
            return first;
        }
        let left: Vec<String> = self.lock().iter().map(|(_, id)| id.clone()).collect();
        let names: Vec<String> = self
            .container_names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(id, _)| !left.contains(id))
            .map(|(_, name)| name.clone())
            .collect();
        if names.is_empty() {
            return first;
        }
        tracing::debug!("network {id} not removed, removing stale endpoints: {first:?}");
        for name in &names {
            let _ = rt.disconnect_network(id, name).await;
        }
        rt.remove_listed(kind, id).await
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        let n = self.lock().len();
        if n > 0 && !std::thread::panicking() {
            tracing::debug!("ledger dropped with {n} objects not torn down (kept or leaked)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{
        fake::{FakeRuntime, Op},
        ContainerSpec, NetworkSpec,
    };

    #[tokio::test]
    async fn a_network_that_still_has_endpoints_is_cleared_by_container_name_then_removed() {
        // The first removal fails as Docker's does with a stale endpoint ("has active
        // endpoints" although no container is attached any more).
        let rt = FakeRuntime::new().fail_op_times(Op::RemoveNetwork, "net", 1);
        let ledger = Ledger::default();
        let net = rt
            .create_network(&NetworkSpec {
                name: "net".into(),
                ..NetworkSpec::default()
            })
            .await
            .unwrap();
        ledger.record(ListedKind::Network, &net);
        let id = rt
            .create_container(&ContainerSpec {
                name: "web-0".into(),
                image: "x".into(),
                ..ContainerSpec::default()
            })
            .await
            .unwrap();
        ledger.record_container(&id, "web-0");
        let report = ledger.teardown(&rt, Duration::ZERO).await;
        assert_eq!((report.containers, report.networks), (1, 1), "{report:?}");
        assert!(report.errors.is_empty(), "{report:?}");
        let log = rt.call_log();
        let disconnect = log.iter().position(|c| c.starts_with("disconnect web-0"));
        let removals: Vec<usize> = log
            .iter()
            .enumerate()
            .filter(|(_, c)| c.starts_with("remove-network"))
            .map(|(i, _)| i)
            .collect();
        assert!(
            matches!((disconnect, removals.as_slice()), (Some(d), [a, b]) if a < &d && &d < b),
            "removed, force-disconnected by name, removed again: {log:#?}"
        );
        assert!(ledger.is_empty());
    }
}
