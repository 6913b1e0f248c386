//! Where records live, and reading/writing them atomically.
use super::record::{EnvRecord, RECORD_VERSION};
use std::path::{Path, PathBuf};

/// Errors reading or writing a record.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Neither `SYNCSIM_STATE_DIR`, `XDG_STATE_HOME` nor `HOME` is set.
    #[error("cannot find a state directory (set SYNCSIM_STATE_DIR, XDG_STATE_HOME or HOME)")]
    NoStateDir,
    /// Reading, writing or removing the file failed.
    #[error("failed to {op} the environment record `{}`", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a record of this version.
    #[error("the environment record `{}` is unreadable (remove it with `syncsim down --app <app>`)", path.display())]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// Another process is operating on the app (see [`super::AppLock`]).
    #[error("app `{app}` is busy: {holder} is operating on it; wait for it to end, stop it (Ctrl-C), or use another `--app`")]
    Locked { app: String, holder: String },
    /// A record written by an incompatible syncsim.
    #[error("the environment record `{}` has version {found}, this syncsim reads {RECORD_VERSION} (run `syncsim down --app <app>`)", path.display())]
    Version { path: PathBuf, found: u32 },
}

/// `$SYNCSIM_STATE_DIR`, else `$XDG_STATE_HOME/syncsim`, else `$HOME/.local/state/syncsim`.
pub fn state_dir() -> Result<PathBuf, StateError> {
    let var = |k| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = var("SYNCSIM_STATE_DIR") {
        return Ok(d);
    }
    if let Some(d) = var("XDG_STATE_HOME") {
        return Ok(d.join("syncsim"));
    }
    var("HOME")
        .map(|h| h.join(".local/state/syncsim"))
        .ok_or(StateError::NoStateDir)
}

/// Creates the state directory `dir` (mode 0700: records name what runs and locks name who
/// runs it). A directory syncsim owns is tightened to 0700 when an older syncsim made it
/// wider; a directory of `SYNCSIM_STATE_DIR` shared with others (sticky, like `/tmp`) is left
/// as it is.
///
/// # Errors
///
/// [`StateError::Io`] when it cannot be created.
pub fn ensure_dir(dir: &Path) -> Result<(), StateError> {
    let io = |source| StateError::Io {
        op: "create the state directory",
        path: dir.to_path_buf(),
        source,
    };
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        b.mode(0o700);
        b.create(dir).map_err(io)?;
        let meta = std::fs::metadata(dir).map_err(io)?;
        // SAFETY: getuid has no preconditions.
        let me = unsafe { libc::getuid() };
        let sticky = meta.mode() & 0o1000 != 0;
        if meta.uid() == me && !sticky && meta.mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        }
    }
    #[cfg(not(unix))]
    b.create(dir).map_err(io)?;
    Ok(())
}

/// The record file of `app`.
pub fn record_path(app: &str) -> Result<PathBuf, StateError> {
    Ok(state_dir()?.join(format!("{app}.json")))
}

impl EnvRecord {
    /// Reads `app`'s record; `Ok(None)` when there is none.
    pub fn load(app: &str) -> Result<Option<EnvRecord>, StateError> {
        Self::load_from(&record_path(app)?)
    }

    pub fn load_from(path: &Path) -> Result<Option<EnvRecord>, StateError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StateError::Io {
                    op: "read",
                    path: path.into(),
                    source,
                })
            }
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| StateError::Corrupt {
                path: path.into(),
                source,
            })?;
        let found = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
        if found != RECORD_VERSION {
            return Err(StateError::Version {
                path: path.into(),
                found,
            });
        }
        serde_json::from_value(value)
            .map(Some)
            .map_err(|source| StateError::Corrupt {
                path: path.into(),
                source,
            })
    }

    /// Writes the record (to a temporary file, mode 0600, then renamed over the old one).
    /// Secret data is written as salted hashes, never as values ([`super::secret`]).
    pub fn save(&self) -> Result<PathBuf, StateError> {
        self.save_in(&state_dir()?)
    }

    /// [`Self::save`] into the state directory `dir`.
    pub fn save_in(&self, dir: &Path) -> Result<PathBuf, StateError> {
        let path = dir.join(format!("{}.json", self.app));
        let io = |op, source| StateError::Io {
            op,
            path: path.clone(),
            source,
        };
        ensure_dir(dir)?;
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(&self.redacted()).expect("a record serializes");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        {
            use std::io::Write;
            let _ = std::fs::remove_file(&tmp);
            let mut f = opts.open(&tmp).map_err(|e| io("write", e))?;
            f.write_all(text.as_bytes()).map_err(|e| io("write", e))?;
        }
        std::fs::rename(&tmp, &path).map_err(|e| io("write", e))?;
        Ok(path)
    }

    /// Removes `app`'s record; a missing record is success. Returns whether one existed.
    pub fn remove(app: &str) -> Result<bool, StateError> {
        let path = record_path(app)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(StateError::Io {
                op: "remove",
                path,
                source,
            }),
        }
    }

    /// Every record in the state directory (for `down --all`).
    pub fn list_apps() -> Result<Vec<String>, StateError> {
        let dir = state_dir()?;
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(Vec::new());
        };
        let mut apps: Vec<String> = entries
            .flatten()
            .filter_map(|e| {
                let p = e.path();
                if p.extension()? != "json" {
                    return None;
                }
                Some(p.file_stem()?.to_string_lossy().to_string())
            })
            .collect();
        apps.sort();
        Ok(apps)
    }
}
