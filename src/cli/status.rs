//! `syncsim status [--app NAME] [SOURCE]`: a kept environment like `argocd app get`: each
//! resource's sync status against the source (by applied spec), its live health, and the last
//! operation's result. Read-only: inspects containers, never starts or removes anything.
use super::CliError;
use crate::{
    error,
    health::Health,
    rehearsal::{self, app_sync_status, Compared, Status},
};
use clap::Args;
use comfy_table::{presets::NOTHING, Table};

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// The source to compare with [default: the source of the last sync].
    pub source: Option<String>,
    /// Application name; for a file of Applications, the one to compare with [default: the
    /// Application's name, else the source folder's name].
    #[arg(long)]
    pub app: Option<String>,
    /// Local checkout of an Application's repository: `DIR` for its first repoURL, or
    /// `URL=DIR` (repeatable) [default: the checkout holding the Application file].
    #[arg(long = "repo", value_name = "DIR|URL=DIR")]
    pub repos: Vec<String>,
}

/// Runs the subcommand; returns the process exit code.
pub async fn run(args: StatusArgs) -> Result<i32, CliError> {
    let src = rehearsal::application::SourceOptions {
        app: args.app.clone(),
        repos: args.repos.clone(),
        ..Default::default()
    };
    let st = rehearsal::status(
        args.app.as_deref(),
        args.source.as_deref(),
        &src,
        rehearsal::connect(),
    )
    .await?;
    print!("{}", render(&st));
    Ok(error::SUCCESS)
}

fn render(st: &Status) -> String {
    let (app, source, record) = (&st.app, &st.source, &st.record);
    let rows: Vec<Compared> = st.rows.iter().map(|(r, _)| r.clone()).collect();
    let rows = &rows[..];
    let healths: Vec<&Option<Health>> = st.rows.iter().map(|(_, h)| h).collect();
    let app_health = st.app_health();
    let out_of_sync = rows
        .iter()
        .filter(|r| r.status.is_some_and(|s| s.as_str() == "OutOfSync"))
        .count();
    let mut out = String::new();
    let line = |out: &mut String, k: &str, v: &str| {
        out.push_str(&format!("{:<20}{}\n", format!("{k}:"), v))
    };
    line(&mut out, "Name", app);
    line(&mut out, "Source", source);
    line(&mut out, "Network", &record.network);
    line(&mut out, "Kept since", &record.saved_at);
    let sync = app_sync_status(rows).as_str();
    let sync = if out_of_sync > 0 {
        format!("{sync} ({out_of_sync} resources)")
    } else {
        sync.to_string()
    };
    line(&mut out, "Sync Status", &sync);
    line(&mut out, "Health Status", &format!("{app_health:?}"));
    if let Some(op) = &record.last_operation {
        line(&mut out, "Last Operation", "Sync");
        line(&mut out, "Phase", &op.phase);
        line(&mut out, "Finished", &op.finished_at);
        line(
            &mut out,
            "Message",
            &op.message.replace('\n', "\n                    "),
        );
    }
    out.push('\n');
    let mut table = Table::new();
    table.load_preset(NOTHING);
    table.set_header([
        "GROUP",
        "KIND",
        "NAMESPACE",
        "NAME",
        "STATUS",
        "HEALTH",
        "HOOK",
        "MESSAGE",
    ]);
    for (row, h) in rows.iter().zip(healths) {
        let last = record.last_operation.as_ref().and_then(|op| {
            op.resources.iter().rev().find(|r| {
                r.group == row.key.group
                    && r.kind == row.key.kind
                    && r.namespace == row.key.namespace
                    && r.name == row.key.name
            })
        });
        let mut message = last.map(|r| r.message.clone()).unwrap_or_default();
        if !row.reason.is_empty() {
            if !message.is_empty() {
                message.push(' ');
            }
            message.push_str(&format!("({})", row.reason));
        }
        table.add_row([
            row.key.group.clone(),
            row.key.kind.clone(),
            row.key.namespace.clone(),
            row.key.name.clone(),
            row.status
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            h.as_ref()
                .map(|h| format!("{:?}", h.status))
                .unwrap_or_default(),
            if row.hook {
                last.map(|r| r.hook_type.clone())
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| "hook".into())
            } else {
                String::new()
            },
            message,
        ]);
    }
    out.push_str(&table.to_string());
    out.push('\n');
    out
}
