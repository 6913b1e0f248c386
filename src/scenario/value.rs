//! Typed scalar values of a scenario file, each checked while deserializing so that errors
//! carry the file's line and column: durations, regular expressions, step references.
use regex::Regex;
use serde::{de, Deserialize, Deserializer};
use std::{fmt, time::Duration};

/// A duration: `3s`, `500ms`, `2m`, or an integer number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Secs(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Secs(s) => Ok(Dur(Duration::from_secs(s))),
            Raw::Text(t) => humantime::parse_duration(&t).map(Dur).map_err(|e| {
                de::Error::custom(format!(
                    "`{t}` is not a duration: {e} (write e.g. 3s, 500ms or 2m)"
                ))
            }),
        }
    }
}

/// A regular expression (Rust `regex` syntax), searched anywhere in the text: a plain word is a
/// substring match, `^…$` anchors.
#[derive(Debug, Clone)]
pub struct Pattern(pub Regex);

impl Pattern {
    pub fn is_match(&self, text: &str) -> bool {
        self.0.is_match(text)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/", self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Regex::new(&s).map(Pattern).map_err(|e| {
            de::Error::custom(format!(
                "`{s}` is not a valid regular expression: {e} (escape special characters with \\\\, e.g. `V3__broken\\\\.sql`)"
            ))
        })
    }
}

/// A step reference: `Phase/wave`, e.g. `PostSync/2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepRef {
    pub phase: crate::plan::Phase,
    pub wave: i64,
}

impl fmt::Display for StepRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.phase, self.wave)
    }
}

impl std::str::FromStr for StepRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        use crate::plan::Phase;
        let bad = || format!("`{s}` is not a step (write Phase/wave, e.g. PostSync/2 or Sync/0)");
        let (p, w) = s.split_once('/').ok_or_else(bad)?;
        let phase = match p {
            "PreSync" => Phase::PreSync,
            "Sync" => Phase::Sync,
            "PostSync" => Phase::PostSync,
            "SyncFail" => Phase::SyncFail,
            _ => return Err(bad()),
        };
        let wave = w.trim().parse().map_err(|_| bad())?;
        Ok(StepRef { phase, wave })
    }
}

impl<'de> Deserialize<'de> for StepRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}
