//! Pure decisions: given what the engine has and what the context hashes to, build or skip.
use super::{BuildSource, Entry};
use crate::runtime::Labels;
use std::{collections::BTreeMap, fmt};

/// Image label holding the hash of the context an image was built from.
pub const LABEL_CONTEXT_HASH: &str = "dev.syncsim.context-hash";

/// Why an image is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The image is not present locally.
    Missing,
    /// The image carries another context hash than the current files give.
    ContextChanged,
    /// A Docker-build image is present but was not built by syncsim (no hash label), so its
    /// content cannot be vouched for: built once to label it.
    Unlabelled,
    /// `--force`.
    Forced,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::Missing => "missing",
            Reason::ContextChanged => "context changed",
            Reason::Unlabelled => "present but not built by syncsim",
            Reason::Forced => "forced",
        })
    }
}

/// Why an image is not built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Present with the current context hash.
    UpToDate,
    /// A custom build's image is present without a hash label (its command does not set it), so
    /// only a missing image triggers its build.
    PresentUnverified,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::UpToDate => "up to date",
            SkipReason::PresentUnverified => {
                "present (its build command does not label it, so only a missing image is rebuilt)"
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Build(Reason),
    Skip(SkipReason),
}

/// One planned step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildAction {
    /// Index of the entry in the config.
    pub index: usize,
    pub image: String,
    /// The current context hash (the label a build gives the image).
    pub hash: String,
    pub decision: Decision,
}

/// Decides for one image. `custom`: built by a command rather than by Docker; `hash`: the
/// current context hash; `state`: the image's labels, `None` when it is not present.
pub fn decide(custom: bool, hash: &str, state: Option<&Labels>, force: bool) -> Decision {
    if force {
        return Decision::Build(Reason::Forced);
    }
    let Some(labels) = state else {
        return Decision::Build(Reason::Missing);
    };
    match labels.get(LABEL_CONTEXT_HASH) {
        Some(have) if have == hash => Decision::Skip(SkipReason::UpToDate),
        Some(_) => Decision::Build(Reason::ContextChanged),
        None if custom => Decision::Skip(SkipReason::PresentUnverified),
        None => Decision::Build(Reason::Unlabelled),
    }
}

/// Decides for every entry, in config order. `hashes[i]` is the context hash of `entries[i]`;
/// `state` maps an image to its labels (`None` or absent: not present).
pub fn plan(
    entries: &[Entry],
    hashes: &[String],
    state: &BTreeMap<String, Option<Labels>>,
    force: bool,
) -> Vec<BuildAction> {
    entries
        .iter()
        .zip(hashes)
        .enumerate()
        .map(|(index, (entry, hash))| {
            let custom = matches!(entry.source, BuildSource::Custom { .. });
            let labels = state.get(&entry.image).and_then(Option::as_ref);
            BuildAction {
                index,
                image: entry.image.clone(),
                hash: hash.clone(),
                decision: decide(custom, hash, labels, force),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use test_case::test_case;

    fn labels(hash: Option<&str>) -> Labels {
        hash.map(|h| Labels::from([(LABEL_CONTEXT_HASH.to_string(), h.to_string())]))
            .unwrap_or_default()
    }

    #[test_case(false, None, Decision::Build(Reason::Missing); "docker missing builds")]
    #[test_case(true, None, Decision::Build(Reason::Missing); "custom missing builds")]
    #[test_case(false, Some(Some("h1")), Decision::Skip(SkipReason::UpToDate); "docker fresh skips")]
    #[test_case(true, Some(Some("h1")), Decision::Skip(SkipReason::UpToDate); "custom fresh skips")]
    #[test_case(false, Some(Some("h0")), Decision::Build(Reason::ContextChanged); "docker stale builds")]
    #[test_case(true, Some(Some("h0")), Decision::Build(Reason::ContextChanged); "custom stale builds")]
    #[test_case(false, Some(None), Decision::Build(Reason::Unlabelled); "docker unlabelled builds")]
    #[test_case(true, Some(None), Decision::Skip(SkipReason::PresentUnverified); "custom unlabelled skips")]
    fn decisions(custom: bool, state: Option<Option<&str>>, want: Decision) {
        let state = state.map(labels);
        assert_eq!(decide(custom, "h1", state.as_ref(), false), want);
        assert_eq!(
            decide(custom, "h1", state.as_ref(), true),
            Decision::Build(Reason::Forced)
        );
    }

    #[test]
    fn plan_keeps_config_order_and_pairs_hashes() {
        let entry = |image: &str, custom: bool| Entry {
            image: image.into(),
            location: "syncsim.yaml:1".into(),
            source: if custom {
                BuildSource::Custom {
                    command: vec!["make".into()],
                    dependencies: vec![],
                }
            } else {
                BuildSource::Docker {
                    context: PathBuf::from("."),
                    dockerfile: "Dockerfile".into(),
                    build_args: Default::default(),
                }
            },
        };
        let entries = [entry("b:1", true), entry("a:1", false), entry("c:1", false)];
        let hashes = ["hb".to_string(), "ha".to_string(), "hc".to_string()];
        let state = BTreeMap::from([
            ("b:1".to_string(), Some(labels(None))),
            ("a:1".to_string(), Some(labels(Some("ha")))),
            ("c:1".to_string(), None),
        ]);
        let actions = plan(&entries, &hashes, &state, false);
        let got: Vec<(&str, &str, &Decision)> = actions
            .iter()
            .map(|a| (a.image.as_str(), a.hash.as_str(), &a.decision))
            .collect();
        assert_eq!(
            got,
            [
                ("b:1", "hb", &Decision::Skip(SkipReason::PresentUnverified)),
                ("a:1", "ha", &Decision::Skip(SkipReason::UpToDate)),
                ("c:1", "hc", &Decision::Build(Reason::Missing)),
            ]
        );
        assert_eq!(actions[2].index, 2);
    }
}
