//! What `syncsim watch` polls: a fingerprint of every file a source depends on.
//!
//! Polling (default every 500 ms) instead of inotify (`notify`): no new dependency, and it works
//! the same on every filesystem (bind mounts, network shares, editors that replace files). The
//! cost of one poll is a walk of the source plus reading and hashing every file it holds (by
//! content, see [`fingerprint`]), so it grows with the size of the source, not only with the
//! number of files. Kustomize sources reach outside their folder (`../../base`), so the
//! directories and files named in `resources`, `components`, `bases` and `patches[].path` of
//! every kustomization are followed too.
use crate::digest::{self, Digest, Hasher};
use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

/// A fingerprint of `source` (a file or a directory): equal fingerprints mean nothing changed.
/// Covers the path and content of every file (content, not mtime: an editor that rewrites a
/// file unchanged does not trigger a sync; an edit within the mtime resolution still does).
pub fn fingerprint(source: &Path) -> String {
    let mut files: BTreeSet<PathBuf> = BTreeSet::new();
    let mut seen_dirs: BTreeSet<PathBuf> = BTreeSet::new();
    collect(source, &mut files, &mut seen_dirs);
    let mut h = Hasher::new();
    for f in &files {
        let path = f.to_string_lossy();
        h.update(format!("{} {path}\0", path.len()).as_bytes());
        match digest::file_sha256(f) {
            Ok(content) => h.update(content),
            Err(_) => h.update(b"unreadable"),
        }
    }
    digest::to_hex(h.finalize())
}

fn collect(path: &Path, files: &mut BTreeSet<PathBuf>, dirs: &mut BTreeSet<PathBuf>) {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if path.is_file() {
        files.insert(path);
        return;
    }
    if !path.is_dir() || !dirs.insert(path.clone()) {
        return;
    }
    for entry in digest::walk(&path, true).flatten() {
        let p = entry.path();
        if entry.file_type().is_file() {
            files.insert(p.to_path_buf());
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if matches!(
                name,
                "kustomization.yaml" | "kustomization.yml" | "Kustomization"
            ) {
                let base = p.parent().unwrap_or(Path::new("."));
                for r in kustomize_refs(p) {
                    if !r.contains("://") && !r.starts_with("git@") {
                        collect(&base.join(r), files, dirs);
                    }
                }
            }
        }
    }
}

/// Local paths a kustomization refers to.
fn kustomize_refs(file: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(&text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in ["resources", "components", "bases", "patchesStrategicMerge"] {
        if let Some(items) = doc.get(key).and_then(|v| v.as_sequence()) {
            out.extend(items.iter().filter_map(|v| v.as_str().map(String::from)));
        }
    }
    if let Some(items) = doc.get("patches").and_then(|v| v.as_sequence()) {
        out.extend(
            items
                .iter()
                .filter_map(|p| p.get("path").and_then(|v| v.as_str()).map(String::from)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_kustomize_bases_outside_the_folder() {
        let root = tempfile::tempdir().unwrap();
        let base = root.path().join("base");
        let overlay = root.path().join("overlays/dev");
        std::fs::create_dir_all(&base).unwrap();
        std::fs::create_dir_all(&overlay).unwrap();
        std::fs::write(base.join("job.yaml"), "a: 1\n").unwrap();
        std::fs::write(
            overlay.join("kustomization.yaml"),
            "resources:\n  - ../../base\n",
        )
        .unwrap();
        let f0 = fingerprint(&overlay);
        assert_eq!(fingerprint(&overlay), f0, "stable");
        std::fs::write(base.join("job.yaml"), "a: 2\n").unwrap();
        let f1 = fingerprint(&overlay);
        assert_ne!(f1, f0, "a change in the base is seen");
        std::fs::write(base.join("other.yaml"), "b: 1\n").unwrap();
        assert_ne!(fingerprint(&overlay), f1, "a new file is seen");
    }
}
