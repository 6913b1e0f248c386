//! SHA-256 over files and directory trees: the one walk and file digest shared by
//! `state::fingerprint` (what `watch` polls) and `build::context` (which content an image was
//! built from). A bottom module: it imports nothing from the crate.
use sha2::Sha256;
use std::{io, path::Path};

pub use sha2::{Digest, Sha256 as Hasher};

/// Lowercase hexadecimal of `bytes`.
pub fn to_hex(bytes: impl AsRef<[u8]>) -> String {
    hex::encode(bytes)
}

/// SHA-256 of `data`, in lowercase hexadecimal.
pub fn sha256_hex(data: impl AsRef<[u8]>) -> String {
    to_hex(Sha256::digest(data))
}

/// SHA-256 of a file's content, streamed (the file is never held in memory whole).
///
/// # Errors
///
/// When the file cannot be opened or read.
pub fn file_sha256(path: &Path) -> io::Result<[u8; 32]> {
    let mut file = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    io::copy(&mut file, &mut h)?;
    Ok(h.finalize().into())
}

/// The entries under `dir` (not `dir` itself), depth first, sorted by file name at each level so
/// that the order does not depend on the file system. With `follow_links`, symbolic links are
/// resolved (a linked directory is walked); without, a link is one entry of its own.
pub fn walk(dir: &Path, follow_links: bool) -> walkdir::IntoIter {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .follow_links(follow_links)
        .sort_by_file_name()
        .into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_digests_match_known_values() {
        // FIPS 180-2 test vector "abc".
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_hex("abc"), abc);
        assert_eq!(to_hex([0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, "abc").unwrap();
        assert_eq!(to_hex(file_sha256(&f).unwrap()), abc);
        assert!(file_sha256(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn walk_is_sorted_and_excludes_the_root() {
        let dir = tempfile::tempdir().unwrap();
        for rel in ["b/z", "b/a", "a", "c"] {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
        let rels: Vec<String> = walk(dir.path(), false)
            .map(|e| {
                let e = e.unwrap();
                e.path()
                    .strip_prefix(dir.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(rels, ["a", "b", "b/a", "b/z", "c"]);
    }
}
