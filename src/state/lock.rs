//! One app, one operation: an advisory lock per app, `<state dir>/<app>.lock`.
//!
//! `sync`, `watch` and `down --app` take the app's lock before they create or remove anything
//! and hold it until they return (the [`AppLock`] guard; the kernel releases it when the
//! process dies, even by SIGKILL). The lock is `flock(2)` on the file, not the file's
//! existence, so a crashed run never blocks the next one. The holder writes its pid, command
//! and start time into the file so that a refused run can name it; a file that still names a
//! process when the lock is free was left by a run that did not end normally (stale): the next
//! run takes it over with a warning (and sweeps what that run left, see `rehearsal::env`).
use super::store::{ensure_dir, state_dir, StateError};
use std::{
    fs::File,
    io::{Read, Seek, SeekFrom, Write},
    path::PathBuf,
};

/// Who holds (or last held) an app's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub command: String,
    /// RFC 3339.
    pub started_at: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} (`{}`, started {})",
            self.pid, self.command, self.started_at
        )
    }
}

impl Holder {
    fn current(command: &str) -> Self {
        Self {
            pid: std::process::id(),
            command: command.to_string(),
            started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        }
    }

    fn to_text(&self) -> String {
        format!("{}\n{}\n{}\n", self.pid, self.started_at, self.command)
    }

    /// Parses what [`Self::to_text`] wrote; `None` for an empty (released) or garbled file.
    fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines();
        let pid = lines.next()?.trim().parse().ok()?;
        let started_at = lines.next()?.to_string();
        let command = lines.next().unwrap_or("").to_string();
        Some(Self {
            pid,
            command,
            started_at,
        })
    }
}

/// The app's lock, held until dropped.
#[derive(Debug)]
pub struct AppLock {
    file: File,
    path: PathBuf,
    /// A stale holder this lock took over (for the caller's warning and sweep).
    pub took_over: Option<Holder>,
}

impl AppLock {
    /// Takes `app`'s lock for `command` (e.g. `syncsim sync k8s/overlays/local`), at once or
    /// not at all.
    ///
    /// # Errors
    ///
    /// [`StateError::Locked`] naming the holder when another process holds it; I/O errors of
    /// the state directory otherwise.
    pub fn acquire(app: &str, command: &str) -> Result<Self, StateError> {
        Self::acquire_in(&state_dir()?, app, command)
    }

    /// [`Self::acquire`] in the state directory `dir`.
    ///
    /// # Errors
    ///
    /// See [`Self::acquire`].
    pub fn acquire_in(dir: &std::path::Path, app: &str, command: &str) -> Result<Self, StateError> {
        ensure_dir(dir)?;
        let path = dir.join(format!("{app}.lock"));
        let io = |op, source| StateError::Io {
            op,
            path: path.clone(),
            source,
        };
        let mut opts = std::fs::OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts.open(&path).map_err(|e| io("open the lock", e))?;
        if !try_lock(&file).map_err(|e| io("lock", e))? {
            // The holder writes who it is right after taking the lock: give it a moment.
            let mut holder = None;
            for _ in 0..25 {
                let mut text = String::new();
                let _ = file.seek(SeekFrom::Start(0));
                let _ = file.read_to_string(&mut text);
                holder = Holder::parse(&text);
                if holder.is_some() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            return Err(StateError::Locked {
                app: app.to_string(),
                holder: holder
                    .map_or_else(|| "another syncsim process".to_string(), |h| h.to_string()),
            });
        }
        let mut text = String::new();
        file.read_to_string(&mut text)
            .map_err(|e| io("read the lock", e))?;
        let took_over = Holder::parse(&text);
        let me = Holder::current(command);
        file.set_len(0).map_err(|e| io("write the lock", e))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| io("write the lock", e))?;
        file.write_all(me.to_text().as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| io("write the lock", e))?;
        Ok(Self {
            file,
            path,
            took_over,
        })
    }

    /// Whether `app`'s lock is held by a process right now, and by whom (for `down --all`).
    ///
    /// # Errors
    ///
    /// I/O errors of the state directory.
    pub fn holder(app: &str) -> Result<Option<String>, StateError> {
        match Self::acquire(app, "syncsim down (probe)") {
            Ok(lock) => {
                drop(lock);
                Ok(None)
            }
            Err(StateError::Locked { holder, .. }) => Ok(Some(holder)),
            Err(e) => Err(e),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for AppLock {
    /// Releases the lock: the file is emptied (a clean end leaves no holder), then unlocked by
    /// closing it. The file itself stays: removing it would race with a process waiting on it.
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a file descriptor we own; no memory is passed.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    if err.kind() == std::io::ErrorKind::WouldBlock {
        Ok(false)
    } else {
        Err(err)
    }
}

#[cfg(not(unix))]
fn try_lock(_file: &File) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_per_app_the_refusal_names_it_and_a_release_frees_it() {
        let dir = tempfile::tempdir().unwrap();
        let acquire = |app, cmd| AppLock::acquire_in(dir.path(), app, cmd);
        let first = acquire("lock-a", "syncsim sync x").unwrap();
        assert!(first.took_over.is_none());
        // flock is per open file description: a second open in this process conflicts too.
        let err = acquire("lock-a", "syncsim sync y").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("lock-a"), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains("`syncsim sync x`"), "{msg}");
        // A different app is independent.
        let other = acquire("lock-b", "syncsim sync z").unwrap();
        drop(other);
        drop(first);
        let again = acquire("lock-a", "syncsim sync y").unwrap();
        assert!(
            again.took_over.is_none(),
            "a clean release leaves no holder"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(again.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_lock_left_by_a_dead_process_is_taken_over_and_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("lock-stale.lock"),
            "999999999\n2026-12-01T00:00:00Z\nsyncsim sync old\n",
        )
        .unwrap();
        let lock = AppLock::acquire_in(dir.path(), "lock-stale", "syncsim sync new").unwrap();
        let old = lock.took_over.clone().unwrap();
        assert_eq!(old.pid, 999_999_999);
        assert_eq!(old.command, "syncsim sync old");
    }
}
