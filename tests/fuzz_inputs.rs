//! Fuzzed input never panics (issue #14, item 5). Property-based tests mutate the real inputs:
//!
//! * manifests: the rendered `k8s/overlays/prod` objects (`tests/fixtures/fuzz/prod-rendered.yaml`)
//!   through manifest parsing (or `manifest::load` of a file, for bytes that are not UTF-8), then
//!   `plan::build` and the plan's JSON;
//! * scenario files: every `scenarios/*.yaml`, through `scenario::parse`;
//! * `syncsim.yaml`: `k8s/overlays/local/syncsim.yaml`, through `build::config::parse`.
//!
//! Mutations: line deletions and duplications, type swaps, re-indentation, truncation,
//! non-UTF-8 bytes, huge values, deep nesting (flow and block) and YAML alias bombs. Every
//! outcome must be `Ok` or an error whose message names the file; each case must stay within a
//! time and memory bound (memory counted by a per-thread allocator below). The library functions
//! are tested directly, not the binary: 10 000 processes per target would not fit the time.
//!
//! `SYNCSIM_FUZZ_CASES` overrides the number of cases (default 10 000 per target).
use proptest::prelude::*;
use proptest::sample::Index;
use std::{
    alloc::{GlobalAlloc, Layout, System},
    cell::Cell,
    path::Path,
    time::{Duration, Instant},
};
use syncsim::{
    build::config,
    manifest::{self, LoadOptions},
    plan::{self, PlanJson, PlanOptions},
    scenario,
};

// ---------------------------------------------------------------------------------------------
// Memory accounting: bytes allocated and not yet freed by the current thread, and its peak.

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let v = live.get() + delta;
        live.set(v);
        let _ = PEAK.try_with(|peak| {
            if v > peak.get() {
                peak.set(v)
            }
        });
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        track(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            track(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f`, returning its result, how long it took and the most memory it held at once.
fn measured<T>(f: impl FnOnce() -> T) -> (T, Duration, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    let peak = PEAK.with(Cell::get) - base;
    (out, took, peak.max(0) as usize)
}

/// The bounds every case must meet (debug build, a loaded 2-core machine): generous multiples of
/// what a case needs, far below what the quadratic paths and unbounded alias expansion took.
fn check_bounds(
    what: &str,
    input_len: usize,
    took: Duration,
    peak: usize,
) -> Result<(), TestCaseError> {
    let max_time = Duration::from_secs(5);
    let max_memory = 64 * 1024 * 1024 + 200 * input_len;
    prop_assert!(
        took < max_time,
        "{what}: took {took:?} for {input_len} bytes"
    );
    prop_assert!(
        peak < max_memory,
        "{what}: held {} MB for {input_len} bytes",
        peak / (1024 * 1024)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Mutations of real text.

/// One change to an input.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(Index),
    DuplicateLine(Index),
    /// Replaces the value after the first `: ` (or `- `) of a line with another YAML type.
    SwapType(Index, Index),
    /// Adds or removes two spaces of indentation.
    Reindent(Index, bool),
    Truncate(Index),
    /// Inserts raw bytes (often not UTF-8) at a position.
    Bytes(Index, Vec<u8>),
    /// A value of many kilobytes in place of a line's value.
    Huge(Index, usize),
    /// A value nested `depth` levels deep, in flow (`[[[`) or block (`- - -`) style.
    Deep(Index, usize, bool),
    /// A billion-laughs alias bomb in place of a line's value.
    AliasBomb(Index, usize),
}

const VALUES: [&str; 16] = [
    "123",
    "-1.5e3",
    "true",
    "null",
    "~",
    "[a, b]",
    "{a: 1}",
    "\"str\"",
    "''",
    "!!binary aGk=",
    "!custom x",
    "&anchor x",
    "*anchor",
    "[",
    "'unterminated",
    "|\n  block",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => any::<Index>().prop_map(Mutation::DeleteLine),
        3 => any::<Index>().prop_map(Mutation::DuplicateLine),
        4 => (any::<Index>(), any::<Index>()).prop_map(|(l, v)| Mutation::SwapType(l, v)),
        2 => (any::<Index>(), any::<bool>()).prop_map(|(l, a)| Mutation::Reindent(l, a)),
        2 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (
            any::<Index>(),
            prop::collection::vec(
                prop_oneof![Just(0xff_u8), Just(0xc3), Just(0x80), Just(0xef), Just(0x00), any::<u8>()],
                1..6
            )
        )
            .prop_map(|(i, b)| Mutation::Bytes(i, b)),
        1 => (any::<Index>(), 1usize..32).prop_map(|(l, kb)| Mutation::Huge(l, kb)),
        1 => (any::<Index>(), 1usize..2_000, any::<bool>()).prop_map(|(l, d, f)| Mutation::Deep(l, d, f)),
        // Small bombs here (each extra level costs ten times more); the big ones are
        // `big_inputs_stay_within_time_and_memory_bounds`.
        1 => (any::<Index>(), 2usize..6).prop_map(|(l, n)| Mutation::AliasBomb(l, n)),
    ]
}

/// Replaces what follows the first `: ` or `- ` of `line` (or the whole line) with `value`.
fn replace_value(line: &str, value: &str) -> String {
    match line.find(": ").or_else(|| line.find("- ")) {
        Some(i) => format!("{}{value}", &line[..i + 2]),
        None => value.to_string(),
    }
}

fn alias_bomb(levels: usize) -> String {
    // a: &a [x,x,x,x,x,x,x,x,x,x] ; b: &b [*a × 10] ; … as one flow value.
    let mut s = String::from("{l0: &l0 [x, x, x, x, x, x, x, x, x, x]");
    for i in 1..levels {
        let refs = vec![format!("*l{}", i - 1); 10].join(", ");
        s.push_str(&format!(", l{i}: &l{i} [{refs}]"));
    }
    s.push('}');
    s
}

fn apply(text: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = text.to_vec();
    for m in mutations {
        // Line operations work on the text as (lossy) lines; byte operations on the bytes.
        let s = String::from_utf8_lossy(&bytes).into_owned();
        let mut lines: Vec<String> = s.split('\n').map(str::to_string).collect();
        let n = lines.len();
        match m {
            Mutation::DeleteLine(i) => {
                lines.remove(i.index(n));
            }
            Mutation::DuplicateLine(i) => {
                let k = i.index(n);
                let l = lines[k].clone();
                lines.insert(k, l);
            }
            Mutation::SwapType(i, v) => {
                let k = i.index(n);
                lines[k] = replace_value(&lines[k], VALUES[v.index(VALUES.len())]);
            }
            Mutation::Reindent(i, add) => {
                let k = i.index(n);
                lines[k] = if *add {
                    format!("  {}", lines[k])
                } else {
                    lines[k].strip_prefix("  ").unwrap_or(&lines[k]).to_string()
                };
            }
            Mutation::Truncate(i) => {
                bytes.truncate(i.index(bytes.len() + 1));
                continue;
            }
            Mutation::Bytes(i, b) => {
                let at = i.index(bytes.len() + 1);
                bytes.splice(at..at, b.iter().copied());
                continue;
            }
            Mutation::Huge(i, kb) => {
                let k = i.index(n);
                lines[k] = replace_value(&lines[k], &"x".repeat(kb * 1024));
            }
            Mutation::Deep(i, depth, flow) => {
                let k = i.index(n);
                let v = if *flow {
                    format!("{}{}", "[".repeat(*depth), "]".repeat(*depth))
                } else {
                    format!("{}x", "- ".repeat(*depth))
                };
                lines[k] = replace_value(&lines[k], &v);
            }
            Mutation::AliasBomb(i, levels) => {
                let k = i.index(n);
                lines[k] = replace_value(&lines[k], &alias_bomb(*levels));
            }
        }
        bytes = lines.join("\n").into_bytes();
    }
    bytes
}

fn cases() -> u32 {
    std::env::var("SYNCSIM_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000)
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Shrinking a failure is useful; unbounded shrinking of a slow case is not.
        max_shrink_iters: 2_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn repo(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

// ---------------------------------------------------------------------------------------------
// Targets.

const PROD: &str = "tests/fixtures/fuzz/prod-rendered.yaml";

/// Parses and plans `bytes` as the manifest file `name`; an error must name it.
fn manifest_outcome(bytes: &[u8], dir: &Path, name: &str) -> Result<(), TestCaseError> {
    let (objects, file) = match std::str::from_utf8(bytes) {
        Ok(text) => (manifest::from_yaml_str(text, name), name.to_string()),
        Err(_) => {
            // Not UTF-8: only a file can hold it; load it as `syncsim plan FILE` does.
            let path = dir.join("fuzz.yaml");
            std::fs::write(&path, bytes).unwrap();
            let file = path.display().to_string();
            (
                manifest::load(&file, &LoadOptions::default()).map(|l| l.objects),
                file,
            )
        }
    };
    let objects = match objects {
        Ok(o) => o,
        Err(e) => {
            prop_assert_eq!(e.exit_code(), 2, "{}", e);
            let msg = e.to_string();
            prop_assert!(msg.contains(&file), "error does not name {}: {}", file, msg);
            return Ok(());
        }
    };
    match plan::build(&objects, &PlanOptions::default()) {
        Ok(p) => {
            serde_json::to_string(&PlanJson::from(&p)).unwrap();
            for w in &p.warnings {
                let shown = w.to_string();
                prop_assert!(shown.contains(&file), "warning without its file: {}", shown);
                prop_assert!(!shown.contains('\u{1b}'), "raw escape in {:?}", shown);
            }
        }
        Err(e) => {
            prop_assert_eq!(e.exit_code(), 2);
            let msg = e.to_string();
            prop_assert!(msg.contains(&file), "error does not name {}: {}", file, msg);
        }
    }
    Ok(())
}

#[test]
fn fuzzed_manifests_plan_or_fail_naming_the_file() {
    // The rendered objects, one document each: a case mutates a window of 1 to 4 consecutive
    // documents (real neighbours, a tenth of the parse time of the whole stream).
    let base = std::fs::read_to_string(repo(PROD)).unwrap();
    let docs: Vec<&str> = base.split("\n---\n").collect();
    assert!(docs.len() >= 15, "{} documents", docs.len());
    let tmp = tempfile::tempdir().unwrap();
    let start = Instant::now();
    proptest!(config(cases()), |(first in any::<Index>(), count in 1usize..=4, muts in prop::collection::vec(mutation(), 1..4))| {
        let first = first.index(docs.len());
        let window = docs[first..(first + count).min(docs.len())].join("\n---\n");
        let bytes = apply(window.as_bytes(), &muts);
        let (out, took, peak) = measured(|| manifest_outcome(&bytes, tmp.path(), "k8s/overlays/prod (rendered)"));
        out?;
        check_bounds("manifest", bytes.len(), took, peak)?;
    });
    eprintln!(
        "manifest target: {} cases in {:?}",
        cases(),
        start.elapsed()
    );
}

#[test]
fn fuzzed_scenarios_parse_or_fail_naming_the_file() {
    let mut files: Vec<_> = std::fs::read_dir(repo("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    let texts: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|p| {
            (
                format!("scenarios/{}", p.file_name().unwrap().to_string_lossy()),
                std::fs::read(p).unwrap(),
            )
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let start = Instant::now();
    proptest!(config(cases()), |(pick in any::<Index>(), muts in prop::collection::vec(mutation(), 1..4))| {
        let (name, base) = &texts[pick.index(texts.len())];
        let bytes = apply(base, &muts);
        let (out, took, peak) = measured(|| -> Result<(), TestCaseError> {
            let result = match std::str::from_utf8(&bytes) {
                Ok(text) => scenario::parse(text, Path::new(name)),
                Err(_) => {
                    // `scenario::read` of a file that is not UTF-8.
                    let p = tmp.path().join("s.yaml");
                    std::fs::write(&p, &bytes).unwrap();
                    return match scenario::read(&p) {
                        Ok(_) => Err(TestCaseError::fail("non-UTF-8 scenario parsed")),
                        Err(e) => {
                            prop_assert!(e.to_string().contains(&p.display().to_string()), "{}", e);
                            Ok(())
                        }
                    };
                }
            };
            if let Err(e) = result {
                use syncsim::error::ExitCode;
                prop_assert_eq!(e.exit_code(), 2);
                let msg = e.to_string();
                prop_assert!(msg.contains(name.as_str()), "error does not name {}: {}", name, msg);
            }
            Ok(())
        });
        out?;
        check_bounds("scenario", bytes.len(), took, peak)?;
    });
    eprintln!(
        "scenario target: {} cases in {:?}",
        cases(),
        start.elapsed()
    );
}

#[test]
fn fuzzed_build_configs_parse_or_fail_naming_the_file() {
    const CONFIG: &str = "k8s/overlays/local/syncsim.yaml";
    let base = std::fs::read(repo(CONFIG)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let start = Instant::now();
    proptest!(config(cases()), |(muts in prop::collection::vec(mutation(), 1..4))| {
        let bytes = apply(&base, &muts);
        let (out, took, peak) = measured(|| -> Result<(), TestCaseError> {
            let Ok(text) = std::str::from_utf8(&bytes) else {
                let p = tmp.path().join("syncsim.yaml");
                std::fs::write(&p, &bytes).unwrap();
                let e = config::load(&p).expect_err("non-UTF-8 config loaded");
                prop_assert!(e.to_string().contains(&p.display().to_string()), "{}", e);
                return Ok(());
            };
            if let Err(e) = config::parse(text, Path::new(CONFIG)) {
                use syncsim::error::ExitCode;
                prop_assert_eq!(e.exit_code(), 2);
                let msg = e.to_string();
                prop_assert!(msg.contains(CONFIG), "error does not name {}: {}", CONFIG, msg);
            }
            Ok(())
        });
        out?;
        check_bounds("config", bytes.len(), took, peak)?;
    });
    eprintln!("config target: {} cases in {:?}", cases(), start.elapsed());
}

/// The big inputs, once each, with the same kind of bounds (per input size) as the fuzz cases.
#[test]
fn big_inputs_stay_within_time_and_memory_bounds() {
    let base = std::fs::read_to_string(repo(PROD)).unwrap();
    let cm =
        |body: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n{body}");
    let mut bomb = String::from("data:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        bomb.push_str(&format!(
            "  l{i}: &l{i} [{}]\n",
            vec![format!("*l{}", i - 1); 10].join(", ")
        ));
    }
    let padded_bomb = format!("{bomb}  pad: [{}0]\n", "0, ".repeat(200_000));
    let inputs: Vec<(&str, String)> = vec![
        ("1 MB value", cm(&format!("data:\n  big: {}\n", "x".repeat(1 << 20)))),
        // An explicit key (`? `): an implicit one is limited to 1024 characters by the parser.
        ("10 MB annotation key", format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n  annotations:\n    ? {}\n    : v\n", "k".repeat(10 << 20))),
        ("40k nested brackets", cm(&format!("data: {}{}\n", "[".repeat(40_000), "]".repeat(40_000)))),
        ("40k nested block sequences", cm(&format!("data:\n  {}x\n", "- ".repeat(40_000)))),
        ("alias bomb, 10 levels", cm(&bomb)),
        ("alias bomb padded with 200k values", cm(&padded_bomb)),
        ("the prod rendering 40 times", vec![base.as_str(); 40].join("\n---\n")),
    ];
    for (what, text) in inputs {
        let tmp = tempfile::tempdir().unwrap();
        let ((), took, peak) = measured(|| {
            let bytes = text.as_bytes();
            manifest_outcome(bytes, tmp.path(), "big.yaml").unwrap();
        });
        eprintln!(
            "{what}: {} KB in {took:?}, peak {} MB",
            text.len() / 1024,
            peak >> 20
        );
        // Debug build on a loaded machine: time bound generous; memory as the fuzz cases.
        assert!(took < Duration::from_secs(30), "{what}: {took:?}");
        assert!(
            peak < 64 * 1024 * 1024 + 200 * text.len(),
            "{what}: {} MB",
            peak >> 20
        );
    }
}
