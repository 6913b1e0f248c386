//! Directory sources with Argo CD's directory options: only the top directory unless `recurse`,
//! `*.yaml`, `*.yml` and `*.json` files, `exclude` then `include` glob patterns matched against
//! the path relative to the source directory (`{a,b}` alternatives; `*` also crosses `/`, as in
//! the glob library Argo CD uses). `*.jsonnet` files and `directory.jsonnet` are refused.
use super::{error::At, spec::DirectorySpec, Error};
use crate::manifest::{self, Object};
use regex::Regex;
use std::path::Path;

/// A glob pattern as a regular expression.
fn glob_regex(pattern: &str) -> Result<Regex, regex::Error> {
    let mut re = String::from("^");
    let mut chars = pattern.chars().peekable();
    let mut in_braces = 0;
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                if chars.peek() == Some(&'*') {
                    chars.next();
                }
                re.push_str(".*");
            }
            '?' => re.push('.'),
            '{' => {
                in_braces += 1;
                re.push_str("(?:");
            }
            '}' if in_braces > 0 => {
                in_braces -= 1;
                re.push(')');
            }
            ',' if in_braces > 0 => re.push('|'),
            '[' => {
                re.push('[');
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    if c == '\\' {
                        re.push_str("\\\\");
                    } else {
                        re.push(c);
                    }
                }
                re.push(']');
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    re.push_str(&regex::escape(&n.to_string()));
                }
            }
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re)
}

fn pattern(p: Option<&str>, at: &At) -> Result<Option<Regex>, Error> {
    match p.map(str::trim).filter(|p| !p.is_empty()) {
        None => Ok(None),
        Some(p) => glob_regex(p)
            .map(Some)
            .map_err(|e| at.err(format!("`{p}` is not a valid glob pattern: {e}"))),
    }
}

/// Reads the manifests of `dir`; origins name `display` + the relative path.
pub fn render(
    dir: &Path,
    display: &str,
    d: Option<&DirectorySpec>,
    at: &At,
) -> Result<Vec<Object>, Error> {
    let default = DirectorySpec::default();
    let d = d.unwrap_or(&default);
    let dat = at.field("directory");
    if d.jsonnet.as_ref().is_some_and(|j| match j {
        serde_json::Value::Object(m) => m.values().any(|v| match v {
            serde_json::Value::Array(a) => !a.is_empty(),
            serde_json::Value::Null => false,
            _ => true,
        }),
        serde_json::Value::Null => false,
        _ => true,
    }) {
        return Err(dat.field("jsonnet").unsupported(
            "Jsonnet",
            "render it to YAML first and point the Application at the result",
        ));
    }
    let include = pattern(d.include.as_deref(), &dat.field("include"))?;
    let exclude = pattern(d.exclude.as_deref(), &dat.field("exclude"))?;
    let mut walk = walkdir::WalkDir::new(dir).sort_by_file_name();
    if !d.recurse {
        walk = walk.max_depth(1);
    }
    let mut objects = Vec::new();
    for entry in walk {
        let entry = entry.map_err(|e| {
            at.render(manifest::Error::Walk {
                path: display.to_string(),
                source: e,
            })
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        let ext = entry
            .path()
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("");
        if !matches!(ext, "yaml" | "yml" | "json" | "jsonnet") {
            continue;
        }
        if exclude.as_ref().is_some_and(|re| re.is_match(&rel)) {
            continue;
        }
        if include.as_ref().is_some_and(|re| !re.is_match(&rel)) {
            continue;
        }
        if ext == "jsonnet" {
            return Err(at.unsupported(
                format!("Jsonnet (`{rel}`)"),
                "render it to YAML first, or exclude it with directory.exclude",
            ));
        }
        let text = std::fs::read_to_string(entry.path()).map_err(|e| at.io(entry.path(), e))?;
        let name = format!("{}/{rel}", display.trim_end_matches('/'));
        let parsed = if ext == "json" {
            manifest::parse_text(&text, &name, true)
        } else {
            manifest::from_yaml_str(&text, &name)
        };
        objects.extend(parsed.map_err(|e| at.render(e))?);
    }
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("*.yaml", "a.yaml", true ; "star")]
    #[test_case("*.yaml", "sub/a.yaml", true ; "star crosses slash")]
    #[test_case("{a.yaml,b.yml}", "b.yml", true ; "alternatives")]
    #[test_case("{a.yaml,b.yml}", "c.yml", false ; "no alternative")]
    #[test_case("config-?.json", "config-1.json", true ; "question mark")]
    #[test_case("*.yaml", "a.yml", false ; "extension differs")]
    fn globs_match_like_argo_cd(pattern: &str, path: &str, want: bool) {
        assert_eq!(glob_regex(pattern).unwrap().is_match(path), want);
    }
}
