//! Text → objects: multi-document YAML or a JSON file, `List` flattening, validation, and the
//! line each document starts on.
use super::{Error, Object, Origin};
use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::{cell::Cell, fmt};

/// How to read a file's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Multi-document YAML (JSON is accepted too).
    Yaml,
    /// A single JSON value, as Argo CD reads `*.json` files.
    Json,
}

/// Parses multi-document YAML `text` into validated objects; `file` names it in origins and
/// errors. Empty and `null` documents are skipped, `List`s are flattened.
///
/// # Errors
///
/// YAML syntax errors (with line and column), documents that are not mappings, objects without
/// `apiVersion`, `kind`, or both `metadata.name` and `metadata.generateName`.
pub fn from_yaml_str(text: &str, file: &str) -> Result<Vec<Object>, Error> {
    parse(text, file, Format::Yaml)
}

pub(crate) fn parse(text: &str, file: &str, format: Format) -> Result<Vec<Object>, Error> {
    // A UTF-8 byte order mark is not content: kubectl and Argo CD (which reads manifests through
    // a BOM-skipping reader) accept it, and line numbers stay those of the file.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    match format {
        Format::Json => {
            let mut value: Value = serde_json::from_str(text).map_err(|source| Error::Json {
                file: file.to_string(),
                line: source.line(),
                column: source.column(),
                source,
            })?;
            super::scalar::integral_floats_as_integers(&mut value);
            let line = text
                .lines()
                .position(|l| !l.trim().is_empty())
                .map(|i| i + 1);
            let origin = Origin {
                file: file.to_string(),
                document: 0,
                line,
            };
            flatten(value, &origin, &mut out)?;
        }
        Format::Yaml => {
            crate::yaml::check_flow_depth(text).map_err(|source| Error::Yaml {
                file: file.to_string(),
                line: source.line,
                column: source.column,
                source,
            })?;
            let starts = document_starts(text);
            if let Some(values) = super::plain::plain_documents(text) {
                // Every document parsed, as the exact path below parses them all before
                // validating any.
                let lines_ok = starts.len() == values.len();
                for (document, value) in values.into_iter().enumerate() {
                    if value.is_null() {
                        continue;
                    }
                    let origin = Origin {
                        file: file.to_string(),
                        document,
                        line: if lines_ok {
                            Some(starts[document])
                        } else {
                            None
                        },
                    };
                    flatten(value, &origin, &mut out)?;
                }
                return Ok(out);
            }
            // The exact path: serde_yaml's values, merge keys applied, converted to JSON.
            let values = exact_values(text).map_err(|e| yaml_error(file, e))?;
            // The scanner and serde_yaml agree on ordinary streams; if an exotic stream makes
            // them disagree, give no line rather than a wrong one.
            let lines_ok = starts.len() == values.len();
            for (document, value) in values.into_iter().enumerate() {
                let line = if lines_ok {
                    Some(starts[document])
                } else {
                    None
                };
                let origin = Origin {
                    file: file.to_string(),
                    document,
                    line,
                };
                if value.is_null() {
                    continue;
                }
                let json = serde_json::to_value(&value).map_err(|source| Error::NotJson {
                    origin: origin.to_string(),
                    source,
                })?;
                flatten(json, &origin, &mut out)?;
            }
        }
    }
    Ok(out)
}

/// How many YAML nodes (scalars, sequences, mappings) the documents of `text` may produce in all,
/// aliases expanded. Without aliases a text has fewer nodes than bytes (every node takes a
/// character and a separator), so this never rejects a file that uses no aliases; it stops an
/// alias bomb (each alias repeats its whole anchor) after memory proportional to the file
/// (about 100 bytes per node), where serde_yaml's own limit (100 alias jumps per event) still
/// lets a file expand a thousandfold.
pub(super) fn node_budget(text: &str) -> usize {
    100_000 + text.len()
}

/// Counts one node against the budget `left`; an error once it is spent.
pub(super) fn take_node<E: de::Error>(left: &Cell<usize>) -> Result<(), E> {
    match left.get().checked_sub(1) {
        Some(rest) => {
            left.set(rest);
            Ok(())
        }
        None => Err(E::custom(
            "the document expands to too many values: its aliases repeat their anchors \
             more than the file's size allows (an alias bomb?)",
        )),
    }
}

/// The documents of `text` read by serde_yaml, plain scalars resolved as a cluster reads them
/// (YAML 1.1, [`super::scalar`]), merge keys applied: the exact path of [`parse`], which the
/// fast path ([`super::plain`]) must match.
pub(super) fn exact_values(text: &str) -> Result<Vec<serde_yaml::Value>, serde_yaml::Error> {
    let budget = Cell::new(node_budget(text));
    serde_yaml::Deserializer::from_str(text)
        .map(|de| {
            let mut value = Bounded {
                left: &budget,
                text,
            }
            .deserialize(de)?;
            value.apply_merge()?;
            Ok(value)
        })
        .collect()
}

/// Deserializes a `serde_yaml::Value` as serde_yaml does, counting nodes against a budget, with
/// the plain scalars of `text` resolved as a cluster resolves them.
struct Bounded<'a> {
    left: &'a Cell<usize>,
    /// The text being read: the strings serde_yaml lends from it tell plain from quoted.
    text: &'a str,
}

impl Bounded<'_> {
    fn take<E: de::Error>(&self) -> Result<(), E> {
        take_node(self.left)
    }
    fn nested(&self) -> Self {
        Bounded {
            left: self.left,
            text: self.text,
        }
    }
}

/// A JSON scalar as the equal `serde_yaml::Value`.
fn yaml_scalar(v: Value) -> serde_yaml::Value {
    match v {
        Value::Bool(b) => serde_yaml::Value::Bool(b),
        Value::Number(n) => serde_yaml::Value::Number(if let Some(i) = n.as_i64() {
            i.into()
        } else if let Some(u) = n.as_u64() {
            u.into()
        } else {
            n.as_f64().unwrap_or(f64::NAN).into()
        }),
        Value::String(s) => serde_yaml::Value::String(s),
        _ => serde_yaml::Value::Null,
    }
}

impl<'de> DeserializeSeed<'de> for Bounded<'_> {
    type Value = serde_yaml::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bounded<'_> {
    type Value = serde_yaml::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        self.take()?;
        Ok(serde_yaml::Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Self::Value, E> {
        self.take()?;
        Ok(serde_yaml::Value::Number(i.into()))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Self::Value, E> {
        self.take()?;
        Ok(serde_yaml::Value::Number(u.into()))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Self::Value, E> {
        self.take()?;
        Ok(yaml_scalar(super::scalar::json_number(f)))
    }
    // serde_yaml reads an integer beyond 64 bits as 128 bits; go-yaml reads it as a float.
    #[allow(clippy::cast_precision_loss)]
    fn visit_i128<E: de::Error>(self, i: i128) -> Result<Self::Value, E> {
        self.visit_f64(i as f64)
    }
    #[allow(clippy::cast_precision_loss)]
    fn visit_u128<E: de::Error>(self, u: u128) -> Result<Self::Value, E> {
        self.visit_f64(u as f64)
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        self.take()?;
        Ok(serde_yaml::Value::String(s.to_owned()))
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        self.take()?;
        if super::scalar::is_plain_in(self.text, s) {
            return Ok(yaml_scalar(super::scalar::resolve(s)));
        }
        Ok(serde_yaml::Value::String(s.to_owned()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        self.take()?;
        Ok(serde_yaml::Value::String(s))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.take()?;
        Ok(serde_yaml::Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        self.take()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self.nested())? {
            out.push(v);
        }
        Ok(serde_yaml::Value::Sequence(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        self.take()?;
        let mut out = serde_yaml::Mapping::new();
        while let Some(key) = map.next_key_seed(self.nested())? {
            if out.contains_key(&key) {
                // serde_yaml's own message (mapping.rs, DuplicateKeyError).
                let which = match &key {
                    serde_yaml::Value::Null => "with null key".to_string(),
                    serde_yaml::Value::Bool(b) => format!("with key `{b}`"),
                    serde_yaml::Value::Number(n) => format!("with key {n}"),
                    serde_yaml::Value::String(s) => format!("with key {s:?}"),
                    _ => "in YAML map".to_string(),
                };
                return Err(de::Error::custom(format!("duplicate entry {which}")));
            }
            let value = map.next_value_seed(self.nested())?;
            out.insert(key, value);
        }
        Ok(serde_yaml::Value::Mapping(out))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        use serde::de::VariantAccess;
        self.take()?;
        let (tag, contents) = data.variant::<String>()?;
        let value = contents.newtype_variant_seed(self.nested())?;
        Ok(serde_yaml::Value::Tagged(Box::new(
            serde_yaml::value::TaggedValue {
                tag: serde_yaml::value::Tag::new(tag),
                value,
            },
        )))
    }
}

fn yaml_error(file: &str, source: serde_yaml::Error) -> Error {
    let source = crate::yaml::YamlError::from(source);
    Error::Yaml {
        file: file.to_string(),
        line: source.line,
        column: source.column,
        source,
    }
}

/// Validates one document and appends it (or, for a `List`, its items) to `out`.
fn flatten(value: Value, origin: &Origin, out: &mut Vec<Object>) -> Result<(), Error> {
    let found = match &value {
        Value::Null => return Ok(()),
        Value::Object(_) => None,
        Value::Bool(_) => Some("boolean"),
        Value::Number(_) => Some("number"),
        Value::String(_) => Some("string"),
        Value::Array(_) => Some("sequence"),
    };
    if let Some(found) = found {
        return Err(Error::NotAnObject {
            origin: origin.to_string(),
            found,
        });
    }
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind.ends_with("List") {
        if let Some(items) = value.get("items").and_then(Value::as_array) {
            for item in items.clone() {
                flatten(item, origin, out)?;
            }
            return Ok(());
        }
    }
    let object = || describe(&value);
    let non_empty = |v: Option<&Value>| v.and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    if !non_empty(value.get("apiVersion")) {
        return Err(Error::MissingApiVersion {
            origin: origin.to_string(),
            object: object(),
        });
    }
    if !non_empty(value.get("kind")) {
        return Err(Error::MissingKind {
            origin: origin.to_string(),
            object: object(),
        });
    }
    let meta = value.get("metadata");
    if let Some((field, found)) = non_string_metadata(meta) {
        return Err(Error::NotAString {
            origin: origin.to_string(),
            object: object(),
            field,
            found,
        });
    }
    if !non_empty(meta.and_then(|m| m.get("name")))
        && !non_empty(meta.and_then(|m| m.get("generateName")))
    {
        return Err(Error::MissingName {
            origin: origin.to_string(),
            object: object(),
        });
    }
    out.push(Object::new(value, origin.clone()));
    Ok(())
}

/// The first of `metadata.name`, `generateName` and `namespace` that is set (not null) to
/// something other than a string, with what it is.
pub(crate) fn non_string_metadata(meta: Option<&Value>) -> Option<(&'static str, &'static str)> {
    let meta = meta?;
    ["name", "generateName", "namespace"]
        .into_iter()
        .find_map(|field| {
            let found = match meta.get(field)? {
                Value::Null | Value::String(_) => return None,
                Value::Bool(_) => "boolean",
                Value::Number(_) => "number",
                Value::Array(_) => "sequence",
                Value::Object(_) => "mapping",
            };
            Some((field, found))
        })
}

/// `Kind/name` of a possibly incomplete object, for error messages.
fn describe(value: &Value) -> String {
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let meta = value.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .or_else(|| meta.and_then(|m| m.get("generateName")))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    crate::text::display_safe(&format!(
        "{}/{}",
        kind.unwrap_or("<no kind>"),
        name.unwrap_or("<no name>")
    ))
    .into_owned()
}

/// The 1-based line on which each YAML document of `text` starts (its first line that is not
/// blank, a comment or a directive), in the order serde_yaml yields documents.
///
/// A line `---` (optionally followed by a space and content) starts a document. Text before the
/// first `---` is a document only if it has content. YAML forbids `---` at the start of a line
/// inside a document, so the scan needs no parser.
pub(crate) fn document_starts(text: &str) -> Vec<usize> {
    fn is_marker(line: &str, marker: &str) -> bool {
        line.strip_prefix(marker)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
    }
    fn is_content(line: &str) -> bool {
        let t = line.trim();
        !t.is_empty() && !t.starts_with('#') && !t.starts_with('%')
    }
    let mut starts = Vec::new();
    // Current document: (explicit, first content line, separator line).
    let mut current: Option<(bool, Option<usize>, usize)> = None;
    let close = |doc: Option<(bool, Option<usize>, usize)>, starts: &mut Vec<usize>| {
        if let Some((explicit, first, sep)) = doc {
            if explicit || first.is_some() {
                starts.push(first.unwrap_or(sep + 1));
            }
        }
    };
    let mut ended = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if is_marker(line, "---") {
            close(current.take(), &mut starts);
            let rest = line[3..].trim();
            let first = (!rest.is_empty() && !rest.starts_with('#')).then_some(n);
            current = Some((true, first, n));
            ended = false;
        } else if is_marker(line, "...") {
            ended = true;
        } else if !ended && is_content(line) {
            let doc = current.get_or_insert((false, None, 0));
            if doc.1.is_none() {
                doc.1 = Some(n);
            }
        }
    }
    close(current.take(), &mut starts);
    starts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use test_case::test_case;

    #[test_case("a: 1\n", &[1] ; "single implicit document")]
    #[test_case("---\na: 1\n", &[2] ; "leading separator")]
    #[test_case("# c\n\na: 1\n---\n# x\nb: 2\n", &[3, 6] ; "comments are skipped")]
    #[test_case("a: 1\n---\n---\nb: 2\n", &[1, 3, 4] ; "empty document in the middle")]
    #[test_case("a: 1\n---\n", &[1, 3] ; "trailing separator opens an empty document")]
    #[test_case("", &[] ; "empty text")]
    #[test_case("# only a comment\n", &[] ; "comment only")]
    #[test_case("--- a\n", &[1] ; "content on the separator line")]
    fn document_starts_match_separators(text: &str, expected: &[usize]) {
        assert_eq!(document_starts(text), expected);
    }

    #[test_case("a: 1\n---\n---\nb: 2\n" ; "empty document in the middle")]
    #[test_case("a: 1\n---\n" ; "trailing separator")]
    #[test_case("---\na: 1\n...\n" ; "document end marker")]
    #[test_case("# c\n---\n# only comment\n---\nb: 1\n" ; "comment only document")]
    fn scanner_agrees_with_serde_yaml_on_document_count(text: &str) {
        let n = serde_yaml::Deserializer::from_str(text).count();
        assert_eq!(document_starts(text).len(), n, "{text:?}");
    }

    const TWO: &str = "\
# leading comment
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
---
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata: {name: s}
- apiVersion: v1
  kind: Service
  metadata: {name: svc}
---
null
";

    #[test]
    fn multi_document_yaml_keeps_origin_and_flattens_lists() {
        let objs = from_yaml_str(TWO, "f.yaml").unwrap();
        let got: Vec<_> = objs
            .iter()
            .map(|o| (o.display_name(), o.origin.document, o.origin.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("ConfigMap/a".to_string(), 0, Some(2)),
                ("Secret/s".to_string(), 2, Some(8)),
                ("Service/svc".to_string(), 2, Some(8)),
            ]
        );
    }

    #[test]
    fn yaml_syntax_error_names_file_line_and_column() {
        let err = from_yaml_str("a: 1\n---\nkind: [\n", "bad.yaml").unwrap_err();
        match &err {
            Error::Yaml { file, line, .. } => {
                assert_eq!(file, "bad.yaml");
                assert!(line.is_some_and(|l| l >= 3), "line {line:?}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            err.to_string().starts_with("invalid YAML at bad.yaml:"),
            "{err}"
        );
    }

    #[test_case("kind: ConfigMap\nmetadata: {name: a}\n", "has no `apiVersion`" ; "missing apiVersion")]
    #[test_case("apiVersion: v1\nmetadata: {name: a}\n", "has no `kind`" ; "missing kind")]
    #[test_case("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "neither `metadata.name`" ; "missing name")]
    #[test_case("- a\n- b\n", "is not a Kubernetes object: it is a sequence" ; "sequence document")]
    #[test_case("just text\n", "it is a string" ; "scalar document")]
    fn invalid_objects_are_errors_naming_file_and_line(text: &str, needle: &str) {
        let text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ok}}\n---\n{text}");
        let err = from_yaml_str(&text, "x.yaml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(needle), "{msg}");
        assert!(msg.contains("x.yaml:5"), "{msg}");
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn missing_kind_error_names_the_object() {
        let err = from_yaml_str("apiVersion: v1\nmetadata: {name: web}\n", "x.yaml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "object `<no kind>/web` at x.yaml:1 has no `kind` (every object needs one, e.g. `kind: Deployment`)"
        );
    }

    #[test]
    fn generate_name_alone_is_enough() {
        let objs = from_yaml_str(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: m-}\n",
            "j",
        )
        .unwrap();
        assert_eq!(objs[0].generate_name(), Some("m-"));
    }

    /// A manifest's plain scalars read as Argo CD's repo server and kubectl read them: YAML 1.1
    /// through sigs.k8s.io/yaml (sigs.k8s.io/yaml/yaml.go `yamlToJSON`, gopkg.in/yaml.v2/resolve.go
    /// `resolve`), whichever of the three readers takes the document: the block subset, the
    /// plain path (a comment takes it there) or the exact path (an anchor and a merge key).
    #[test]
    fn plain_scalars_are_read_as_yaml_1_1() {
        let body = "data:\n  mode: 0755\n  quoted: '0755'\n  enabled: yes\n  said: \"no\"\n  \
                    tagged: !!str off\n  list: [on, 08, 1_000, '1_000', 2.0]\n  flow: {k: Y}\n  \
                    anchored: &a n\n  alias: *a\n";
        let want = json!({"mode": 493, "quoted": "0755", "enabled": true, "said": "no",
                          "tagged": "off", "list": [true, 8, 1000, "1_000", 2],
                          "flow": {"k": true}, "anchored": false, "alias": false});
        let block = body
            .replace("  tagged: !!str off\n", "  tagged: 'off'\n")
            .replace(
                "  anchored: &a n\n  alias: *a\n",
                "  anchored: n\n  alias: N\n",
            );
        let texts = [
            ("block", block.clone()),
            ("plain", format!("# a comment\n{block}")),
            (
                "exact",
                format!("base: &b {{x: 1}}\nmerged:\n  <<: *b\n{body}"),
            ),
        ];
        for (path, text) in texts {
            let doc = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\n{text}");
            let objs = from_yaml_str(&doc, "c.yaml").unwrap();
            assert_eq!(objs[0].value["data"], want, "{path}: {doc}");
        }
        // A key is a string in JSON: a boolean or number key is printed (`on:` is "true").
        let objs = from_yaml_str(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {on: a, 0755: b, 'no': c}\n",
            "c.yaml",
        )
        .unwrap();
        assert_eq!(
            objs[0].value["data"],
            json!({"true": "a", "493": "b", "no": "c"})
        );
        // JSON manifests: a float without a fraction reaches the API server as an integer.
        let objs = parse(
            r#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                "spec": {"replicas": 2.0}}"#,
            "d.json",
            Format::Json,
        )
        .unwrap();
        assert_eq!(objs[0].value["spec"]["replicas"], json!(2));
    }

    #[test]
    fn values_match_serde_yamls_own() {
        let text =
            "a: 1\nb: [x, -2, 1.5, true, null, ~]\nc: {d: &e {f: g}}\nh: *e\ni: !t x\nj: !!str 3\n";
        let budget = Cell::new(node_budget(text));
        let ours = Bounded {
            left: &budget,
            text,
        }
        .deserialize(serde_yaml::Deserializer::from_str(text))
        .unwrap();
        let theirs: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
        assert_eq!(ours, theirs);
        let dup = "a: 1\na: 2\n";
        let budget = Cell::new(node_budget(dup));
        let ours = Bounded {
            left: &budget,
            text: dup,
        }
        .deserialize(serde_yaml::Deserializer::from_str(dup))
        .unwrap_err();
        let theirs = serde_yaml::from_str::<serde_yaml::Value>(dup).unwrap_err();
        assert_eq!(ours.to_string(), theirs.to_string());
    }

    #[test]
    fn an_alias_bomb_is_stopped_in_bounded_memory() {
        // 9 levels of 10 aliases each: 10^9 values if expanded.
        let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let refs = vec![format!("*l{}", i - 1); 10].join(", ");
            text.push_str(&format!("  l{i}: &l{i} [{refs}]\n"));
        }
        // Padded with 50 000 plain values, the file would get 5 million alias jumps from
        // serde_yaml's own limit (100 per event: tens of millions of values, gigabytes); the
        // node budget stops it, as it stops the bare bomb.
        let padded = format!("{text}  pad: [{}0]\n", "0, ".repeat(50_000));
        for (text, needle) in [(&text, "alias bomb"), (&padded, "alias bomb")] {
            let start = std::time::Instant::now();
            let err = from_yaml_str(text, "bomb.yaml").unwrap_err();
            assert!(
                err.to_string().starts_with("invalid YAML at bomb.yaml"),
                "{err}"
            );
            let cause = std::error::Error::source(&err).unwrap().to_string();
            assert!(cause.contains(needle), "{cause}");
            assert!(start.elapsed() < std::time::Duration::from_secs(10));
        }
    }

    #[test]
    fn yaml_merge_keys_are_applied() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nbase: &b {x: 1}\ndata:\n  <<: *b\n  y: '2'\n";
        let objs = from_yaml_str(text, "m.yaml").unwrap();
        assert_eq!(objs[0].value["data"]["x"], 1);
    }

    #[test]
    fn json_file_is_one_object_with_line_errors() {
        let objs = parse(
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"j\"}}",
            "c.json",
            Format::Json,
        )
        .unwrap();
        assert_eq!(objs[0].display_name(), "ConfigMap/j");
        let err = parse("{\n  \"a\": ,\n}", "c.json", Format::Json).unwrap_err();
        assert!(
            err.to_string().starts_with("invalid JSON at c.json:2:"),
            "{err}"
        );
    }
}
