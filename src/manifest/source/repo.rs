//! Git side of a source: which local directory serves a `repoURL`, and the tree of a
//! `targetRevision` (the working tree for `HEAD` or the checked-out branch, else `git archive`).
use super::error::{At, Error};
use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// How `repoURL`s map to local directories.
#[derive(Debug, Clone, Default)]
pub struct Repos {
    /// The repository of the Application's first source: `--repo DIR`, else the git checkout
    /// that holds the Application file.
    pub home: Option<PathBuf>,
    /// `--repo NAME=DIR` entries, NAME normalised ([`normalize_url`]).
    pub map: Vec<(String, PathBuf)>,
}

impl Repos {
    /// Builds the map from `--repo` values (`DIR` or `URL=DIR`) and the Application file.
    pub fn new(repo_args: &[String], app_file: &Path) -> Self {
        let mut repos = Repos::default();
        for arg in repo_args {
            match arg.split_once('=') {
                Some((url, dir)) => repos.map.push((normalize_url(url), PathBuf::from(dir))),
                None => repos.home = Some(PathBuf::from(arg)),
            }
        }
        if repos.home.is_none() {
            let dir = app_file
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            repos.home = git_toplevel(dir);
        }
        repos
    }

    /// The directory serving `repo_url`: a `URL=DIR` entry, else the home repository when
    /// `repo_url` is the Application's primary repoURL or one of the home checkout's remotes.
    pub fn resolve(&self, repo_url: &str, primary: &str) -> Option<PathBuf> {
        let want = normalize_url(repo_url);
        if let Some((_, dir)) = self.map.iter().find(|(u, _)| *u == want) {
            return Some(dir.clone());
        }
        let home = self.home.as_ref()?;
        if want == normalize_url(primary) || remotes(home).iter().any(|r| normalize_url(r) == want)
        {
            return Some(home.clone());
        }
        None
    }
}

/// `https://GitHub.com/acme/app.git/` and `git@github.com:acme/app` both become
/// `github.com/acme/app`.
pub fn normalize_url(url: &str) -> String {
    let mut s = url.trim().to_string();
    if let Some((_, rest)) = s.split_once("://") {
        s = rest.to_string();
    }
    if let Some((user, rest)) = s.split_once('@') {
        if !user.contains('/') {
            s = rest.to_string();
        }
    }
    // scp-like `host:path`
    if let Some((host, path)) = s.split_once(':') {
        if !host.contains('/') && !path.starts_with(|c: char| c.is_ascii_digit()) {
            s = format!("{host}/{path}");
        }
    }
    let s = s.trim_end_matches('/');
    let s = s.strip_suffix(".git").unwrap_or(s);
    match s.split_once('/') {
        Some((host, path)) => format!("{}/{path}", host.to_ascii_lowercase()),
        None => s.to_ascii_lowercase(),
    }
}

fn git(dir: &Path, args: &[&str]) -> Option<std::process::Output> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()
}

fn git_stdout(dir: &Path, args: &[&str]) -> Option<String> {
    let out = git(dir, args)?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The top directory of the git checkout holding `dir`.
pub fn git_toplevel(dir: &Path) -> Option<PathBuf> {
    git_stdout(dir, &["rev-parse", "--show-toplevel"]).map(PathBuf::from)
}

fn remotes(dir: &Path) -> Vec<String> {
    git_stdout(dir, &["remote", "-v"])
        .map(|out| {
            out.lines()
                .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The files of a source at its revision.
#[derive(Debug)]
pub struct Tree {
    /// Where the files are (the repository itself, or a temporary copy).
    pub root: PathBuf,
    /// The commit SHA, or `HEAD` when the directory is not a git checkout.
    pub revision: String,
    /// `Some` when `targetRevision` named another commit than the working tree's.
    pub archived: Option<String>,
    _tmp: Option<tempfile::TempDir>,
}

/// Whether `target` means the working tree: empty, `HEAD`, or the checked-out branch.
fn is_working_tree(repo: &Path, target: &str) -> bool {
    if target.is_empty() || target == "HEAD" {
        return true;
    }
    match git_stdout(repo, &["symbolic-ref", "--quiet", "--short", "HEAD"]) {
        Some(branch) => branch == target,
        None => false,
    }
}

/// The tree of `repo` at `target` (`at` names `targetRevision` in errors). `writable` asks
/// for a private copy (kustomize options edit files, as Argo CD edits its own checkout).
pub fn checkout(repo: &Path, target: &str, writable: bool, at: &At) -> Result<Tree, Error> {
    let is_git = git_toplevel(repo).is_some();
    if !is_git {
        if !(target.is_empty() || target == "HEAD") {
            return Err(at.field("targetRevision").err(format!(
                "`{target}` needs a git checkout, and `{}` is not one",
                repo.display()
            )));
        }
        return working_tree(repo, "HEAD".into(), writable, false, at);
    }
    if is_working_tree(repo, target) {
        let sha = git_stdout(repo, &["rev-parse", "HEAD"]).unwrap_or_else(|| "HEAD".into());
        return working_tree(repo, sha, writable, true, at);
    }
    let spec = format!("{target}^{{commit}}");
    let out = git(repo, &["rev-parse", "--verify", "--quiet", &spec]).ok_or_else(|| {
        Error::ToolMissing {
            tool: "git".into(),
            what: "a targetRevision other than HEAD".into(),
            hint: "install git".into(),
        }
    })?;
    if !out.status.success() {
        return Err(at.field("targetRevision").git(
            format!(
                "revision `{target}` is not a branch, tag or commit of `{}`",
                repo.display()
            ),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    let sha = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let tmp = tempdir(at)?;
    let archive = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["archive", "--format=tar", &sha])
        .output()
        .map_err(|e| at.io(repo, e))?;
    if !archive.status.success() {
        return Err(at.field("targetRevision").git(
            format!("`git archive {sha}` failed in `{}`", repo.display()),
            String::from_utf8_lossy(&archive.stderr).into_owned(),
        ));
    }
    tar::Archive::new(archive.stdout.as_slice())
        .unpack(tmp.path())
        .map_err(|e| at.io(tmp.path(), e))?;
    Ok(Tree {
        root: tmp.path().to_path_buf(),
        revision: sha,
        archived: Some(target.to_string()),
        _tmp: Some(tmp),
    })
}

fn tempdir(at: &At) -> Result<tempfile::TempDir, Error> {
    tempfile::Builder::new()
        .prefix("syncsim-source-")
        .tempdir()
        .map_err(|e| at.io(&std::env::temp_dir(), e))
}

fn working_tree(
    repo: &Path,
    revision: String,
    writable: bool,
    is_git: bool,
    at: &At,
) -> Result<Tree, Error> {
    if !writable {
        return Ok(Tree {
            root: repo.to_path_buf(),
            revision,
            archived: None,
            _tmp: None,
        });
    }
    let tmp = tempdir(at)?;
    // Tracked and untracked-but-not-ignored files: what a commit of the working tree would hold
    // (and not `target/`).
    let listed = is_git
        .then(|| {
            git(
                repo,
                &[
                    "ls-files",
                    "-z",
                    "--cached",
                    "--others",
                    "--exclude-standard",
                ],
            )
        })
        .flatten()
        .filter(|o| o.status.success());
    let files: Vec<PathBuf> = match listed {
        Some(out) => out
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
            .collect(),
        None => walkdir::WalkDir::new(repo)
            .into_iter()
            .filter_entry(|e| e.file_name() != ".git")
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter_map(|e| e.path().strip_prefix(repo).ok().map(Path::to_path_buf))
            .collect(),
    };
    for rel in files {
        let from = repo.join(&rel);
        if !from.is_file() {
            continue; // deleted in the working tree, still in the index
        }
        let to = tmp.path().join(&rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| at.io(parent, e))?;
        }
        std::fs::copy(&from, &to).map_err(|e| at.io(&from, e))?;
    }
    Ok(Tree {
        root: tmp.path().to_path_buf(),
        revision,
        archived: None,
        _tmp: Some(tmp),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("https://github.com/Acme/App.git", "github.com/Acme/App" ; "https with .git")]
    #[test_case("https://GitHub.com/Acme/App/", "github.com/Acme/App" ; "host case and slash")]
    #[test_case("git@github.com:Acme/App.git", "github.com/Acme/App" ; "scp-like ssh")]
    #[test_case("ssh://git@github.com/Acme/App", "github.com/Acme/App" ; "ssh url")]
    #[test_case("http://localhost:3000/a/b.git", "localhost:3000/a/b" ; "port kept")]
    fn urls_are_normalised(url: &str, want: &str) {
        assert_eq!(normalize_url(url), want);
    }

    #[test]
    fn map_entries_win_and_other_urls_are_unknown() {
        let repos = Repos {
            home: Some(PathBuf::from("/home-repo")),
            map: vec![(normalize_url("https://x.example/values"), "/vals".into())],
        };
        let primary = "https://x.example/app.git";
        assert_eq!(
            repos.resolve("https://x.example/values.git", primary),
            Some(PathBuf::from("/vals"))
        );
        assert_eq!(
            repos.resolve("git@x.example:app", primary),
            Some(PathBuf::from("/home-repo"))
        );
        assert_eq!(repos.resolve("https://x.example/other", primary), None);
    }
}
