//! Generated pod names, drawn ahead for the pods of the next step.
//!
//! Kubernetes names a Deployment's pods `<name>-<pod-template-hash>-<5 random>` and a Job's
//! `<name>-<5 random>`. The suffixes are random here too, but may be drawn before the object is
//! applied, so that its pods' containers can be created ahead under their final names
//! (`kubelet/prepared.rs`); the controller then takes the drawn suffixes, in order, before
//! drawing new ones.
use crate::manifest::ObjectKey;
use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
};

/// A short random suffix like Kubernetes' generated names.
pub(super) fn suffix(n: usize) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    id.chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        .take(n)
        .collect()
}

/// Suffixes drawn ahead, per object and length.
#[derive(Debug, Default)]
pub(crate) struct ReservedNames {
    drawn: Mutex<HashMap<(ObjectKey, usize), VecDeque<String>>>,
}

impl ReservedNames {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(ObjectKey, usize), VecDeque<String>>> {
        self.drawn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Draws a suffix of `n` characters for `key` now, to be handed out by [`Self::next`].
    pub fn reserve(&self, key: &ObjectKey, n: usize) -> String {
        let s = suffix(n);
        self.lock()
            .entry((key.clone(), n))
            .or_default()
            .push_back(s.clone());
        s
    }

    /// The next suffix of `n` characters for `key`: the oldest reserved one, else a new one.
    pub fn next(&self, key: &ObjectKey, n: usize) -> String {
        let mut drawn = self.lock();
        match drawn
            .get_mut(&(key.clone(), n))
            .and_then(VecDeque::pop_front)
        {
            Some(s) => s,
            None => {
                drop(drawn);
                suffix(n)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> ObjectKey {
        ObjectKey {
            group: "apps".into(),
            kind: "Deployment".into(),
            namespace: "ns".into(),
            name: name.into(),
        }
    }

    #[test]
    fn reserved_suffixes_come_back_in_order_per_object_and_length_then_new_ones() {
        let names = ReservedNames::default();
        let a = names.reserve(&key("web"), 5);
        let b = names.reserve(&key("web"), 5);
        let h = names.reserve(&key("web"), 10);
        assert_eq!(names.next(&key("other"), 5).len(), 5);
        assert_eq!(names.next(&key("web"), 10), h);
        assert_eq!(names.next(&key("web"), 5), a);
        assert_eq!(names.next(&key("web"), 5), b);
        let fresh = names.next(&key("web"), 5);
        assert_eq!(fresh.len(), 5);
        assert!(fresh
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    }
}
