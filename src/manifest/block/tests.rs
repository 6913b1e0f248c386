//! The block reader against the exact path (serde_yaml's events, YAML 1.1 scalars): tables, the repository's manifests, deep nesting and a
//! proptest differential.
use super::*;
use proptest::prelude::*;

/// The exact path's reading of `text` as JSON: the reference the subset must match.
fn exact(text: &str) -> Option<Vec<Value>> {
    super::super::parse::exact_values(text)
        .ok()?
        .into_iter()
        .map(|v| serde_json::to_value(v).ok())
        .collect()
}

fn fast(text: &str) -> Option<Vec<Value>> {
    let left = Cell::new(usize::MAX);
    segments(text)?
        .into_iter()
        .map(|s| document(s, &left))
        .collect()
}

#[test]
fn the_subset_reads_as_serde_yaml_does() {
    for text in [
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    app: x\ndata:\n  K: v\n",
        "a:\n- 1\n- -2\n- 007\n- -0\n- x: 1\n  v: [a, 'b''c', \"d e\", {f: g}]\n-   z: 1\n    w: ~\n- \n  m: 1\n-\n",
        "a:\n  - b\n  -  c\nd: {}\ne: []\nf: {x: [1, {w: z}], 'q': \"r\"}\n",
        "s: |\n  line one\n\n    indented\n  last\n\nt: |-\n  x\n  y\n\nu: |\nv: 1\n",
        "w:\n  - |\n    in a list\n  - |-\n    stripped\n",
        "x: true\nyy: False\nz: NULL\nnn: null\ne:\nq: 'a: b'\nr: http://h:80/p\nt: 50m\nu: 1_000\nv: inf\n",
        "---\na: 1\n---\nb: 2\n",
        "a: 1\n---\n---\nc: 3\n",
        "  a: 1\n  b:\n    c: 2\n",
        "- a\n- b\n",
        "\"quoted key\": 1\n'single': 2\nkey with spaces: 3\n",
        "a: 18446744073709551615\nb: -9223372036854775808\n",
        "a: b,c\nd: x [y] {z}\n",
        "- |\n  no line break at the end",
        "a: 1.5\nb: 0x1F\nc: +1\nd: 18446744073709551616\ne: 2.0\nf: 1e3\n",
        // YAML 1.1 scalars, read as a cluster reads them (see manifest/scalar.rs).
        "a: yes\nb: 0755\nc: '0755'\nd: \"on\"\ne: [on, 08, 1_000]\nf: {x: N}\ng: -0o7\n",
    ] {
        let got = fast(text).unwrap_or_else(|| panic!("not read: {text:?}"));
        assert_eq!(Some(got), exact(text), "{text:?}");
    }
}

#[test]
fn what_the_subset_leaves_to_serde_yaml() {
    for text in [
        "a: 1 # comment\n",
        "a: &x 1\nb: *x\n",
        "a: !t 1\n",
        "a: \"esc\\n\"\n",
        "a: >\n  folded\n",
        "a: |+\n  keep\n",
        "a: multi\n  line\n",
        "1: a\n",
        "true: a\n",
        "on: a\n",
        "0755: a\n",
        "a: {yes: b}\n",
        "<<: {a: 1}\n",
        "a: 1\na: 2\n",
        "a:\tb\n",
        "a: é\n",
        "%YAML 1.2\n---\na: 1\n",
        "--- a: 1\n",
        "a: 1\n...\n",
        "a: [b,\n  c]\n",
        "a: b: c\n",
        "- - a\n",
        "a:\n b: 1\n c: 2\n  d: 3\n",
        "scalar\n",
    ] {
        assert!(fast(text).is_none(), "read: {text:?}");
    }
}

#[test]
fn deep_nesting_is_left_to_serde_yaml_without_exhausting_the_stack() {
    let block: String = (0..20_000)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect();
    let flow = format!("a: {}{}\n", "[".repeat(20_000), "]".repeat(20_000));
    let map = format!("a: {}{}\n", "{b: ".repeat(20_000), "}".repeat(20_000));
    for text in [block, flow, map] {
        assert!(fast(&text).is_none());
    }
    let shallow: String = (0..MAX_DEPTH)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect();
    assert_eq!(fast(&shallow), exact(&shallow));
}

#[test]
fn blank_documents_count_as_serde_yaml_counts_them() {
    for text in [
        "",
        "\n\n",
        "---\n",
        "a: 1\n---\n",
        "---\n---\na: 1",
        "\n---\na: 1\n---\n\n---\nb: 2\n",
    ] {
        assert_eq!(fast(text), exact(text), "{text:?}");
    }
}

/// Every document of the repository's own manifests (the example, the fixtures) that the
/// subset reads, it reads as serde_yaml does; and it reads most of them.
#[test]
fn the_repositorys_manifests_read_as_serde_yaml_reads_them() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (mut read, mut all) = (0, 0);
    for dir in ["k8s", "tests/fixtures", "scenarios"] {
        for entry in walkdir::WalkDir::new(root.join(dir)) {
            let path = entry.unwrap().into_path();
            if !path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let Some(segments) = segments(&text) else {
                continue;
            };
            for segment in segments {
                all += 1;
                if let Some(got) = document(segment, &Cell::new(usize::MAX)) {
                    read += 1;
                    assert_eq!(
                        Some(vec![got]),
                        exact(segment),
                        "{}: {segment:?}",
                        path.display()
                    );
                }
            }
        }
    }
    assert!(
        all > 100 && read * 2 > all,
        "read {read} of {all} documents"
    );
}

/// Strings that stress scalar resolution and structure.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,6}",
        "-?[0-9]{1,21}",
        "[0-9][0-9a-fxobe.+_:-]{0,6}",
        "[-+.]?[0-9.]{1,4}(e[-+]?[0-9])?",
        "-[-a-z.]{1,4}",
        "[.][./a-z0-9]{0,4}",
        Just("~".to_string()),
        Just("null".to_string()),
        Just("True".to_string()),
        Just("inf".to_string()),
        Just(".nan".to_string()),
        Just("<<".to_string()),
        Just("yes".to_string()),
        Just("Off".to_string()),
        Just("y".to_string()),
        "0[0-9_]{1,3}",
    ]
}

/// A document built from tokens and YAML punctuation, often valid, often not.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => token(),
        2 => Just(": ".to_string()),
        2 => Just("\n".to_string()),
        2 => Just("\n  ".to_string()),
        1 => Just("\n    ".to_string()),
        2 => Just("- ".to_string()),
        1 => Just(":".to_string()),
        1 => Just("|".to_string()),
        1 => Just("|-".to_string()),
        1 => Just("'".to_string()),
        1 => Just("\"".to_string()),
        1 => Just("[".to_string()),
        1 => Just("]".to_string()),
        1 => Just("{".to_string()),
        1 => Just("}".to_string()),
        1 => Just(", ".to_string()),
        1 => Just(" ".to_string()),
        1 => Just("\n---\n".to_string()),
        1 => Just("# c".to_string()),
        1 => Just("\t".to_string()),
    ];
    proptest::collection::vec(piece, 1..40).prop_map(|p| p.concat())
}

/// Well-formed block documents in renderer style (key, nested mapping, sequence).
fn rendered() -> impl Strategy<Value = String> {
    let entry = (token(), token(), 0..4u8).prop_map(|(k, v, style)| match style {
        0 => format!("k{k}: {v}\n"),
        1 => format!("k{k}:\n  n: {v}\n  m: '{v}'\n"),
        2 => format!("k{k}:\n- {v}\n- x{k}: {v}\n  y: [{v}, \"{v}\"]\n"),
        _ => format!("k{k}: |\n  {v}\n   {k}\n"),
    });
    proptest::collection::vec(entry, 1..8).prop_map(|e| e.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// What the subset reads, serde_yaml reads the same; what it cannot read it declines.
    #[test]
    fn a_document_read_by_the_subset_is_serde_yamls(text in prop_oneof![text(), rendered()]) {
        if let Some(got) = fast(&text) {
            prop_assert_eq!(Some(got), exact(&text), "{:?}", text);
        }
    }

    /// The whole fast path (documents cut at markers, each read here or by serde_yaml alone)
    /// gives the documents serde_yaml gives the whole text, or declines.
    #[test]
    fn the_fast_path_reads_a_text_as_serde_yaml_does(text in prop_oneof![text(), rendered()]) {
        if let Some(got) = crate::manifest::plain::plain_documents(&text) {
            prop_assert_eq!(Some(got), exact(&text), "{:?}", text);
        }
    }
}
