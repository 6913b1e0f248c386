//! `syncsim plan SOURCE`: load, plan, print.
use super::CliError;
use crate::{
    error::SUCCESS,
    manifest::{self, LoadOptions},
    plan::{self, Plan, PlanJson, PlanOptions},
};
use clap::{Args, ValueEnum};
use std::io::Write;

/// Arguments of `syncsim plan`.
#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// A kustomize directory, a plain directory of YAML/JSON, a file, `-` for standard input,
    /// or a file holding Argo CD Application(s).
    pub source: String,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    pub output: Format,

    /// Argo CD's destination namespace, given to objects without one [default: the
    /// Application's destination.namespace, else `default`].
    #[arg(long, value_name = "NS")]
    pub dest_namespace: Option<String>,

    /// Sync revision, used to name generateName hooks [default: the Application's resolved
    /// revision, else `HEAD`].
    #[arg(long, value_name = "REV")]
    pub revision: Option<String>,

    /// The Application to plan when SOURCE holds several.
    #[arg(long, value_name = "NAME")]
    pub app: Option<String>,

    /// Local checkout of an Application's repository: `DIR` for its first repoURL, or
    /// `URL=DIR` (repeatable) [default: the checkout holding the Application file].
    #[arg(long = "repo", value_name = "DIR|URL=DIR")]
    pub repos: Vec<String>,
}

/// Output format of `syncsim plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub(super) fn run(args: &PlanArgs, out: &mut dyn Write) -> Result<i32, CliError> {
    let load_opts = LoadOptions {
        app: args.app.clone(),
        repos: args.repos.clone(),
        ..LoadOptions::default()
    };
    let mut loaded = manifest::load(&args.source, &load_opts)?;
    tracing::info!(
        "rendered `{}` with {}: {} objects",
        args.source,
        loaded.renderer,
        loaded.objects.len()
    );
    let app = loaded.application.as_deref();
    if let Some(app) = app {
        tracing::info!(
            "Application `{}` (project {}): revision {}, sync options [{}], automated {:?}",
            app.name,
            app.project,
            app.revision,
            app.sync_options.join(", "),
            app.automated
        );
    }
    let (dest_namespace, revision) = crate::rehearsal::application::namespace_and_revision(
        app,
        args.dest_namespace.as_deref(),
        args.revision.as_deref(),
    );
    let opts = PlanOptions {
        dest_namespace,
        revision,
        // The plan shows names as of now; a sync fixes its own start time.
        started_at_unix: crate::util::unix_now(),
    };
    let plan = plan::build_owned(std::mem::take(&mut loaded.objects), &opts)?;
    for w in &plan.warnings {
        tracing::warn!("{w}");
    }
    let text = match args.output {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&PlanJson::from(&plan))
                .expect("plan JSON has only string keys");
            s.push('\n');
            s
        }
        Format::Text => render_text(&plan),
    };
    let output = |source| CliError::Output {
        what: "the output".into(),
        source,
    };
    out.write_all(text.as_bytes()).map_err(output)?;
    out.flush().map_err(output)?;
    // The process exits next, which frees the plan at once; freeing its objects node by node
    // would cost an eighth of the command on a 10 000-object render.
    std::mem::forget(plan);
    Ok(SUCCESS)
}

/// Human-readable plan: one block per step, then ignored manifests and warnings.
pub fn render_text(plan: &Plan) -> String {
    let mut s = String::new();
    if plan.steps.is_empty() {
        s.push_str("no tasks\n");
    }
    for (i, step) in plan.steps.iter().enumerate() {
        s.push_str(&format!(
            "step {}: {} wave {} ({} task{})\n",
            i + 1,
            step.phase,
            step.wave,
            step.tasks.len(),
            if step.tasks.len() == 1 { "" } else { "s" }
        ));
        for t in &step.tasks {
            s.push_str(&format!("  {}/{}", t.kind(), t.name()));
            if !t.namespace().is_empty() {
                s.push_str(&format!("  ns={}", t.namespace()));
            }
            if t.hook {
                let policies: Vec<_> = t.delete_policies.iter().map(|p| p.as_str()).collect();
                s.push_str(&format!("  [hook, delete: {}]", policies.join(",")));
            }
            s.push('\n');
        }
    }
    if !plan.ignored.is_empty() {
        s.push_str("\nnot applied:\n");
        for ig in &plan.ignored {
            s.push_str(&format!("  {}/{}", ig.kind, ig.name));
            if !ig.namespace.is_empty() {
                s.push_str(&format!("  ns={}", ig.namespace));
            }
            s.push_str(&format!("  {}: {} ({})\n", ig.reason, ig.detail, ig.origin));
        }
    }
    if !plan.warnings.is_empty() {
        s.push_str("\nwarnings:\n");
        for w in &plan.warnings {
            s.push_str(&format!("  {w}\n"));
        }
    }
    s
}
