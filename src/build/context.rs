//! The files of a build: collecting them (applying `.dockerignore` as Docker does, see
//! [`super::dockerignore`]), hashing them into the label that says which content an image was
//! built from, and archiving them for the builder.
//!
//! The hash covers, in path order (so the traversal order does not matter): each entry's
//! relative path, kind (file, directory, symlink), permission bits and content (or link target),
//! plus whatever the caller adds (Dockerfile path, build args, custom command). Modification
//! times and owners are not hashed: a `git checkout` or a copy does not make an image stale.
//!
//! `.dockerignore` applies to Docker contexts only. The Dockerfile and `.dockerignore` are always
//! sent, as the Docker CLI does; a pattern Docker refuses (`!` alone, an unclosed `[`) is an
//! error here too.
use super::dockerignore::{Ignore, MatchInfo};
use crate::digest::{self, Digest, Hasher};
use std::{
    io,
    path::{Path, PathBuf},
};

/// One file system entry of a context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextEntry {
    /// `/`-separated path, relative to the context (or, for custom dependencies, the dependency
    /// as written joined with the path inside it).
    pub rel: String,
    pub abs: PathBuf,
    pub kind: EntryKind,
    /// Permission bits (`0o755`).
    pub mode: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink(PathBuf),
}

/// Collects the entries of `dir`, sorted by path. `rel_prefix` is prepended to relative paths
/// (empty for a Docker context). With `dockerignore`, `.dockerignore` in `dir` is applied the way
/// the Docker CLI applies it, `keep` (the Dockerfile) and `.dockerignore` being always sent.
///
/// # Errors
///
/// When the directory cannot be walked or read, or `.dockerignore` has a pattern Docker refuses
/// (`InvalidData`).
pub fn collect(
    dir: &Path,
    rel_prefix: &str,
    dockerignore: bool,
    keep: &[&str],
) -> io::Result<Vec<ContextEntry>> {
    let ignore = if dockerignore {
        match std::fs::read_to_string(dir.join(".dockerignore")) {
            Ok(text) => {
                let parsed = Ignore::parse(&text)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                keep.iter()
                    .fold(parsed, |ignore, file| ignore.keep_build_files(file))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ignore::default(),
            Err(e) => return Err(e),
        }
    } else {
        Ignore::default()
    };
    let mut out = Vec::new();
    // The directories above the current entry and what each matched (moby's `TarWithOptions`).
    let mut parents: Vec<(String, MatchInfo)> = Vec::new();
    let mut walker = digest::walk(dir, false);
    while let Some(item) = walker.next() {
        let item = item.map_err(io::Error::other)?;
        let rel_in = item
            .path()
            .strip_prefix(dir)
            .map_err(io::Error::other)?
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let is_dir = item.file_type().is_dir();
        while let Some((last, _)) = parents.last() {
            if rel_in.starts_with(&format!("{last}/")) {
                break;
            }
            parents.pop();
        }
        let (excluded, info) = ignore.matches_with_parent(&rel_in, parents.last().map(|p| &p.1));
        if is_dir {
            parents.push((rel_in.clone(), info));
        }
        if excluded {
            // An excluded directory is walked only when an exception names something below it.
            if is_dir && !(ignore.has_exclusions() && ignore.exception_below(&rel_in)) {
                walker.skip_current_dir();
            }
            continue;
        }
        let meta = item.path().symlink_metadata()?;
        let kind = if meta.file_type().is_symlink() {
            EntryKind::Symlink(std::fs::read_link(item.path())?)
        } else if is_dir {
            EntryKind::Dir
        } else {
            EntryKind::File
        };
        out.push(ContextEntry {
            rel: join_rel(rel_prefix, &rel_in),
            abs: item.path().to_path_buf(),
            kind,
            mode: mode(&meta),
        });
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// Collects one dependency of a custom build: a file or every entry under a directory.
pub fn collect_dependency(written: &str, path: &Path) -> io::Result<Vec<ContextEntry>> {
    let meta = path.symlink_metadata()?;
    if meta.is_dir() {
        let mut entries = vec![ContextEntry {
            rel: written.to_string(),
            abs: path.to_path_buf(),
            kind: EntryKind::Dir,
            mode: mode(&meta),
        }];
        entries.extend(collect(path, written, false, &[])?);
        Ok(entries)
    } else {
        let kind = if meta.file_type().is_symlink() {
            EntryKind::Symlink(std::fs::read_link(path)?)
        } else {
            EntryKind::File
        };
        Ok(vec![ContextEntry {
            rel: written.to_string(),
            abs: path.to_path_buf(),
            kind,
            mode: mode(&meta),
        }])
    }
}

fn join_rel(prefix: &str, rel: &str) -> String {
    if prefix.is_empty() {
        rel.to_string()
    } else {
        format!("{}/{rel}", prefix.trim_end_matches('/'))
    }
}

#[cfg(unix)]
fn mode(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode(meta: &std::fs::Metadata) -> u32 {
    if meta.is_dir() {
        0o755
    } else {
        0o644
    }
}

/// `sha256:<hex>` over `entries` (in path order, whatever order they come in) and `extra`
/// key/value pairs (in the given order). Reads every file.
pub fn hash(entries: &[ContextEntry], extra: &[(&str, &str)]) -> io::Result<String> {
    let mut sorted: Vec<&ContextEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.rel.cmp(&b.rel));
    let mut h = Hasher::new();
    h.update(b"syncsim-context-v1\n");
    for (k, v) in extra {
        h.update(format!("extra {} {}\n", k.len(), k).as_bytes());
        h.update(format!("{} {}\n", v.len(), v).as_bytes());
    }
    for e in sorted {
        h.update(format!("{} {}\0{:o}\0", e.rel.len(), e.rel, e.mode).as_bytes());
        match &e.kind {
            EntryKind::Dir => h.update(b"dir\n"),
            EntryKind::Symlink(target) => {
                h.update(format!("link {}\n", target.display()).as_bytes())
            }
            EntryKind::File => {
                h.update(b"file ");
                h.update(digest::to_hex(digest::file_sha256(&e.abs)?).as_bytes());
                h.update(b"\n");
            }
        }
    }
    Ok(format!("sha256:{}", digest::to_hex(h.finalize())))
}

/// An uncompressed tar of `entries` (owner root, real modification times), as the Docker CLI
/// sends a context.
pub fn tar(entries: &[ContextEntry]) -> io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for e in entries {
        let meta = e.abs.symlink_metadata()?;
        let mut header = tar::Header::new_gnu();
        header.set_mode(e.mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(
            meta.modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs()),
        );
        match &e.kind {
            EntryKind::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                builder.append_data(&mut header, format!("{}/", e.rel), io::empty())?;
            }
            EntryKind::Symlink(target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                builder.append_link(&mut header, &e.rel, target)?;
            }
            EntryKind::File => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(meta.len());
                let file = std::fs::File::open(&e.abs)?;
                builder.append_data(&mut header, &e.rel, file)?;
            }
        }
    }
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn write(dir: &Path, rel: &str, content: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    fn context_hash(dir: &Path) -> String {
        hash(&collect(dir, "", true, &["Dockerfile"]).unwrap(), &[]).unwrap()
    }

    fn sample() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "Dockerfile", "FROM x\n");
        write(dir.path(), "src/a.py", "print(1)\n");
        write(dir.path(), "src/b.py", "print(2)\n");
        dir
    }

    #[test]
    fn hash_is_stable_and_changes_with_content_names_and_modes() {
        let dir = sample();
        let first = context_hash(dir.path());
        assert!(
            first.starts_with("sha256:") && first.len() == 7 + 64,
            "{first}"
        );
        assert_eq!(context_hash(dir.path()), first, "same files, same hash");

        write(dir.path(), "src/a.py", "print(3)\n");
        let changed = context_hash(dir.path());
        assert_ne!(changed, first, "content change");

        write(dir.path(), "src/a.py", "print(1)\n");
        assert_eq!(context_hash(dir.path()), first, "back to the same content");

        std::fs::rename(dir.path().join("src/b.py"), dir.path().join("src/c.py")).unwrap();
        assert_ne!(context_hash(dir.path()), first, "rename");
        std::fs::rename(dir.path().join("src/c.py"), dir.path().join("src/b.py")).unwrap();

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let p = dir.path().join("src/a.py");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
            assert_ne!(context_hash(dir.path()), first, "mode change");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        std::fs::create_dir(dir.path().join("empty")).unwrap();
        assert_ne!(context_hash(dir.path()), first, "new directory");
    }

    #[test]
    fn hash_ignores_traversal_order_and_mtimes_but_not_extras() {
        let dir = sample();
        let entries = collect(dir.path(), "", false, &[]).unwrap();
        let mut reversed = entries.clone();
        reversed.reverse();
        assert_eq!(hash(&entries, &[]).unwrap(), hash(&reversed, &[]).unwrap());

        let before = hash(&entries, &[]).unwrap();
        let f = std::fs::File::options()
            .write(true)
            .open(dir.path().join("src/a.py"))
            .unwrap();
        f.set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(hash(&entries, &[]).unwrap(), before, "mtime is not content");

        let with_arg = hash(&entries, &[("arg APP_NAME", "shortlink")]).unwrap();
        assert_ne!(with_arg, before);
        assert_ne!(
            with_arg,
            hash(&entries, &[("arg APP_NAME", "admin")]).unwrap()
        );
    }

    #[test]
    fn dockerignore_excludes_from_hash_and_tar_but_keeps_the_dockerfile() {
        let dir = sample();
        write(dir.path(), "__pycache__/a.pyc", "junk");
        write(dir.path(), "src/__pycache__/b.pyc", "junk");
        write(dir.path(), "notes.md", "x");
        write(dir.path(), "keep.md", "x");
        write(
            dir.path(),
            ".dockerignore",
            "# caches\n**/__pycache__\n*.md\n!keep.md\nDockerfile\n[ab].py\n",
        );
        let entries = collect(dir.path(), "", true, &["Dockerfile"]).unwrap();
        let rels: Vec<&str> = entries.iter().map(|e| e.rel.as_str()).collect();
        assert_eq!(
            rels,
            [
                ".dockerignore",
                "Dockerfile",
                "keep.md",
                "src",
                "src/a.py",
                "src/b.py"
            ]
        );
        let before = hash(&entries, &[]).unwrap();
        write(dir.path(), "src/__pycache__/b.pyc", "other junk");
        write(dir.path(), "notes.md", "y");
        assert_eq!(
            context_hash(dir.path()),
            before,
            "ignored files do not count"
        );

        let archive = tar(&entries).unwrap();
        let mut names: Vec<String> = tar::Archive::new(archive.as_slice())
            .entries()
            .unwrap()
            .map(|e| {
                let name = e.unwrap().path().unwrap().display().to_string();
                name.trim_end_matches('/').to_string()
            })
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                ".dockerignore",
                "Dockerfile",
                "keep.md",
                "src",
                "src/a.py",
                "src/b.py"
            ]
        );
    }

    #[test_case("*.md", "README.md", true)]
    #[test_case("*.md", "docs/README.md", false; "star does not cross directories")]
    #[test_case("**/*.md", "docs/deep/README.md", true)]
    #[test_case("**/*.md", "README.md", true; "double star matches zero directories")]
    #[test_case("/build", "build/out/x", true; "leading slash and parent directories")]
    #[test_case("te?t", "test", true)]
    #[test_case("te?t", "tet", false)]
    #[test_case("docs", "docsx", false)]
    fn dockerignore_patterns(pattern: &str, path: &str, excluded: bool) {
        assert_eq!(Ignore::parse(pattern).unwrap().excludes(path), excluded);
    }

    fn rels(dir: &Path) -> Vec<String> {
        collect(dir, "", true, &["docker/Dockerfile"])
            .unwrap()
            .into_iter()
            .map(|e| e.rel)
            .collect()
    }

    // The walk of moby `pkg/archive/archive.go` (`TarWithOptions`) with the Docker CLI's
    // `TrimBuildFilesFromExcludes` (docker/cli `cli/command/image/build/context.go`).
    #[test]
    fn excluded_directories_are_entered_only_for_an_exception_below_them() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "docker/Dockerfile", "FROM x\n");
        write(dir.path(), "docker/notes.txt", "x");
        write(dir.path(), "docs/keep.md", "x");
        write(dir.path(), "docs/drop.md", "x");
        write(dir.path(), "vendor/lib.go", "x");
        write(dir.path(), "main.go", "x");
        write(
            dir.path(),
            ".dockerignore",
            "docker\ndocs\n!docs/keep.md\nvendor\n!**/*.go\n.dockerignore\n",
        );
        assert_eq!(
            rels(dir.path()),
            [
                // Excluded, then kept by the appended `!.dockerignore`.
                ".dockerignore",
                // `docker` is excluded, but the Dockerfile is kept (`!docker/Dockerfile`); the
                // directory entry itself is not sent, as with Docker.
                "docker/Dockerfile",
                "docs/keep.md",
                "main.go",
                // `vendor/lib.go` is gone: `!**/*.go` does not start with `vendor/`, so Docker
                // never walks into the excluded `vendor`.
            ]
        );
    }

    #[test]
    fn a_pattern_docker_refuses_is_an_error() {
        let dir = sample();
        write(dir.path(), ".dockerignore", "src\n!\n");
        let err = collect(dir.path(), "", true, &["Dockerfile"]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("`!`"), "{err}");
        write(dir.path(), ".dockerignore", "[a-\n");
        assert!(collect(dir.path(), "", true, &["Dockerfile"]).is_err());
        // Character classes work (they were skipped before).
        write(dir.path(), ".dockerignore", "src/[a]*.py\n");
        let got: Vec<String> = collect(dir.path(), "", true, &["Dockerfile"])
            .unwrap()
            .into_iter()
            .map(|e| e.rel)
            .collect();
        assert_eq!(got, [".dockerignore", "Dockerfile", "src", "src/b.py"]);
    }

    #[test]
    fn dependencies_hash_files_and_directories_under_their_written_name() {
        let dir = sample();
        let entries = collect_dependency("../ctx", dir.path()).unwrap();
        assert_eq!(entries[0].rel, "../ctx");
        assert!(entries.iter().any(|e| e.rel == "../ctx/src/a.py"));
        let single = collect_dependency("Dockerfile", &dir.path().join("Dockerfile")).unwrap();
        assert_eq!(single.len(), 1);
        assert_eq!(single[0].kind, EntryKind::File);
    }
}
