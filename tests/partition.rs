//! `syncsim test --partition` (issue #14, item 6): the shards of `scenarios/` are
//! deterministic, disjoint and together complete, for count and hash partitions. No Docker
//! needed: `--list` prints a shard's files without running them.
use std::{collections::BTreeSet, path::Path, process::Command};

fn list(extra: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_syncsim"))
        .current_dir(root)
        .args(["test", "scenarios", "--list"])
        .args(extra)
        .env("DOCKER_HOST", "unix:///nonexistent/partition.sock")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn shards_are_deterministic_disjoint_and_complete() {
    let all = list(&[]);
    assert!(all.len() >= 5, "scenarios/ has scenario files: {all:?}");
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "no file listed twice");
    for kind in ["count", "hash"] {
        for total in 1..=4 {
            let mut union: Vec<String> = Vec::new();
            for shard in 1..=total {
                let p = format!("{kind}:{shard}/{total}");
                let mine = list(&["--partition", &p]);
                assert_eq!(mine, list(&["--partition", &p]), "{p} is deterministic");
                union.extend(mine);
            }
            let mut sorted = union.clone();
            sorted.sort();
            let mut want = all.clone();
            want.sort();
            assert_eq!(sorted, want, "{kind} /{total}: every scenario exactly once");
        }
    }
    // `K/N` is `count:K/N`; count shards differ in size by at most one.
    assert_eq!(
        list(&["--partition", "2/3"]),
        list(&["--partition", "count:2/3"])
    );
    let sizes: Vec<usize> = (1..=3)
        .map(|k| list(&["--partition", &format!("count:{k}/3")]).len())
        .collect();
    assert!(
        sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
        "{sizes:?}"
    );
}

#[test]
fn a_bad_partition_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_syncsim"))
        .args(["test", "scenarios", "--partition", "3/2"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("count:K/N"));
}
