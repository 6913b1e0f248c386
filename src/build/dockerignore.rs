//! `.dockerignore` as Docker applies it, read from moby's source:
//!
//! * reading the file: `ignorefile.ReadAll` (moby/patternmatcher, `ignorefile/ignorefile.go`):
//!   a UTF-8 BOM is dropped, a line starting with `#` is a comment (only at column 0), lines are
//!   trimmed, a leading `!` makes an exception, each pattern is cleaned like Go's
//!   `filepath.Clean` (`./a` → `a`, `a//b/../c` → `a/c`, trailing `/` dropped) and a leading
//!   `/` is removed;
//! * patterns: `patternmatcher.New` and `Pattern.compile` (moby/patternmatcher,
//!   `patternmatcher.go`): `*` is any run of characters but `/`, `?` one character (not one
//!   byte) but `/`, `**` any number of directories (also zero), `[...]` a class, `\` escapes; a
//!   pattern must be valid for Go's `filepath.Match`, and `!` alone is an error;
//! * which files: `MatchesUsingParentResults` there, driven by the walk of `TarWithOptions`
//!   (moby `pkg/archive/archive.go`): the last matching pattern wins, a path also matches
//!   through any of its parent directories, and an excluded directory is not descended into
//!   unless an exception pattern names something below it (`!dir/keep`);
//! * the Docker CLI keeps `.dockerignore` and the Dockerfile in the context by appending
//!   `!.dockerignore` and `!<Dockerfile>` when they are excluded (`TrimBuildFilesFromExcludes`,
//!   docker/cli `cli/command/image/build/context.go`).
//!
//! One quirk is not reproduced: moby turns `*` and `?` inside a class (`[*]`) into regular
//! expression fragments; here they stay literal members of the class, as in `filepath.Match`.
use regex::Regex;

/// A `.dockerignore` that cannot be used; Docker refuses to build with it too.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid .dockerignore pattern `{pattern}`: {problem}")]
pub struct PatternError {
    pub pattern: String,
    pub problem: &'static str,
}

#[derive(Debug, Clone)]
enum Kind {
    Exact,
    /// `foo/**`: the part before `**`.
    Prefix(String),
    /// `**/foo`: the part after `**`.
    Suffix(String),
    Regex(Regex),
}

#[derive(Debug, Clone)]
struct Pattern {
    cleaned: String,
    exclusion: bool,
    kind: Kind,
    /// How many `/`-separated parts the pattern has.
    dirs: usize,
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match &self.kind {
            Kind::Exact => path == self.cleaned,
            Kind::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Kind::Suffix(suffix) => {
                path.ends_with(suffix.as_str())
                    || suffix.strip_prefix('/').is_some_and(|s| path == s)
            }
            Kind::Regex(re) => re.is_match(path),
        }
    }

    /// Whether the pattern or one of `path`'s parent directories matches it.
    fn matches_or_parent(&self, path: &str) -> bool {
        if self.matches(path) {
            return true;
        }
        let parts: Vec<&str> = path.split('/').collect();
        (1..parts.len()).any(|n| self.matches(&parts[..n].join("/")))
    }
}

/// Parsed `.dockerignore` patterns, in file order.
#[derive(Debug, Clone, Default)]
pub struct Ignore {
    patterns: Vec<Pattern>,
    exclusions: bool,
}

/// What [`Ignore::matches_with_parent`] remembers of a directory for its children: which
/// patterns it matched.
#[derive(Debug, Clone, Default)]
pub struct MatchInfo(Vec<bool>);

impl Ignore {
    /// Reads a `.dockerignore` text (Docker's `ReadAll`, then `New`).
    ///
    /// # Errors
    ///
    /// A pattern Docker rejects: `!` alone, or one `filepath.Match` calls malformed (an unclosed
    /// `[`, an empty class, a trailing `\`).
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        Self::new(&read_all(text))
    }

    /// Docker's `patternmatcher.New` over already read patterns.
    ///
    /// # Errors
    ///
    /// See [`Ignore::parse`].
    pub fn new(lines: &[String]) -> Result<Self, PatternError> {
        let mut out = Ignore::default();
        for line in lines {
            let p = line.trim();
            if p.is_empty() {
                continue;
            }
            let p = clean(p);
            let (exclusion, p) = match p.strip_prefix('!') {
                Some("") => {
                    return Err(PatternError {
                        pattern: line.clone(),
                        problem: "an exception `!` needs a pattern after it",
                    })
                }
                Some(rest) => (true, rest.to_string()),
                None => (false, p),
            };
            let bad = |problem| PatternError {
                pattern: line.clone(),
                problem,
            };
            check_glob_syntax(&p).map_err(bad)?;
            let kind = compile(&p).map_err(bad)?;
            out.exclusions |= exclusion;
            out.patterns.push(Pattern {
                dirs: p.split('/').count(),
                cleaned: p,
                exclusion,
                kind,
            });
        }
        Ok(out)
    }

    /// The Docker CLI's `TrimBuildFilesFromExcludes`: when `.dockerignore` or `dockerfile` is
    /// excluded (by Docker's older `Matches`, which looks at one parent directory), appends an
    /// exception for it so that it is sent anyway.
    pub fn keep_build_files(mut self, dockerfile: &str) -> Self {
        for file in [".dockerignore", dockerfile] {
            if self.matches_deprecated(file) {
                let keep = format!("!{file}");
                if let Ok(extra) = Ignore::new(&[keep]) {
                    self.exclusions = true;
                    self.patterns.extend(extra.patterns);
                }
            }
        }
        self
    }

    /// Whether any pattern is an exception (`!…`).
    pub fn has_exclusions(&self) -> bool {
        self.exclusions
    }

    /// Whether `rel` (`/`-separated, relative to the context) is excluded: the last pattern
    /// matching it or one of its parent directories decides (Docker's `MatchesOrParentMatches`).
    pub fn excludes(&self, rel: &str) -> bool {
        let mut matched = false;
        for p in &self.patterns {
            if p.exclusion != matched {
                continue;
            }
            if p.matches_or_parent(rel) {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// Docker's deprecated `Matches`: like [`Ignore::excludes`], but of the parent directories
    /// only the one with as many parts as the pattern is tried.
    fn matches_deprecated(&self, rel: &str) -> bool {
        let parent: Vec<&str> = match rel.rsplit_once('/') {
            Some((dir, _)) => dir.split('/').collect(),
            None => Vec::new(),
        };
        let mut matched = false;
        for p in &self.patterns {
            if p.exclusion != matched {
                continue;
            }
            let mut hit = p.matches(rel);
            if !hit && !parent.is_empty() && p.dirs <= parent.len() {
                hit = p.matches(&parent[..p.dirs].join("/"));
            }
            if hit {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// Docker's `MatchesUsingParentResults`: whether `rel` is excluded, given what its parent
    /// directory matched (`None` at the top of the context), and what `rel` matched, for its
    /// own children.
    pub fn matches_with_parent(&self, rel: &str, parent: Option<&MatchInfo>) -> (bool, MatchInfo) {
        let mut matched = false;
        let mut info = vec![false; self.patterns.len()];
        for (i, p) in self.patterns.iter().enumerate() {
            let mut hit = parent.is_some_and(|m| m.0.get(i).copied().unwrap_or(false));
            if !hit {
                if p.exclusion != matched {
                    continue;
                }
                hit = if parent.is_none() {
                    p.matches_or_parent(rel)
                } else {
                    p.matches(rel)
                };
            }
            info[i] = hit;
            if hit {
                matched = !p.exclusion;
            }
        }
        (matched, MatchInfo(info))
    }

    /// Whether an excluded directory `rel` must still be walked, because an exception pattern
    /// starts with it (`!rel/…`).
    pub fn exception_below(&self, rel: &str) -> bool {
        let dir = format!("{rel}/");
        self.patterns
            .iter()
            .any(|p| p.exclusion && format!("{}/", p.cleaned).starts_with(&dir))
    }
}

/// Docker's `ignorefile.ReadAll`: the patterns of a `.dockerignore` text, cleaned, exceptions
/// kept as `!pattern`.
pub fn read_all(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut pattern = line.trim();
        if pattern.is_empty() {
            continue;
        }
        let invert = pattern.starts_with('!');
        if invert {
            pattern = pattern[1..].trim();
        }
        let mut cleaned = String::new();
        if !pattern.is_empty() {
            cleaned = clean(pattern);
            if cleaned.len() > 1 && cleaned.starts_with('/') {
                cleaned.remove(0);
            }
        }
        out.push(if invert {
            format!("!{cleaned}")
        } else {
            cleaned
        });
    }
    out
}

/// Go's `filepath.Clean` on a `/`-separated path.
fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// The syntax check Go's `filepath.Match` does (on Unix): classes closed and not empty, range
/// ends present, no trailing `\`.
fn check_glob_syntax(pattern: &str) -> Result<(), &'static str> {
    const BAD: &str = "syntax error in pattern (an unclosed or empty `[...]`, a range without an \
                       end, or a trailing `\\`)";
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    // One class member (`c` or `\c`) at `i`; returns the index after it.
    let member = |i: usize| -> Result<usize, &'static str> {
        match chars.get(i) {
            None | Some('-' | ']') => Err(BAD),
            Some('\\') => match chars.get(i + 1) {
                None => Err(BAD),
                Some(_) => Ok(i + 2),
            },
            Some(_) => Ok(i + 1),
        }
    };
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                if i + 1 >= chars.len() {
                    return Err(BAD);
                }
                i += 2;
            }
            '[' => {
                i += 1;
                if chars.get(i) == Some(&'^') {
                    i += 1;
                }
                let mut ranges = 0;
                loop {
                    if chars.get(i) == Some(&']') && ranges > 0 {
                        i += 1;
                        break;
                    }
                    i = member(i)?;
                    if chars.get(i) == Some(&'-') {
                        i = member(i + 1)?;
                    }
                    if i >= chars.len() {
                        return Err(BAD);
                    }
                    ranges += 1;
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Characters moby escapes because they mean something in a regular expression but not in a
/// glob.
fn should_escape(c: char) -> bool {
    ".+()|{}$".contains(c)
}

/// moby's `Pattern.compile`, for `/` as separator.
fn compile(pattern: &str) -> Result<Kind, &'static str> {
    let mut re = String::from("^");
    let mut kind = 0u8; // 0 exact, 1 prefix, 2 suffix, 3 regex
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    let mut i = 0;
    while let Some(ch) = chars.next() {
        if in_class {
            // Inside `[...]`: members are literal (escaped for Rust's regex syntax, where `[`,
            // `&&`, `--` and `~~` mean something inside a class), `\c` escapes, `]` closes.
            match ch {
                ']' => {
                    re.push(']');
                    in_class = false;
                }
                '\\' => {
                    if let Some(next) = chars.next() {
                        push_class_member(&mut re, next);
                    }
                }
                '-' => re.push('-'),
                '^' if re.ends_with('[') => re.push('^'),
                c => push_class_member(&mut re, c),
            }
            i += 1;
            continue;
        }
        match ch {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                }
                if chars.peek().is_none() {
                    if kind == 0 {
                        kind = 1;
                    } else {
                        re.push_str(".*");
                        kind = 3;
                    }
                } else {
                    re.push_str("(.*/)?");
                    kind = 3;
                }
                if i == 0 {
                    kind = 2;
                }
            }
            '*' => {
                re.push_str("[^/]*");
                kind = 3;
            }
            '?' => {
                re.push_str("[^/]");
                kind = 3;
            }
            c if should_escape(c) => {
                re.push('\\');
                re.push(c);
            }
            '\\' => {
                match chars.next() {
                    Some(next) => re.push_str(&regex::escape(&next.to_string())),
                    None => re.push_str("\\\\"),
                }
                kind = 3;
            }
            '[' => {
                re.push('[');
                in_class = true;
                kind = 3;
            }
            ']' => {
                re.push_str("\\]");
                kind = 3;
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    Ok(match kind {
        0 => Kind::Exact,
        1 => Kind::Prefix(pattern[..pattern.len() - 2].to_string()),
        2 => Kind::Suffix(pattern[2..].to_string()),
        _ => {
            re.push('$');
            Kind::Regex(Regex::new(&re).map_err(|_| "not a valid pattern")?)
        }
    })
}

fn push_class_member(re: &mut String, c: char) {
    if c.is_ascii_punctuation() {
        re.push('\\');
    }
    re.push(c);
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    /// How a pattern matches a path in upstream's table: by itself (`MatchesExact`), only through
    /// a parent directory, or not at all.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum M {
        Exact,
        Inexact,
        Fail,
    }
    use M::{Exact, Fail, Inexact};

    // Cases from moby/patternmatcher `patternmatcher_test.go` (TestMatches, and TestMatch's Go
    // `filepath.Match` cases) unless noted.
    #[test_case("**", "file", Exact)]
    #[test_case("**", "file/", Exact)]
    #[test_case("**/", "file", Exact)]
    #[test_case("**/", "file/", Exact)]
    #[test_case("**", "/", Exact)]
    #[test_case("**/", "/", Exact)]
    #[test_case("**", "dir/file", Exact)]
    #[test_case("**/", "dir/file", Exact)]
    #[test_case("**", "dir/file/", Exact)]
    #[test_case("**/", "dir/file/", Exact)]
    #[test_case("**/**", "dir/file", Exact)]
    #[test_case("**/**", "dir/file/", Exact)]
    #[test_case("dir/**", "dir/file", Exact)]
    #[test_case("dir/**", "dir/file/", Exact)]
    #[test_case("dir/**", "dir/dir2/file", Exact)]
    #[test_case("dir/**", "dir/dir2/file/", Exact)]
    #[test_case("**/dir", "dir", Exact)]
    #[test_case("**/dir", "dir/file", Inexact)]
    #[test_case("**/dir2/*", "dir/dir2/file", Exact)]
    #[test_case("**/dir2/*", "dir/dir2/file/", Inexact)]
    #[test_case("**/dir2/**", "dir/dir2/dir3/file", Exact)]
    #[test_case("**/dir2/**", "dir/dir2/dir3/file/", Exact)]
    #[test_case("**file", "file", Exact)]
    #[test_case("**file", "dir/file", Exact)]
    #[test_case("**/file", "dir/file", Exact)]
    #[test_case("**file", "dir/dir/file", Exact)]
    #[test_case("**/file", "dir/dir/file", Exact)]
    #[test_case("**/file*", "dir/dir/file", Exact)]
    #[test_case("**/file*", "dir/dir/file.txt", Exact)]
    #[test_case("**/file*txt", "dir/dir/file.txt", Exact)]
    #[test_case("**/file*.txt", "dir/dir/file.txt", Exact)]
    #[test_case("**/file*.txt*", "dir/dir/file.txt", Exact)]
    #[test_case("**/**/*.txt", "dir/dir/file.txt", Exact)]
    #[test_case("**/**/*.txt2", "dir/dir/file.txt", Fail)]
    #[test_case("**/*.txt", "file.txt", Exact)]
    #[test_case("**/**/*.txt", "file.txt", Exact)]
    #[test_case("a**/*.txt", "a/file.txt", Exact)]
    #[test_case("a**/*.txt", "a/dir/file.txt", Exact)]
    #[test_case("a**/*.txt", "a/dir/dir/file.txt", Exact)]
    #[test_case("a/*.txt", "a/dir/file.txt", Fail)]
    #[test_case("a/*.txt", "a/file.txt", Exact)]
    #[test_case("a/*.txt**", "a/file.txt", Exact)]
    #[test_case("a[b-d]e", "ae", Fail)]
    #[test_case("a[b-d]e", "ace", Exact)]
    #[test_case("a[b-d]e", "aae", Fail)]
    #[test_case("a[^b-d]e", "aze", Exact)]
    #[test_case(".*", ".foo", Exact)]
    #[test_case(".*", "foo", Fail)]
    #[test_case("abc.def", "abcdef", Fail)]
    #[test_case("abc.def", "abc.def", Exact)]
    #[test_case("abc.def", "abcZdef", Fail)]
    #[test_case("abc?def", "abcZdef", Exact)]
    #[test_case("abc?def", "abcdef", Fail)]
    #[test_case("a\\\\", "a\\", Exact)]
    #[test_case("**/foo/bar", "foo/bar", Exact)]
    #[test_case("**/foo/bar", "dir/foo/bar", Exact)]
    #[test_case("**/foo/bar", "dir/dir2/foo/bar", Exact)]
    #[test_case("abc/**", "abc", Fail)]
    #[test_case("abc/**", "abc/def", Exact)]
    #[test_case("abc/**", "abc/def/ghi", Exact)]
    #[test_case("**/.foo", ".foo", Exact)]
    #[test_case("**/.foo", "bar.foo", Fail)]
    #[test_case("a(b)c/def", "a(b)c/def", Exact)]
    #[test_case("a(b)c/def", "a(b)c/xyz", Fail)]
    #[test_case("a.|)$(}+{bc", "a.|)$(}+{bc", Exact)]
    #[test_case(
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        Exact
    )]
    #[test_case("a\\*b", "a*b", Exact)]
    #[test_case("ab[^e-g]", "abc", Exact)]
    #[test_case("a?b", "a☺b", Exact)]
    #[test_case("a???b", "a☺b", Fail)]
    #[test_case("[a-ζ]*", "α", Exact)]
    #[test_case("[\\]a]", "]", Exact)]
    #[test_case("[x\\-]", "-", Exact)]
    #[test_case("[x\\-]", "z", Fail)]
    #[test_case("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Fail)]
    #[test_case(
        "dist/*.whl",
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        Exact
    )]
    // Not upstream: `?` is one character, not one byte (`é` is two bytes in UTF-8).
    #[test_case("caf?", "café", Exact ; "question mark matches one multibyte character")]
    #[test_case("caf??", "café", Fail ; "question mark is not a byte")]
    #[test_case("te?t", "te/t", Fail ; "question mark never matches a slash")]
    #[test_case("*.md", "docs/README.md", Fail ; "star does not cross directories")]
    #[test_case("[[]x", "[x", Exact ; "open bracket inside a class is literal")]
    #[test_case("[a&&b]", "&", Exact ; "ampersand inside a class is literal")]
    fn one_pattern(pattern: &str, path: &str, want: M) {
        let ignore = Ignore::new(&[pattern.to_string()]).unwrap();
        let p = &ignore.patterns[0];
        assert_eq!(
            p.matches(path),
            want == Exact,
            "exact: {pattern} vs {path}: {:?}",
            p.kind
        );
        assert_eq!(
            p.matches_or_parent(path),
            want != Fail,
            "or parent: {pattern} vs {path}"
        );
        assert_eq!(ignore.excludes(path), want != Fail);
    }

    // `TestMatchesWithMalformedPatterns` and the `filepath.Match` syntax (Go `path/filepath`,
    // `match.go`), plus `New`'s "illegal exclusion pattern".
    #[test_case("[")]
    #[test_case("[^")]
    #[test_case("[]")]
    #[test_case("[^]")]
    #[test_case("[a-]")]
    #[test_case("[-a]")]
    #[test_case("abc\\")]
    #[test_case("[a")]
    #[test_case("[]a]")]
    #[test_case("[x-]")]
    #[test_case("[a-b-c]")]
    #[test_case("a[")]
    #[test_case("!")]
    fn malformed_patterns_are_errors(pattern: &str) {
        assert!(Ignore::new(&[pattern.to_string()]).is_err(), "{pattern}");
    }

    // moby/patternmatcher `ignorefile/ignorefile_test.go` (TestReadAll).
    #[test]
    fn read_all_cleans_and_keeps_exceptions() {
        let content =
            "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ";
        assert_eq!(
            read_all(content),
            [
                "test1",
                "test2",
                "a/file/here",
                "lastfile",
                "!inverted/abs/path",
                "!",
                "!"
            ]
        );
        assert!(Ignore::parse(content).is_err(), "`!` alone is refused");
        assert_eq!(
            read_all("\u{feff}./a//b/../c/\n #not a comment\n"),
            ["a/c", "#not a comment"]
        );
    }

    #[test_case("a//b/./c/../d", "a/b/d")]
    #[test_case("/../a", "/a")]
    #[test_case("../a/..", "..")]
    #[test_case("./", ".")]
    #[test_case("", ".")]
    fn clean_is_go_filepath_clean(input: &str, want: &str) {
        assert_eq!(clean(input), want);
    }

    // Whole files: last match wins, parents count (`MatchesOrParentMatches`, moby
    // patternmatcher_test.go TestMatchesOrParentMatches and the Docker docs' examples).
    #[test_case("*.md\n!README.md", "README.md", false)]
    #[test_case("*.md\n!README.md", "CHANGES.md", true)]
    #[test_case("!README.md\n*.md", "README.md", true ; "last pattern wins")]
    #[test_case("docs", "docs/a/b.txt", true ; "a directory excludes its contents")]
    #[test_case("docs\n!docs/keep.txt", "docs/keep.txt", false)]
    #[test_case("/build", "build/out/x", true ; "leading slash")]
    #[test_case("./build", "build/x", true ; "leading dot slash")]
    #[test_case("build/", "build/x", true ; "trailing slash")]
    #[test_case("docs", "docsx", false)]
    #[test_case("*/temp*", "somedir/temporary.txt", true)]
    #[test_case("*/temp*", "somedir/sub/temporary.txt", false)]
    #[test_case("*/*/temp*", "somedir/subdir/temporary.txt", true)]
    #[test_case("temp?", "tempa", true)]
    #[test_case("**/*.go", "a/b/c.go", true)]
    #[test_case("  spaced  ", "spaced", true ; "lines are trimmed")]
    #[test_case("**\n!util/docker/web", "util/docker/web/foo", false ; "upstream multi 1")]
    #[test_case("**\n!util/docker/web\nutil/docker/web/foo", "util/docker/web/foo", true ; "upstream multi 2")]
    #[test_case("**\n!dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false ; "upstream multi 4")]
    fn whole_file(text: &str, path: &str, excluded: bool) {
        assert_eq!(Ignore::parse(text).unwrap().excludes(path), excluded);
    }

    #[test]
    fn build_files_are_kept_as_the_docker_cli_does() {
        let ignore = Ignore::parse("*\n").unwrap().keep_build_files("Dockerfile");
        assert!(!ignore.excludes("Dockerfile"));
        assert!(!ignore.excludes(".dockerignore"));
        assert!(ignore.excludes("src"));
        let untouched = Ignore::parse("*.md\n")
            .unwrap()
            .keep_build_files("Dockerfile");
        assert!(
            !untouched.has_exclusions(),
            "nothing excluded, nothing added"
        );
    }
}
