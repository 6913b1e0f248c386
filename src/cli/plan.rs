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
    /// A kustomize directory, a plain directory of YAML/JSON, a file, or `-` for standard input.
    pub source: String,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    pub output: Format,

    /// Argo CD's destination namespace, given to objects without one.
    #[arg(long, default_value = "default", value_name = "NS")]
    pub dest_namespace: String,

    /// Sync revision, used to name generateName hooks.
    #[arg(long, default_value = "HEAD", value_name = "REV")]
    pub revision: String,
}

/// Output format of `syncsim plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub(super) fn run(args: &PlanArgs, out: &mut dyn Write) -> Result<i32, CliError> {
    let loaded = manifest::load(&args.source, &LoadOptions::default())?;
    tracing::info!(
        "rendered `{}` with {}: {} objects",
        args.source,
        loaded.renderer,
        loaded.objects.len()
    );
    let opts = PlanOptions {
        dest_namespace: args.dest_namespace.clone(),
        revision: args.revision.clone(),
        // The plan shows names as of now; a sync fixes its own start time.
        started_at_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    };
    let plan = plan::build(&loaded.objects, &opts)?;
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
    out.write_all(text.as_bytes()).map_err(CliError::Output)?;
    out.flush().map_err(CliError::Output)?;
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
