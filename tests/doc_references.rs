//! Every `§` reference in the repository resolves to a heading of `docs/argo-cd-semantics.md`, the
//! project's own Argo CD reference, and nothing points to a document outside the repository.
//!
//! What counts as a reference, and what it must resolve to:
//!
//! * `§N`, `§N.M`, `§N.M.K` (any depth) need a heading whose text starts with that number, e.g.
//!   `## 2. Tasks …`, `### 2.7 The step algorithm`, `#### 2.1.1 Resource tasks …`.
//! * A step letter after one space (`§2.7 B`) is part of the reference when the character after the
//!   letter is not a letter, digit or space (`§2.7 B)`, `§2.7 G,`, end of line), so prose such as
//!   `§8.8 A Deployment …` is a plain `§8.8`. A lettered reference needs a heading `N.M L.`
//!   (`#### 2.7 B. Dry run …`): the letters are headings of their own, not just list items.
//! * `§N item K` (the numbered behaviours of §8) also needs the heading `N.K`.
//! * `§2.6 step 4`, `§1.2 step 5`: a step is an item of the numbered list inside the section, so
//!   only `§2.6` / `§1.2` is checked.
//! * A reference written right after another document's file name (`STYLE.md §3`) cites that
//!   document, not this one, and is not checked here.
//!
//! Scanned: `src/`, `tests/`, `README.md`, `scenarios/`, `k8s/`, `compose/` and the reference
//! itself (its own cross-references). Headings inside fenced code blocks do not count.
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

const DOC: &str = "docs/argo-cd-semantics.md";
const SCANNED: [&str; 7] = [
    "src",
    "tests",
    "README.md",
    "scenarios",
    "k8s",
    "compose",
    DOC,
];
/// Where no mention of a document outside the repository may appear.
const NO_OUTSIDE_MENTIONS: [&str; 4] = ["src", "tests", "README.md", "scenarios"];
/// Built with `concat!` so that this file does not mention them itself.
const OUTSIDE_MENTIONS: [&str; 3] = [
    concat!("ARGO", "-SEMANTICS", ".md"),
    concat!("ENVIRONMENT", ".md"),
    concat!("..", "/shared"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every text file under `rel` (a file or a directory), sorted, as (path relative to the root, text).
fn text_files(rel: &str) -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name();
            if p.is_dir() {
                if name != "target" && name != ".git" {
                    walk(&p, out);
                }
            } else {
                out.push(p);
            }
        }
    }
    let base = root();
    let start = base.join(rel);
    let mut paths = Vec::new();
    if start.is_dir() {
        walk(&start, &mut paths);
    } else if start.is_file() {
        paths.push(start);
    }
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let text = fs::read_to_string(&p).ok()?; // binary files are not text
            let shown = p.strip_prefix(&base).unwrap_or(&p).display().to_string();
            Some((shown, text))
        })
        .collect()
}

/// A reference: the section number, an optional step letter, and `§N item K` as `N.K`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ref {
    number: String,
    letter: Option<char>,
    item: Option<String>,
}

impl Ref {
    /// The heading keys this reference needs.
    fn keys(&self) -> Vec<String> {
        let mut keys = vec![self.number.clone()];
        if let Some(l) = self.letter {
            keys.push(format!("{} {l}", self.number));
        }
        if let Some(item) = &self.item {
            keys.push(format!("{}.{item}", self.number));
        }
        keys
    }
}

/// Digits and inner dots at the start of `s` (`2.7` of `2.7 B)`, `8` of `8.`): the section number
/// and its length in bytes.
fn section_number(s: &str) -> Option<(&str, usize)> {
    let b = s.as_bytes();
    let mut end = 0;
    while end < b.len() {
        let digit = b[end].is_ascii_digit();
        let inner_dot = b[end] == b'.' && end > 0 && b.get(end + 1).is_some_and(u8::is_ascii_digit);
        if !(digit || inner_dot) {
            break;
        }
        end += 1;
    }
    (end > 0).then(|| (&s[..end], end))
}

/// Whether the text right before a `§` ends with another document's file name (`STYLE.md `).
fn cites_other_document(before: &str) -> bool {
    let word = before
        .trim_end()
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '`')
        .next()
        .unwrap_or("")
        .trim_end_matches('`');
    word.ends_with(".md") && !DOC.ends_with(word)
}

/// The references in one line of text.
fn references(line: &str) -> Vec<Ref> {
    let mut out = Vec::new();
    for (at, _) in line.match_indices('§') {
        if cites_other_document(&line[..at]) {
            continue;
        }
        let mut rest = &line[at + '§'.len_utf8()..];
        if let Some(r) = rest.strip_prefix(' ') {
            rest = r;
        }
        let Some((number, len)) = section_number(rest) else {
            continue;
        };
        let after = &rest[len..];
        let mut letter = None;
        let mut item = None;
        let mut chars = after.chars();
        if chars.next() == Some(' ') {
            if let Some(c) = chars.next().filter(char::is_ascii_uppercase) {
                let next = chars.next();
                if next.is_none_or(|n| !n.is_alphanumeric() && n != ' ') {
                    letter = Some(c);
                }
            }
        }
        if let Some(k) = after.strip_prefix(" item ") {
            let digits: String = k.chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() {
                item = Some(digits);
            }
        }
        out.push(Ref {
            number: number.to_string(),
            letter,
            item,
        });
    }
    out
}

/// The heading keys of the reference (`2`, `2.7`, `2.7 B`, `8.25`) with their line numbers.
fn headings(doc: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (i, line) in doc.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let hashes = line.bytes().take_while(|b| *b == b'#').count();
        if hashes == 0 || hashes > 6 || line.as_bytes().get(hashes) != Some(&b' ') {
            continue;
        }
        let text = line[hashes..].trim_start();
        let Some((number, len)) = section_number(text) else {
            continue;
        };
        let after = text[len..].strip_prefix('.').unwrap_or(&text[len..]);
        let b = after.as_bytes();
        if b.len() >= 3 && b[0] == b' ' && b[1].is_ascii_uppercase() && b[2] == b'.' {
            out.push((format!("{number} {}", b[1] as char), i + 1));
        } else {
            out.push((number.to_string(), i + 1));
        }
    }
    out
}

fn read_doc() -> String {
    fs::read_to_string(root().join(DOC)).unwrap_or_else(|e| panic!("{DOC} must exist: {e}"))
}

#[test]
fn every_section_reference_resolves_to_a_heading() {
    let heads: BTreeMap<String, usize> = headings(&read_doc()).into_iter().collect();
    let mut missing = Vec::new();
    let mut per_root: BTreeMap<&str, usize> = BTreeMap::new();
    for rel in SCANNED {
        for (file, text) in text_files(rel) {
            for (i, line) in text.lines().enumerate() {
                for r in references(line) {
                    *per_root.entry(rel).or_default() += 1;
                    for key in r.keys() {
                        if !heads.contains_key(&key) {
                            missing.push(format!("{file}:{}: §{key} ({})", i + 1, line.trim()));
                        }
                    }
                }
            }
        }
    }
    // The scan must have found the code's references at all (a wrong root would pass vacuously).
    for rel in ["src", "tests", "README.md"] {
        assert!(
            per_root.get(rel).copied().unwrap_or(0) > 0,
            "no § reference found under {rel}: is the scan looking at the right place?"
        );
    }
    assert!(
        missing.is_empty(),
        "§ references without a heading in {DOC}:\n{}",
        missing.join("\n")
    );
}

#[test]
fn headings_are_numbered_once() {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut dup = Vec::new();
    for (key, line) in headings(&read_doc()) {
        if let Some(first) = seen.insert(key.clone(), line) {
            dup.push(format!("§{key}: lines {first} and {line}"));
        }
    }
    assert!(
        dup.is_empty(),
        "ambiguous headings in {DOC}:\n{}",
        dup.join("\n")
    );
}

#[test]
fn nothing_points_outside_the_repository() {
    let mut found = Vec::new();
    for rel in NO_OUTSIDE_MENTIONS {
        for (file, text) in text_files(rel) {
            for (i, line) in text.lines().enumerate() {
                for needle in OUTSIDE_MENTIONS {
                    if line.contains(needle) {
                        found.push(format!("{file}:{}: {needle}", i + 1));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "cite {DOC} (§N.M) instead of a document outside the repository:\n{}",
        found.join("\n")
    );
}

#[test]
fn reference_forms() {
    let r = |n: &str, l: Option<char>, i: Option<&str>| Ref {
        number: n.into(),
        letter: l,
        item: i.map(Into::into),
    };
    assert_eq!(references("one step (§2.7)."), [r("2.7", None, None)]);
    assert_eq!(references("(§2.7 B): dry run"), [r("2.7", Some('B'), None)]);
    assert_eq!(
        references("§2.7 G, §3.4"),
        [r("2.7", Some('G'), None), r("3.4", None, None)]
    );
    assert_eq!(references("wait (§2.7 L)"), [r("2.7", Some('L'), None)]);
    assert_eq!(references("// §8.8 A Deployment"), [r("8.8", None, None)]);
    assert_eq!(references("see §2.7 B"), [r("2.7", Some('B'), None)]);
    assert_eq!(references("// §8 item 4."), [r("8", None, Some("4"))]);
    assert_eq!(references("(§2.6 step 2)"), [r("2.6", None, None)]);
    assert_eq!(references("§2.1.1: prune"), [r("2.1.1", None, None)]);
    assert_eq!(
        references("(§2.6–§4, §8.19–§8.20)"),
        [
            r("2.6", None, None),
            r("4", None, None),
            r("8.19", None, None),
            r("8.20", None, None)
        ]
    );
    assert_eq!(references("§8.20."), [r("8.20", None, None)]);
    assert_eq!(
        references("(§5 of docs/argo-cd-semantics.md)"),
        [r("5", None, None)]
    );
    assert_eq!(references("(STYLE.md §3)"), []);
    assert_eq!(
        references("(docs/argo-cd-semantics.md §2.7)"),
        [r("2.7", None, None)]
    );
    assert_eq!(references("no section: § alone"), []);
    assert_eq!(r("8", None, Some("4")).keys(), ["8", "8.4"]);
    assert_eq!(r("2.7", Some('B'), None).keys(), ["2.7", "2.7 B"]);
}

#[test]
fn heading_forms() {
    let doc = "# Title\n## 2. Tasks\n### 2.7 The step\n#### 2.7 B. Dry run\n\
               ### 8.6 A single wave\n```\n## 9. in a fence\n```\n#### 2.1.1 Resource tasks\n";
    let keys: Vec<String> = headings(doc).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["2", "2.7", "2.7 B", "8.6", "2.1.1"]);
}
