//! `syncsim status [--app NAME] [SOURCE]`: a kept environment like `argocd app get`: each
//! resource's sync status against the source (by applied spec), its live health, and the last
//! operation's result. Read-only: inspects containers, never starts or removes anything.
use super::sync::default_app_name;
use crate::{
    cluster::observed_object,
    error,
    health::{self, HealthStatus},
    manifest,
    plan::{self, PlanOptions},
    runtime::{docker::DockerRuntime, ContainerRuntime, ContainerStatus},
    state::{app_sync_status, compare, Compared, EnvRecord},
};
use clap::Args;
use comfy_table::{presets::NOTHING, Table};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// The source to compare with [default: the source of the last sync].
    pub source: Option<String>,
    /// Application name [default: the source folder's name].
    #[arg(long)]
    pub app: Option<String>,
}

/// Runs the subcommand; returns the process exit code.
pub async fn run(args: StatusArgs) -> anyhow::Result<i32> {
    let app = match (&args.app, &args.source) {
        (Some(a), _) => super::sync::sanitize(a),
        (None, Some(s)) => default_app_name(s),
        (None, None) => {
            eprintln!("error: say which app: `--app NAME` or a SOURCE");
            return Ok(error::BAD_INPUT);
        }
    };
    let Some(record) = EnvRecord::load(&app)? else {
        eprintln!("error: no kept environment of app `{app}` (create one with `syncsim sync --keep SOURCE`)");
        return Ok(error::BAD_INPUT);
    };
    let source = args.source.clone().unwrap_or_else(|| record.source.clone());
    let loaded = match manifest::load(&source, &manifest::LoadOptions::default()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{}", error::render_chain(&e));
            return Ok(e.exit_code());
        }
    };
    let popts = PlanOptions {
        dest_namespace: record.dest_namespace.clone(),
        ..PlanOptions::default()
    };
    let plan = match plan::build(&loaded.objects, &popts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}", error::render_chain(&e));
            return Ok(error::BAD_INPUT);
        }
    };
    let rt = match DockerRuntime::connect().await {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{}", error::render_chain(&e));
            return Ok(error::ENVIRONMENT);
        }
    };
    let ids: Vec<String> = record
        .objects
        .iter()
        .flat_map(|o| o.pods.iter())
        .flat_map(|p| p.containers.iter().map(|c| c.id.clone()))
        .collect();
    let states =
        futures_util::future::join_all(ids.iter().map(|id| rt.inspect_container(id))).await;
    let running: BTreeSet<String> = ids
        .into_iter()
        .zip(states)
        .filter(|(_, s)| matches!(s, Ok(s) if s.status == ContainerStatus::Running))
        .map(|(id, _)| id)
        .collect();
    let rows = compare(&plan, &record);
    print!("{}", render(&app, &source, &record, &rows, &running));
    Ok(error::SUCCESS)
}

fn health_of(row: &Compared, running: &BTreeSet<String>) -> Option<health::Health> {
    let Some(live) = &row.live else {
        return Some(health::Health::new(HealthStatus::Missing, ""));
    };
    let obj = observed_object(live, &|id| running.contains(id));
    match health::assess(&obj) {
        Ok(h) => h,
        Err(e) => Some(health::Health::new(HealthStatus::Unknown, e.to_string())),
    }
}

fn render(
    app: &str,
    source: &str,
    record: &EnvRecord,
    rows: &[Compared],
    running: &BTreeSet<String>,
) -> String {
    let healths: Vec<Option<health::Health>> = rows.iter().map(|r| health_of(r, running)).collect();
    // App health: the worst resource health; hooks do not count (§5.4).
    let app_health = rows
        .iter()
        .zip(&healths)
        .filter(|(r, _)| !r.hook)
        .filter_map(|(_, h)| h.as_ref().map(|h| h.status))
        .max()
        .unwrap_or(HealthStatus::Healthy);
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
    for (row, h) in rows.iter().zip(&healths) {
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
