//! The cleanup ledger: every Docker object syncsim creates is recorded the moment it exists,
//! and teardown removes containers, then networks, then volumes.
use crate::runtime::{ContainerRuntime, ListedKind};
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Ledger {
    entries: Mutex<Vec<(ListedKind, String)>>,
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
            let removals = of_kind.iter().map(|id| rt.remove_listed(kind, id));
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
}

impl Drop for Ledger {
    fn drop(&mut self) {
        let n = self.lock().len();
        if n > 0 && !std::thread::panicking() {
            tracing::debug!("ledger dropped with {n} objects not torn down (kept or leaked)");
        }
    }
}
