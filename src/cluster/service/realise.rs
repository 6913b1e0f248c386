//! Realising applied Services on the cluster: a proxy or plain DNS names (see the module docs),
//! and the names a new pod answers to.
use super::{proxy, realisation, Realisation, RealisedService, ServiceSpec};
use crate::{
    cluster::{error::Error, sim::Inner, DockerCluster},
    manifest::ObjectKey,
};
use serde_json::Value;
use std::collections::BTreeMap;

impl DockerCluster {
    /// Realises the Service `key` as applied (`obj`): creates its proxy when it needs one. A
    /// re-applied Service whose spec changed is realised again; an unchanged one is left alone.
    pub(in crate::cluster) async fn realise_service(
        &self,
        key: &ObjectKey,
        obj: &Value,
    ) -> Result<(), Error> {
        let Some(spec) = ServiceSpec::parse(obj, &key.namespace) else {
            self.forget_service(key).await;
            return Ok(());
        };
        if self
            .inner
            .services()
            .get(key)
            .is_some_and(|r| r.spec == spec)
        {
            return Ok(());
        }
        self.forget_service(key).await;
        let probed = self
            .inner
            .desired_pods()
            .iter()
            .any(|d| d.probed && spec.selects(&spec.namespace, &d.labels));
        let pods_exist = self
            .inner
            .endpoints()
            .iter()
            .any(|e| spec.selects(&e.namespace, &e.labels));
        let how = realisation(&spec, probed, pods_exist);
        if how == Realisation::Proxy {
            proxy::check_image(&self.inner, &spec).await?;
        }
        tracing::debug!("Service {key}: {how:?}");
        // Services applied together are realised concurrently: finding a proxy to share and
        // recording the choice happen under one lock.
        let mut services = self.inner.services();
        let proxy = match how {
            Realisation::Proxy => {
                // A hook may be deleted mid-sync by its policy: it keeps a proxy of its own.
                let open = if crate::health::is_hook(obj) {
                    Vec::new()
                } else {
                    services.values().filter_map(|r| r.proxy.clone()).collect()
                };
                Some(proxy::start(&self.inner, spec.clone(), open))
            }
            Realisation::PlainDns => None,
        };
        services.insert(key.clone(), RealisedService { spec, how, proxy });
        Ok(())
    }

    /// The Service `key` is gone: its proxy goes with it (pods keep plain names they got). The
    /// other Services of a shared proxy are realised again at once, on a proxy of their own:
    /// Docker cannot take one Service's names off a running container.
    pub(in crate::cluster) async fn forget_service(&self, key: &ObjectKey) {
        let gone = self.inner.services().remove(key);
        let Some(proxy) = gone.and_then(|r| r.proxy) else {
            return;
        };
        let others: Vec<ObjectKey> = self
            .inner
            .services()
            .iter()
            .filter(|(_, r)| r.proxy.as_ref().is_some_and(|p| p.same(&proxy)))
            .map(|(k, _)| k.clone())
            .collect();
        let id = proxy.stopped().await;
        match self.inner.rt.remove_container(proxy.container()).await {
            Ok(()) => {
                if let Some(id) = id {
                    self.inner.ledger.forget(&id);
                }
            }
            Err(e) => tracing::warn!("failed to remove Service proxy: {e}"),
        }
        for other in others {
            self.inner.services().remove(&other);
            let obj = self.inner.store().get(&other).map(|e| e.object.clone());
            if let Some(obj) = obj {
                if let Err(e) = Box::pin(self.realise_service(&other, &obj)).await {
                    tracing::warn!("{other}: {e}");
                }
            }
        }
    }

    /// What the applied Services cost: proxies, their setup time and endpoint updates.
    pub fn service_costs(&self) -> super::ServiceCosts {
        let mut c = super::ServiceCosts::default();
        let mut counted: Vec<proxy::ProxyHandle> = Vec::new();
        for r in self.inner.services().values() {
            match &r.proxy {
                Some(p) => {
                    c.proxied += 1;
                    if counted.iter().any(|q| q.same(p)) {
                        continue;
                    }
                    c.proxies += 1;
                    c.proxy_setup += p.setup().unwrap_or_default();
                    c.endpoint_updates += p.updates();
                    counted.push(p.clone());
                }
                None => c.plain_dns += 1,
            }
        }
        c
    }

    /// Stops feeding every proxy its endpoints (teardown, `--keep`).
    pub(in crate::cluster) fn stop_service_proxies(&self) {
        for r in self.inner.services().values() {
            if let Some(p) = &r.proxy {
                p.stop();
            }
        }
    }

    /// Waits until every proxy's setup is over, so that what teardown or `--keep` records holds
    /// every container (a proxy is created in the background after its Service's apply).
    pub(in crate::cluster) async fn proxies_set_up(&self) {
        proxies_set_up(&self.inner, u64::MAX).await;
    }

    /// Realises the Services of an adopted environment again (their proxies are replaced).
    pub(in crate::cluster) async fn realise_kept_services(&self) {
        let services: Vec<(ObjectKey, Value)> = self
            .inner
            .store()
            .iter()
            .filter(|(k, _)| k.group.is_empty() && k.kind == "Service")
            .map(|(k, e)| (k.clone(), e.object.clone()))
            .collect();
        for (key, obj) in services {
            if let Err(e) = self.realise_service(&key, &obj).await {
                tracing::warn!("{key}: {e}");
            }
        }
    }
}

/// Waits until the proxies of the Services applied in a step before `step` are set up
/// (started, or failed).
///
/// A pod waits for the Services of earlier steps before its containers start: on a cluster a
/// Service's name and routing exist milliseconds after it is created, long before a pod
/// created in a later step starts, and such a pod may connect at once. A pod of the Service's
/// own step does not wait (on a cluster both are created together, and here the proxy is set
/// up while the pod's containers are, so the wave pays for one setup, not two in a row).
pub(crate) async fn proxies_set_up(inner: &Inner, step: u64) {
    let waits: Vec<_> = inner
        .services()
        .values()
        .filter_map(|r| r.proxy.as_ref().filter(|p| p.step() < step))
        .map(|p| p.set_up_signal())
        .collect();
    for mut rx in waits {
        let _ = rx.wait_for(|done| *done).await;
    }
}

/// The names a pod starting now answers to: its own, the names of the applied plain-DNS
/// Services that select it, and `<pod>.<svc>…` for the applied headless ones.
pub(crate) fn pod_aliases(
    inner: &Inner,
    namespace: &str,
    pod: &str,
    labels: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut out = vec![pod.to_string()];
    for r in inner.services().values() {
        if !r.spec.selects(namespace, labels) {
            continue;
        }
        let mut names = Vec::new();
        if r.how == Realisation::PlainDns {
            names.extend(r.spec.names(""));
        }
        if r.spec.headless {
            names.extend(r.spec.names(&format!("{pod}.")));
        }
        for n in names {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}
