//! Exit codes shared by every subcommand.
//!
//! Keep "the rehearsed sync failed" apart from "the tool could not run". The operation's
//! outcome maps through `engine::Outcome::exit_code`; every failure to run maps through one
//! type, `rehearsal::Error` (one variant per failure class).

/// The operation ended `Succeeded` (or a non-sync command did its job).
pub const SUCCESS: i32 = 0;
/// The rehearsed sync ended `Failed` (a hook failed, an apply failed, a resource Degraded, an
/// image missing: Argo CD's dry run fails the operation).
pub const SYNC_FAILED: i32 = 1;
/// Bad input: a manifest, a flag or a scenario could not be used.
pub const BAD_INPUT: i32 = 2;
/// The environment is not usable: Docker unreachable, kustomize missing, an image build failed.
pub const ENVIRONMENT: i32 = 3;
/// Argo CD would still be `Running` when `--timeout` expired.
pub const TIMED_OUT: i32 = 4;
/// Interrupted by Ctrl-C / SIGTERM.
pub const INTERRUPTED: i32 = 130;

/// An error that knows which exit code it maps to.
pub trait ExitCode {
    fn exit_code(&self) -> i32;
}

/// Renders an error and its `source()` chain, once, as `error: …` then `caused by: …` lines.
pub fn render_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = format!("error: {err}");
    let mut cur = err.source();
    while let Some(e) = cur {
        out.push_str(&format!("\n  caused by: {e}"));
        cur = e.source();
    }
    out
}
