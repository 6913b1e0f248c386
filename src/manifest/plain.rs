//! The fast path of [`super::parse`]: plain YAML (string keys, no merge keys, no tags) read
//! straight into JSON values, a large text parsed in parts on several threads; within a part,
//! each document in the subset renderers print is read by [`super::block`], the others by
//! serde_yaml.
use super::{
    block,
    parse::{node_budget, take_node},
    scalar,
};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::{cell::Cell, fmt};

/// Every document of `text` straight as JSON, when that is what the exact path of [`super::parse::parse`]
/// gives: no YAML error, no node past the budget, and every mapping plain (string keys other
/// than the merge key `<<`, none repeated), with no custom tag (`!t x`) anywhere. Then there are
/// no merge keys to apply and `serde_json::to_value` of serde_yaml's value is a move of each
/// node, so building the YAML tree first is only cost: about a third of the time and memory of
/// a large render. `None` for any other text, which the exact path parses again and reports on.
///
/// A large text is cut into parts at `---` lines and the parts are parsed on threads, one a
/// core. YAML documents are independent (anchors and directives do not cross them) and a `---`
/// at the start of a line always starts one (a scalar or collection open across it is an
/// error, in the whole as in the part that ends inside it), so the parts give the documents of
/// the whole; where a cut would not hold (say a directive left at the end of a part), that part
/// is a YAML error and the text takes the exact path. Each part may spend the whole node
/// budget; together they may not.
pub(super) fn plain_documents(text: &str) -> Option<Vec<Value>> {
    let budget = node_budget(text);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let parts = split_documents(text, threads.min(text.len() / MIN_PART_BYTES).max(1));
    let (first, rest) = parts.split_first()?;
    let parsed: Vec<Option<(Vec<Value>, usize)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = rest
            .iter()
            .map(|part| scope.spawn(move || plain_part(part, budget)))
            .collect();
        let mut parsed = vec![plain_part(first, budget)];
        for handle in handles {
            parsed.push(
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        parsed
    });
    let mut values = Vec::new();
    let mut spent = 0;
    for part in parsed {
        let (part_values, part_spent) = part?;
        values.extend(part_values);
        spent += part_spent;
    }
    (spent <= budget).then_some(values)
}

/// The smallest part [`plain_documents`] gives a thread: below it, a thread is not worth it.
const MIN_PART_BYTES: usize = 256 * 1024;

/// The documents of one part of a text, with the nodes they took of `budget`. Each document in
/// the subset [`block`] reads is read there; serde_yaml reads the others.
fn plain_part(text: &str, budget: usize) -> Option<(Vec<Value>, usize)> {
    let left = Cell::new(budget);
    let values = match block::segments(text) {
        Some(segments) => segments
            .into_iter()
            .map(|segment| {
                let fast = Cell::new(left.get());
                if let Some(value) = block::document(segment, &fast) {
                    left.set(fast.get());
                    return Some(value);
                }
                let mut documents = serde_yaml::Deserializer::from_str(segment);
                let value = Plain {
                    left: &left,
                    text: segment,
                }
                .deserialize(documents.next()?)
                .ok()?;
                documents.next().is_none().then_some(value)
            })
            .collect::<Option<Vec<_>>>()?,
        None => serde_yaml::Deserializer::from_str(text)
            .map(|de| Plain { left: &left, text }.deserialize(de).ok())
            .collect::<Option<Vec<_>>>()?,
    };
    Some((values, budget - left.get()))
}

/// `text` cut into at most `parts` pieces of about equal size, each after the first starting at
/// a `---` line (as [`document_starts`] reads them).
fn split_documents(text: &str, parts: usize) -> Vec<&str> {
    let mut cuts = vec![0];
    for k in 1..parts {
        let mut from = (text.len() * k / parts).max(*cuts.last().expect("cuts start with 0"));
        while !text.is_char_boundary(from) {
            from += 1;
        }
        let found = text[from..].match_indices("\n---").find_map(|(i, _)| {
            let start = from + i + 1;
            let rest = &text[start + 3..];
            (rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n'])).then_some(start)
        });
        match found {
            Some(start) => cuts.push(start),
            None => break,
        }
    }
    cuts.push(text.len());
    cuts.windows(2).map(|w| &text[w[0]..w[1]]).collect()
}

/// Deserializes a plain document (see [`plain_documents`]) as a `serde_json::Value`, counting
/// nodes as [`Bounded`] does and resolving plain scalars of `text` as it does; anything else is
/// an error.
struct Plain<'a> {
    left: &'a Cell<usize>,
    text: &'a str,
}

impl<'de> DeserializeSeed<'de> for Plain<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// The values are those `serde_json::to_value` makes of [`Bounded`]'s (numbers as serde_yaml's
/// `Number` serializes them, a non-finite float as `null`); a tag (`!t x`), and anything else
/// [`Bounded`] does not take either, is an error by serde's default methods.
impl<'de> Visitor<'de> for Plain<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a plain YAML value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        take_node(self.left)?;
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Self::Value, E> {
        take_node(self.left)?;
        Ok(Value::Number(i.into()))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Self::Value, E> {
        take_node(self.left)?;
        Ok(Value::Number(u.into()))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Self::Value, E> {
        take_node(self.left)?;
        Ok(scalar::json_number(f))
    }
    // As the exact path reads them: a float, as go-yaml reads them.
    #[allow(clippy::cast_precision_loss)]
    fn visit_i128<E: de::Error>(self, i: i128) -> Result<Self::Value, E> {
        self.visit_f64(i as f64)
    }
    #[allow(clippy::cast_precision_loss)]
    fn visit_u128<E: de::Error>(self, u: u128) -> Result<Self::Value, E> {
        self.visit_f64(u as f64)
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        take_node(self.left)?;
        Ok(Value::String(s.to_owned()))
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        take_node(self.left)?;
        if scalar::is_plain_in(self.text, s) {
            return Ok(scalar::resolve(s));
        }
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        take_node(self.left)?;
        Ok(Value::String(s))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        take_node(self.left)?;
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        take_node(self.left)?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Plain {
            left: self.left,
            text: self.text,
        })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        take_node(self.left)?;
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key_seed(PlainKey {
            left: self.left,
            text: self.text,
        })? {
            let value = map.next_value_seed(Plain {
                left: self.left,
                text: self.text,
            })?;
            if out.insert(key, value).is_some() {
                return Err(de::Error::custom("duplicate key"));
            }
        }
        Ok(Value::Object(out))
    }
}

/// A mapping key of a plain document: a string other than the merge key `<<`.
struct PlainKey<'a> {
    left: &'a Cell<usize>,
    text: &'a str,
}

impl<'de> DeserializeSeed<'de> for PlainKey<'_> {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PlainKey<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key other than `<<`")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        self.visit_string(s.to_owned())
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        // A plain key that a cluster reads as a boolean or a number (`on:`, `0755:`) is not a
        // string key: the exact path makes it one as sigs.k8s.io/yaml does.
        if scalar::is_plain_in(self.text, s) && scalar::unless_string(s).is_some() {
            return Err(E::custom("a key that is not a string"));
        }
        self.visit_string(s.to_owned())
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        take_node(self.left)?;
        if s == "<<" {
            return Err(E::custom("merge key"));
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_documents_are_the_exact_paths_json_or_none() {
        let exact = |text: &str| -> Vec<Value> {
            super::super::parse::exact_values(text)
                .unwrap()
                .into_iter()
                .map(|v| serde_json::to_value(v).unwrap())
                .collect()
        };
        for text in [
            "a: 1\nb: [x, -2, 1.5, true, null, ~, .nan, .inf]\nc: {d: &e {f: g}}\nh: *e\n",
            "a: 1\n---\n---\n'1': \"<<x\"\n...\n",
            "j: !!str 3\nk: 18446744073709551615\nl: -9223372036854775808\nm: |\n  ---x\n",
            // Comments before the first marker are no document; after a marker they are one.
            "# header\n---\na: 1\n",
            "  # header\r\n\r\n---\na: 1\n---\n# a comment alone\n---\nb: 2\n",
            "# a comment alone\n",
        ] {
            assert_eq!(plain_documents(text).unwrap(), exact(text), "{text:?}");
        }
        for text in [
            "a: &b {x: 1}\nc:\n  <<: *b\n",
            "1: a\n",
            "true: a\n",
            "a: 1\na: 2\n",
            "i: !t x\n",
            "? [a]\n: b\n",
            "a: 1\n---\nb: [\n",
            "\t# a tab where YAML refuses one\n---\na: 1\n",
        ] {
            assert!(plain_documents(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn a_text_cut_at_document_lines_gives_the_documents_of_the_whole() {
        let text: String = (0..40)
            .map(|i| format!("--- # {i}\nkind: K\nv: {i}\ns: |\n  ---\n  x\n---\n"))
            .collect();
        let whole = plain_part(&text, node_budget(&text)).unwrap();
        for parts in [1, 2, 3, 8] {
            let cut = split_documents(&text, parts);
            assert_eq!(cut.len(), parts);
            assert_eq!(cut.concat(), text);
            let mut values = Vec::new();
            let mut spent = 0;
            for part in &cut {
                assert!(part.starts_with("---"), "{part:?}");
                let (v, n) = plain_part(part, node_budget(&text)).unwrap();
                values.extend(v);
                spent += n;
            }
            assert_eq!((values, spent), whole);
        }
        // A directive left at the end of a part is an error there: the exact path takes it.
        let directive = "a: 1\n...\n%YAML 1.1\n---\nb: 2\n";
        assert!(plain_part(directive, 1000).is_some());
        assert!(plain_part(split_documents(directive, 2)[0], 1000).is_none());
    }
}
