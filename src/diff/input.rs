//! The two sides of a diff: a JSON file (`syncsim plan -o json` or `syncsim sync -o json`), or a
//! SOURCE planned like `syncsim plan` does: a directory or file, or `DIR@REV` for DIR as it was at
//! git revision REV (the repository's tree at REV is extracted with `git archive` into a temporary
//! directory, so that kustomize bases outside DIR come along).
use super::Doc;
use crate::{
    error,
    manifest::{self, LoadOptions},
    plan::{self, PlanJson, PlanOptions},
};
use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// Why a side cannot be read: the exit code and the message.
pub type Failure = (i32, String);

/// Reads one side: JSON file, SOURCE, or `DIR@REV`; SOURCEs are planned for `dest_namespace`.
pub fn load(input: &str, dest_namespace: &str) -> Result<Doc, Failure> {
    let path = Path::new(input);
    if path.is_file() && looks_like_json(path) {
        let text = std::fs::read_to_string(path)
            .map_err(|e| (error::BAD_INPUT, format!("error: cannot read {input}: {e}")))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| (error::BAD_INPUT, format!("error: {input}: not JSON: {e}")))?;
        return Doc::from_json(&v).map_err(|e| (error::BAD_INPUT, format!("error: {input}: {e}")));
    }
    if path.exists() {
        return plan_source(input, input, dest_namespace);
    }
    if let Some((dir, rev)) = input
        .rsplit_once('@')
        .filter(|(d, r)| !d.is_empty() && !r.is_empty())
    {
        let tree = GitTree::extract(rev).map_err(|e| (e.0, format!("error: {input}: {}", e.1)))?;
        let rel = tree
            .relative(dir)
            .map_err(|e| (error::BAD_INPUT, format!("error: {input}: {e}")))?;
        let source = tree.dir.join(rel);
        if !source.exists() {
            return Err((
                error::BAD_INPUT,
                format!("error: {input}: {dir} does not exist at revision {rev}"),
            ));
        }
        return plan_source(&source.to_string_lossy(), input, dest_namespace);
    }
    Err((
        error::BAD_INPUT,
        format!("error: {input}: no such file or directory (nor DIR@REV)"),
    ))
}

fn looks_like_json(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "json")
        || std::fs::read(path)
            .map(|b| b.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{'))
            .unwrap_or(false)
}

/// Renders and plans a SOURCE like `syncsim plan`, with a fixed revision and time so that
/// generateName hooks are named alike on both sides.
fn plan_source(source: &str, shown: &str, dest_namespace: &str) -> Result<Doc, Failure> {
    let loaded = manifest::load(source, &LoadOptions::default()).map_err(|e| {
        (
            e.exit_code(),
            format!("{} (in {shown})", error::render_chain(&e)),
        )
    })?;
    let opts = PlanOptions {
        dest_namespace: dest_namespace.to_string(),
        revision: "HEAD".into(),
        started_at_unix: 0,
    };
    let plan = plan::build(&loaded.objects, &opts).map_err(|e| {
        (
            e.exit_code(),
            format!("{} (in {shown})", error::render_chain(&e)),
        )
    })?;
    let v = serde_json::to_value(PlanJson::from(&plan)).expect("plan JSON serializes");
    Doc::from_json(&v).map_err(|e| (error::BAD_INPUT, format!("error: {shown}: {e}")))
}

/// The repository's tree at a revision, extracted into a temporary directory (removed on drop).
struct GitTree {
    dir: PathBuf,
    /// The current directory relative to the repository's top (`git rev-parse --show-prefix`).
    prefix: String,
    top: PathBuf,
}

fn git(args: &[&str]) -> Result<Vec<u8>, Failure> {
    let out = Command::new("git").args(args).output().map_err(|e| {
        (
            error::ENVIRONMENT,
            format!("cannot run git ({e}); DIR@REV needs git"),
        )
    })?;
    if !out.status.success() {
        return Err((
            error::BAD_INPUT,
            format!(
                "git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(out.stdout)
}

impl GitTree {
    fn extract(rev: &str) -> Result<GitTree, Failure> {
        let line = |b: Vec<u8>| {
            String::from_utf8_lossy(&b)
                .trim_end_matches('\n')
                .to_string()
        };
        let top = PathBuf::from(line(git(&["rev-parse", "--show-toplevel"])?));
        let prefix = line(git(&["rev-parse", "--show-prefix"])?);
        let commit = line(git(&[
            "rev-parse",
            "--verify",
            "--end-of-options",
            &format!("{rev}^{{tree}}"),
        ])?);
        let dir = std::env::temp_dir().join(format!("syncsim-diff-{}", uuid::Uuid::new_v4()));
        let tree = GitTree { dir, prefix, top };
        let tar = git(&[
            "-C",
            &tree.top.to_string_lossy(),
            "archive",
            "--format=tar",
            &commit,
        ])?;
        tar::Archive::new(&tar[..]).unpack(&tree.dir).map_err(|e| {
            (
                error::ENVIRONMENT,
                format!(
                    "cannot extract revision {rev} into {}: {e}",
                    tree.dir.display()
                ),
            )
        })?;
        Ok(tree)
    }

    /// `dir` (relative to the current directory, or absolute inside the repository) relative to
    /// the repository's top.
    fn relative(&self, dir: &str) -> Result<PathBuf, String> {
        let p = Path::new(dir);
        let joined = if p.is_absolute() {
            p.strip_prefix(&self.top)
                .map(Path::to_path_buf)
                .map_err(|_| format!("{dir} is not inside the repository {}", self.top.display()))?
        } else {
            Path::new(&self.prefix).join(p)
        };
        // Resolve `.` and `..` lexically: the directory may not exist in the working tree.
        let mut out = PathBuf::new();
        for c in joined.components() {
            match c {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    if !out.pop() {
                        return Err(format!("{dir} is outside the repository"));
                    }
                }
                c => out.push(c),
            }
        }
        Ok(out)
    }
}

impl Drop for GitTree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
