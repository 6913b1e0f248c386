//! Resolving a source: the app name it gets, and how it is recorded.
//!
//! An app name becomes the Docker network `syncsim-<app>`, the label `dev.syncsim.app`, part
//! of every container and volume name, and the record's file name. A name given with `--app`
//! must therefore already be a DNS-1123 label (lowercase letters, digits and `-`, starting and
//! ending with a letter or digit) of at most [`MAX_APP_LEN`] characters, as Argo CD's
//! Application names are: anything else is refused (exit 2) with the name to use instead,
//! never renamed silently (`rel_a` and `rel-a` would otherwise be one app). Only the default
//! name, derived from the source's folder, is made DNS-safe.
use super::Error;
use std::path::Path;

/// The longest app name: container, volume and host names are built from it (a volume name
/// is a file name on the engine, at most 255 bytes), like Helm's 53-character release names.
pub const MAX_APP_LEN: usize = 53;

/// The default app name: the source folder's (or file's) name, made DNS-safe.
pub fn default_app_name(source: &str) -> String {
    if source == "-" {
        return "stdin".into();
    }
    let path = Path::new(source);
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let raw = if abs.is_dir() {
        abs.file_name().map(|s| s.to_string_lossy().to_string())
    } else {
        abs.file_stem().map(|s| s.to_string_lossy().to_string())
    };
    sanitize(&raw.unwrap_or_else(|| "app".into()))
}

/// A derived name made DNS-safe: lowercase, other characters `-` (`My_App` → `my-app`), at
/// most [`MAX_APP_LEN`] characters; `app` when nothing is left.
pub fn sanitize(s: &str) -> String {
    let out: String = s
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut out = out.trim_matches('-').to_string();
    out.truncate(MAX_APP_LEN);
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "app".into()
    } else {
        out
    }
}

/// Checks an app name given by the user (see the module documentation).
///
/// # Errors
///
/// [`Error::BadInput`] (exit 2) naming the rule and, when there is one, the name to use.
pub fn validate_app(app: &str) -> Result<String, Error> {
    let dns = !app.is_empty()
        && app
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !app.starts_with('-')
        && !app.ends_with('-');
    if dns && app.len() <= MAX_APP_LEN {
        return Ok(app.to_string());
    }
    let shown: String = app.escape_debug().take(80).collect();
    let rule = format!("an app name must be 1 to {MAX_APP_LEN} lowercase letters, digits or `-`, starting and ending with a letter or digit (a DNS-1123 label, as Argo CD requires)");
    let fix = sanitize(app);
    let hint = if app.is_empty() || fix == "app" && !app.eq_ignore_ascii_case("app") {
        "; give one with `--app NAME`, or leave `--app` out to use the source's folder name"
            .to_string()
    } else {
        format!("; did you mean `--app {fix}`?")
    };
    Err(Error::BadInput(format!("--app `{shown}`: {rule}{hint}")))
}

/// The app name: `--app` checked by [`validate_app`], else the source's default.
///
/// # Errors
///
/// See [`validate_app`].
pub fn app_name(app: Option<&str>, source: &str) -> Result<String, Error> {
    match app {
        Some(a) => validate_app(a),
        None => Ok(default_app_name(source)),
    }
}

/// The source as recorded for `status`: absolute, so it resolves from any directory.
pub fn recorded_source(source: &str) -> String {
    if source == "-" {
        return source.to_string();
    }
    std::fs::canonicalize(source)
        .map(|p| p.to_string_lossy().to_string())
        .unwrap_or_else(|_| source.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("k8s/overlays/Local_Dev", "local-dev")]
    #[test_case("-", "stdin")]
    #[test_case("app.yaml", "app")]
    fn default_app_name_is_dns_safe(src: &str, want: &str) {
        assert_eq!(default_app_name(src), want);
    }

    #[test_case("my-app")]
    #[test_case("a")]
    #[test_case("rel-a")]
    #[test_case("0db9")]
    fn a_dns_label_is_accepted_as_given(app: &str) {
        assert_eq!(app_name(Some(app), "x").unwrap(), app);
    }

    #[test_case("My_App", "did you mean `--app my-app`?")]
    #[test_case("rel_a", "did you mean `--app rel-a`?")]
    #[test_case("a/b", "did you mean `--app a-b`?")]
    #[test_case("", "give one with `--app NAME`")]
    #[test_case("!!!", "give one with `--app NAME`")]
    #[test_case("-x", "did you mean `--app x`?")]
    fn anything_else_is_refused_with_the_fix(app: &str, hint: &str) {
        let e = app_name(Some(app), "x").unwrap_err();
        assert_eq!(e.exit_code(), crate::error::BAD_INPUT);
        let msg = e.to_string();
        assert!(msg.contains("DNS-1123"), "{msg}");
        assert!(msg.contains(hint), "{msg}");
    }

    #[test]
    fn a_long_name_is_refused_and_a_long_folder_is_shortened() {
        let long = "a".repeat(300);
        let msg = app_name(Some(&long), "x").unwrap_err().to_string();
        assert!(msg.contains("1 to 53"), "{msg}");
        assert!(msg.len() < 400, "the name is not echoed whole: {msg}");
        assert_eq!(app_name(Some(&"b".repeat(53)), "x").unwrap().len(), 53);
        assert_eq!(
            sanitize(&format!("{}_x", "c".repeat(60))).len(),
            MAX_APP_LEN
        );
    }
}
