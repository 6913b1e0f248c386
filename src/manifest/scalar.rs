//! Plain YAML scalars as Kubernetes reads them: YAML 1.1.
//!
//! Argo CD's repo server and kubectl turn manifests into JSON through sigs.k8s.io/yaml, which
//! reads YAML with go-yaml v2: plain (unquoted, untagged) scalars resolve by YAML 1.1's rules,
//! not YAML 1.2's (which serde_yaml follows). The two disagree on a handful of spellings:
//!
//! | plain scalar | YAML 1.1 (a cluster) | YAML 1.2 (serde_yaml) |
//! |---|---|---|
//! | `yes` `no` `on` `off` `y` `n` (and `Yes`, `YES`, …) | boolean | string |
//! | `0755` (a leading zero) | octal integer 493 | string |
//! | `08`, `09.5` (a leading zero, not octal) | number 8, 9.5 | string |
//! | `1_000` (underscores) | integer 1000 | string |
//!
//! The JSON sigs.k8s.io/yaml makes is read back with integers where a number has no fraction
//! (`2.0` and `1e3` arrive as `2` and `1000`): Go prints such a float without a fraction and
//! apimachinery's JSON reader takes an integer where one parses. [`resolve`] gives the value a
//! plain scalar has after both steps; [`json_number`] does the second step for a float the YAML
//! parser has already read.
use serde_json::Value;

/// The value a plain YAML scalar `s` has on a cluster: go-yaml v2's `resolve` for an untagged
/// scalar, then the JSON round trip (see the module's documentation). A float that is not
/// finite (`.inf`, `.nan`) is `null`, as every other path of the parser gives it.
pub(crate) fn resolve(s: &str) -> Value {
    unless_string(s).unwrap_or_else(|| Value::String(s.to_string()))
}

/// [`resolve`], `None` where the scalar is a string (without copying it).
pub(crate) fn unless_string(s: &str) -> Option<Value> {
    let Some(&first) = s.as_bytes().first() else {
        return Some(Value::Null);
    };
    match s {
        "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Some(Value::Bool(true))
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Some(Value::Bool(false))
        }
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF"
        | "-.inf" | "-.Inf" | "-.INF" => return Some(Value::Null),
        _ => {}
    }
    match first {
        // go-yaml's hint '.': Go's ParseFloat of the scalar as it is.
        b'.' => decimal_float(s).map(json_number),
        // Hints 'D' and 'S': an integer in any of Go's bases, else a decimal float, underscores
        // removed first.
        b'0'..=b'9' | b'+' | b'-' => {
            let plain = if s.contains('_') {
                std::borrow::Cow::Owned(s.replace('_', ""))
            } else {
                std::borrow::Cow::Borrowed(s)
            };
            go_int(&plain)
                .or_else(|| go_uint(&plain).map(Value::from))
                .or_else(|| decimal_float(&plain).map(json_number))
        }
        // Any other first character: a string (`yYnNtTfFoO~` only in the table above).
        _ => None,
    }
}

/// A float as it is read back from the JSON Go prints of it: an integer when it has no
/// fraction and fits 64 signed bits (Go prints it without a fraction or exponent below 1e21,
/// and apimachinery's `util/json` takes an int64 where one parses), `null` when not finite
/// (serde_json's value of such a float), else the float.
pub(crate) fn json_number(f: f64) -> Value {
    // 2^63: the first integral float outside i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f) {
        #[allow(clippy::cast_possible_truncation)]
        return Value::from(f as i64);
    }
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// Every float in `value` as [`json_number`] gives it: what the API server receives of a JSON
/// manifest (`2.0` is sent as `2`).
pub(crate) fn integral_floats_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            *value = json_number(n.as_f64().unwrap_or(f64::NAN));
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(map) => map.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`: an optional sign, then `0x`, `0o`, `0b` (any case) or a
/// leading `0` (octal) choose the base; `None` for a syntax or range error.
fn go_int(s: &str) -> Option<Value> {
    let (negative, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = go_uint_digits(unsigned)?;
    let value = if negative {
        0i64.checked_sub_unsigned(magnitude)?
    } else {
        i64::try_from(magnitude).ok()?
    };
    Some(Value::from(value))
}

/// Go's `strconv.ParseUint(s, 0, 64)` (no sign), tried after [`go_int`] fails: the integers
/// above `i64::MAX`.
fn go_uint(s: &str) -> Option<u64> {
    go_uint_digits(s)
}

/// The digits of an unsigned Go integer literal with its base prefix.
fn go_uint_digits(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let (radix, digits) = match b {
        [] => return None,
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'x') => (16, &s[2..]),
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'o') => (8, &s[2..]),
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'b') => (2, &s[2..]),
        [b'0', ..] => (8, &s[1..]),
        _ => (10, s),
    };
    if !digits.bytes().all(|d| char::from(d).is_digit(radix)) {
        return None;
    }
    if digits.is_empty() {
        // Only "0" gets here (a prefix needs a digit after it): zero.
        return Some(0);
    }
    u64::from_str_radix(digits, radix).ok()
}

/// A float as go-yaml v2 takes one: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
/// (its `yamlStyleFloat`) read by Go's ParseFloat, which fails on overflow.
fn decimal_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return None;
        }
    } else {
        if digits(&mut i) == 0 {
            return None;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Whether `s`, a string serde_yaml lent from `text` (`Visitor::visit_borrowed_str`), was a
/// plain scalar there, neither quoted nor tagged: serde_yaml lends a plain scalar and a quoted
/// one without escapes alike, and only the text tells them apart. A quoted scalar sits between
/// its quotes; a plain one follows a separator, an indicator or the start of the text, and a
/// tagged one (`!!str 0755`) follows its tag. `false` for a string not lent from `text`.
pub(crate) fn is_plain_in(text: &str, s: &str) -> bool {
    let start = (s.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    if start > text.len() || text.len() - start < s.len() {
        return false;
    }
    let before = &text.as_bytes()[..start];
    match before.last() {
        None => true,
        Some(b' ' | b'\t' | b'\n' | b'\r') => {
            // The token before the separator: a tag (`!…`) makes the scalar tagged; an anchor
            // (`&a`) does not, but a tag may precede it.
            let mut rest = before;
            loop {
                let trimmed = rest.trim_ascii_end();
                let token_start = trimmed
                    .iter()
                    .rposition(|c| c.is_ascii_whitespace())
                    .map_or(0, |i| i + 1);
                match trimmed.get(token_start) {
                    Some(b'!') => return false,
                    Some(b'&') => rest = &trimmed[..token_start],
                    _ => return true,
                }
            }
        }
        Some(b'[' | b'{' | b',' | b':') => true,
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// go-yaml v2's resolve table and number rules (gopkg.in/yaml.v2/resolve.go: `resolveMapList`,
    /// the `'D', 'S'` and `'.'` hints, `yamlStyleFloat`), as sigs.k8s.io/yaml/yaml.go
    /// (`yamlToJSON`) prints them to JSON and k8s.io/apimachinery/pkg/util/json reads them back.
    #[test]
    fn plain_scalars_resolve_as_go_yaml_v2_reads_them() {
        let cases: &[(&str, Value)] = &[
            ("", Value::Null),
            ("~", Value::Null),
            ("null", Value::Null),
            ("NULL", Value::Null),
            ("nULL", json!("nULL")),
            ("yes", json!(true)),
            ("Yes", json!(true)),
            ("YES", json!(true)),
            ("yES", json!("yES")),
            ("y", json!(true)),
            ("Y", json!(true)),
            ("on", json!(true)),
            ("ON", json!(true)),
            ("true", json!(true)),
            ("no", json!(false)),
            ("n", json!(false)),
            ("N", json!(false)),
            ("off", json!(false)),
            ("Off", json!(false)),
            ("FALSE", json!(false)),
            ("0755", json!(493)),
            ("-0755", json!(-493)),
            ("0", json!(0)),
            ("00", json!(0)),
            ("-0", json!(0)),
            ("08", json!(8)),
            ("09.5", json!(9.5)),
            ("0o755", json!(493)),
            ("0O755", json!(493)),
            ("0x1F", json!(31)),
            ("0X1f", json!(31)),
            ("-0x1F", json!(-31)),
            ("0b101", json!(5)),
            ("-0b101", json!(-5)),
            ("0x", json!("0x")),
            ("0b2", json!("0b2")),
            ("1_000", json!(1000)),
            ("1__0", json!(10)),
            ("0x_1F", json!(31)),
            ("1_000.5", json!(1000.5)),
            ("+12", json!(12)),
            ("+", json!("+")),
            ("-", json!("-")),
            ("9223372036854775807", json!(i64::MAX)),
            ("-9223372036854775808", json!(i64::MIN)),
            ("18446744073709551615", json!(u64::MAX)),
            ("18446744073709551616", json!(18_446_744_073_709_551_616.0)),
            ("1.5", json!(1.5)),
            ("2.0", json!(2)),
            ("1e3", json!(1000)),
            ("1E3", json!(1000)),
            ("1.", json!(1)),
            ("1.e2", json!(100)),
            (".5", json!(0.5)),
            ("+.5", json!(0.5)),
            ("-.5e1", json!(-5)),
            (".5_0", json!(".5_0")),
            ("1e400", json!("1e400")),
            ("1e", json!("1e")),
            (".", json!(".")),
            (".e5", json!(".e5")),
            (".inf", Value::Null),
            ("-.Inf", Value::Null),
            (".NaN", Value::Null),
            ("+.nan", json!("+.nan")),
            ("inf", json!("inf")),
            ("nan", json!("nan")),
            ("1e21", json!(1e21)),
            // A timestamp is one for go-yaml, and a string when read into interface{}.
            ("2026-12-04", json!("2026-12-04")),
            ("2026-12-04T18:00:00Z", json!("2026-12-04T18:00:00Z")),
            ("12:30", json!("12:30")),
            ("1.2.3", json!("1.2.3")),
            ("v1", json!("v1")),
            ("<<", json!("<<")),
            ("0755 x", json!("0755 x")),
        ];
        for (scalar, want) in cases {
            assert_eq!(&resolve(scalar), want, "{scalar:?}");
        }
    }

    #[test]
    fn floats_without_a_fraction_read_back_as_integers() {
        let mut v = json!({"a": [2.0, 2.5, {"b": -1.0}], "c": "2.0", "d": 7});
        integral_floats_as_integers(&mut v);
        assert_eq!(v, json!({"a": [2, 2.5, {"b": -1}], "c": "2.0", "d": 7}));
        assert_eq!(json_number(3.0), json!(3));
        assert_eq!(json_number(-0.0), json!(0));
        assert_eq!(json_number(0.25), json!(0.25));
        assert_eq!(json_number(-9_223_372_036_854_775_808.0), json!(i64::MIN));
        assert_eq!(
            json_number(9_223_372_036_854_775_808.0),
            json!(9.223_372_036_854_776e18)
        );
        assert_eq!(json_number(f64::INFINITY), Value::Null);
        assert_eq!(json_number(f64::NAN), Value::Null);
    }

    #[test]
    fn a_lent_string_is_plain_unless_quoted_or_tagged() {
        let text = "a: 0755\nb: '0755'\nc: \"yes\"\nd: !!str yes\ne: &x on\nf: [on,off]\n\
                    g: !!str &y n\nh: {\"k\":y}\ni: !!str\n  no\n";
        // The `len` bytes right after the unique `prefix`.
        let after = |prefix: &str, len: usize| -> &str {
            assert_eq!(text.matches(prefix).count(), 1, "{prefix:?}");
            let i = text.find(prefix).unwrap() + prefix.len();
            &text[i..i + len]
        };
        assert!(is_plain_in(text, after("a: ", 4)));
        assert!(!is_plain_in(text, after("b: '", 4)));
        assert!(!is_plain_in(text, after("c: \"", 3)));
        assert!(!is_plain_in(text, after("d: !!str ", 3)));
        assert!(is_plain_in(text, after("e: &x ", 2)));
        assert!(is_plain_in(text, after("f: [", 2)));
        assert!(is_plain_in(text, after("[on,", 3)));
        assert!(!is_plain_in(text, after("&y ", 1)));
        assert!(is_plain_in(text, after("\"k\":", 1)));
        assert!(!is_plain_in(text, after("i: !!str\n  ", 2)));
        assert!(is_plain_in(text, &text[..1]));
        assert!(!is_plain_in(text, &String::from("0755")));
    }
}
