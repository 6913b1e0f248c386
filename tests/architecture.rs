//! The layering of `src/` (README.md § Architecture): every top-level module may import only
//! modules below it in [`LAYERS`], and the module graph has no cycle. Reads every `crate::…`
//! path (`use crate::{a, b::c}`, `crate::x::y` in expressions) and every `super::` that climbs
//! out of its top-level module, in every file under `src/` (the library; `main.rs` is the
//! binary and sees the library from outside).
use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

/// Bottom → top. A module may import those before it, never those after it.
const LAYERS: &[&str] = &[
    "error",
    "util",
    "text",
    "digest",
    "yaml",
    "manifest",
    "plan",
    "apiserver",
    "health",
    "runtime",
    "state",
    "engine",
    "cluster",
    "report",
    "diff",
    "build",
    "rehearsal",
    "scenario",
    "replay",
    "cli",
];

/// One reference from a file of module `from` to module `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: String,
    to: String,
    file: String,
    line: usize,
}

/// Removes `//` comments (doc comments included) and the contents of string literals, so that
/// paths quoted in docs or messages do not count. Keeps line breaks.
fn strip(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut chars = src.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_str = false;
                    out.push('"');
                }
                '\n' => out.push('\n'),
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push('"');
            }
            // A char literal like '"' must not open a string.
            '\'' if chars.peek() == Some(&'"') => {
                chars.next();
                out.push_str("'\"");
            }
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The first path segments reached from `crate::` in `src`: `crate::a::b` gives `a`;
/// `crate::{a::x, b}` gives `a` and `b`. With the line of each.
fn crate_refs(src: &str) -> Vec<(String, usize)> {
    let text = strip(src);
    let mut out = Vec::new();
    let line_of = |at: usize| text[..at].matches('\n').count() + 1;
    for (at, _) in text.match_indices("crate::") {
        // `syncsim_crate::` or `$crate::` are not ours.
        if text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
        {
            continue;
        }
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of the group.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        if let Some(name) = first_ident(&item) {
                            out.push((name, line_of(at)));
                        }
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            if let Some(name) = first_ident(&item) {
                out.push((name, line_of(at)));
            }
        } else if let Some(name) = first_ident(rest) {
            out.push((name, line_of(at)));
        }
    }
    out
}

fn first_ident(s: &str) -> Option<String> {
    let name: String = s
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty() && name != "self").then_some(name)
}

/// `super::super::x` in a file `depth` modules below the crate root: the top-level module it
/// names when it climbs to the root, else `None`.
fn super_refs(src: &str, depth: usize) -> Vec<(String, usize)> {
    let text = strip(src);
    let mut out = Vec::new();
    for (at, _) in text.match_indices("super::") {
        let before = &text[..at];
        if before.ends_with("super::") {
            continue; // counted from the first `super::` of the chain
        }
        let mut rest = &text[at..];
        let mut ups = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            ups += 1;
            rest = r;
        }
        if ups == depth {
            if let Some(name) = first_ident(rest) {
                out.push((name, before.matches('\n').count() + 1));
            }
        }
    }
    out
}

/// Every reference between top-level modules in the library under `src`.
fn edges(src: &Path) -> Vec<Edge> {
    let mut files = Vec::new();
    collect(src, &mut files);
    let tops = top_modules(src);
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        if parts == ["main"] || parts == ["lib"] {
            continue;
        }
        let top = parts[0].clone();
        // Module depth below the root: `a.rs`, `a/mod.rs` = 1; `a/b.rs` = 2.
        let depth = parts.len() - usize::from(parts.last().is_some_and(|p| p == "mod"));
        let text = std::fs::read_to_string(&file).unwrap();
        // A `super::` chain as long as the file's depth reaches the root, unless it starts in
        // an inline module (`mod tests`): only names of top-level modules count.
        let refs = crate_refs(&text).into_iter().chain(
            super_refs(&text, depth)
                .into_iter()
                .filter(|(name, _)| tops.contains(name)),
        );
        for (to, line) in refs {
            if to != top {
                out.push(Edge {
                    from: top.clone(),
                    to,
                    file: rel.display().to_string(),
                    line,
                });
            }
        }
    }
    out.sort();
    out
}

/// The crate's top-level modules: `src/x.rs` and `src/x/` (not `main`, `lib`).
fn top_modules(src: &Path) -> BTreeSet<String> {
    std::fs::read_dir(src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().to_string())
        .filter(|n| n != "main" && n != "lib")
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Violations of `layers`: unknown modules and upward imports.
fn upward(edges: &[Edge], layers: &[&str]) -> Vec<String> {
    let rank = |m: &str| layers.iter().position(|l| *l == m);
    let mut out = Vec::new();
    for e in edges {
        match (rank(&e.from), rank(&e.to)) {
            (Some(f), Some(t)) if t < f => {}
            (Some(_), Some(_)) => out.push(format!(
                "{}:{}: `{}` imports `{}`, which is above it (or beside it)",
                e.file, e.line, e.from, e.to
            )),
            (None, _) => out.push(format!(
                "{}: module `{}` is not in the declared layers",
                e.file, e.from
            )),
            (_, None) => out.push(format!(
                "{}:{}: `{}` imports `{}`, which is not in the declared layers",
                e.file, e.line, e.from, e.to
            )),
        }
    }
    out
}

/// A cycle of the module graph, if any (as `a → b → … → a`).
fn cycle(edges: &[Edge]) -> Option<String> {
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in edges {
        graph.entry(&e.from).or_default().insert(&e.to);
        graph.entry(&e.to).or_default();
    }
    // 0 unvisited, 1 on the stack, 2 done.
    fn visit<'a>(
        n: &'a str,
        graph: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        state: &mut BTreeMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
    ) -> Option<String> {
        state.insert(n, 1);
        stack.push(n);
        for &m in &graph[n] {
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|s| *s == m).unwrap();
                    let mut path: Vec<&str> = stack[from..].to_vec();
                    path.push(m);
                    return Some(path.join(" → "));
                }
                0 => {
                    if let Some(c) = visit(m, graph, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n, 2);
        None
    }
    let mut state = BTreeMap::new();
    for &n in graph.keys() {
        if state.get(n).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, &graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn every_module_imports_only_modules_below_it() {
    let edges = edges(&src_dir());
    assert!(
        edges.iter().any(|e| e.from == "cli" && e.to == "rehearsal"),
        "the scan finds the imports it checks"
    );
    let bad = upward(&edges, LAYERS);
    assert!(
        bad.is_empty(),
        "imports against the layering (README.md § Architecture):\n{}",
        bad.join("\n")
    );
}

#[test]
fn every_top_level_module_has_a_layer() {
    let missing: Vec<String> = top_modules(&src_dir())
        .into_iter()
        .filter(|m| !LAYERS.contains(&m.as_str()))
        .collect();
    assert!(missing.is_empty(), "modules without a layer: {missing:?}");
}

#[test]
fn the_module_graph_has_no_cycle() {
    let edges = edges(&src_dir());
    if let Some(c) = cycle(&edges) {
        panic!("import cycle between modules: {c}");
    }
}

// The checker itself.

fn edge(from: &str, to: &str) -> Edge {
    Edge {
        from: from.into(),
        to: to.into(),
        file: format!("{from}/x.rs"),
        line: 1,
    }
}

#[test]
fn reads_grouped_nested_and_inline_paths_but_not_comments_or_strings() {
    let src = r#"
//! See [`crate::cli`].
use crate::{
    engine::{self, Outcome},
    plan::{Plan, Task}, state,
};
use crate::runtime::ContainerRuntime;
fn f() { let _ = crate::util::unix_now(); let s = "crate::scenario"; let c = '"'; }
macro_rules! m { () => { $crate::report::x() } }
"#;
    let names: Vec<String> = crate_refs(src).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["engine", "plan", "state", "runtime", "util"]);
}

#[test]
fn super_counts_only_when_it_climbs_out_of_the_top_module() {
    let src = "use super::compare;\nuse super::super::engine::Outcome;\n";
    assert_eq!(super_refs(src, 2), [("engine".to_string(), 2)]);
    assert_eq!(super_refs(src, 1), [("compare".to_string(), 1)]);
}

#[test]
fn an_upward_import_and_an_unknown_module_are_reported() {
    let layers = ["a", "b"];
    assert!(upward(&[edge("b", "a")], &layers).is_empty());
    assert_eq!(upward(&[edge("a", "b")], &layers).len(), 1);
    assert_eq!(upward(&[edge("a", "z")], &layers).len(), 1);
}

#[test]
fn a_cycle_is_found_and_named() {
    assert_eq!(cycle(&[edge("a", "b"), edge("b", "c")]), None);
    let c = cycle(&[edge("a", "b"), edge("b", "c"), edge("c", "a")]).unwrap();
    assert_eq!(c, "a → b → c → a");
}
