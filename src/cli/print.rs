//! Printing shared by several subcommands (stderr notices).
use crate::{
    build::BuildEvent,
    cluster::TeardownReport,
    engine::{OperationPhase, RunEvent},
    rehearsal::{Built, ChildSync, Opened, Synced},
    report::ChildReport,
};

/// Prints a build step's progress: starts and finishes always, builder output with `-v` (step
/// headers always).
pub(super) fn build_event(ev: BuildEvent<'_>) {
    match ev {
        BuildEvent::Skipped { image, reason } => tracing::info!("{image}: {reason}"),
        BuildEvent::AlreadyBuilt { image } => {
            tracing::info!("{image}: built by an earlier build command")
        }
        BuildEvent::Started {
            image,
            reason,
            what,
        } => eprintln!("building {image} ({reason}) from {what} …"),
        BuildEvent::Output { line, .. } => {
            // The builder's step headers show where a build is; everything else with -v.
            if line.starts_with("Step ") {
                eprintln!("  {line}");
            } else {
                tracing::info!("  {line}");
            }
        }
        BuildEvent::Finished { image, elapsed } => {
            eprintln!("built {image} in {:.1}s", elapsed.as_secs_f64())
        }
    }
}

/// The build step's summary line.
pub(super) fn built(b: &Built) {
    eprintln!(
        "images: {} built, {} already present ({}, {:.1}s)",
        b.summary.built.len(),
        b.summary.skipped.len(),
        b.config.display(),
        b.elapsed.as_secs_f64()
    );
}

/// `syncsim: app `a`, run r, network n (adopted …)`.
pub(super) fn opened_line(o: &Opened) -> String {
    format!(
        "syncsim: app `{}`, run {}, network {}{}",
        o.app,
        o.run_id,
        o.network,
        match o.adopted {
            Some(n) => format!(" (adopted the kept environment: {n} objects)"),
            None => String::new(),
        }
    )
}

pub(super) fn teardown(t: &TeardownReport) {
    tracing::info!(
        "teardown: {} containers, {} networks, {} volumes removed",
        t.containers,
        t.networks,
        t.volumes
    );
    for e in &t.errors {
        eprintln!("warning: cleanup: {e}");
    }
}

/// A line of a child Application's progress (an app of apps): step starts and finished tasks.
pub(super) fn child_run_line(app: &str, ev: &RunEvent) -> Option<String> {
    match ev {
        RunEvent::StepStarted { phase, wave, tasks } => Some(format!(
            "  [{app}] {phase} wave {wave}: {tasks} task{}",
            if *tasks == 1 { "" } else { "s" }
        )),
        RunEvent::TaskUpdated(t) => {
            let done = t.hook_phase.is_some_and(|p| p != OperationPhase::Running);
            done.then(|| {
                format!(
                    "  [{app}] {}/{}: {} {}",
                    t.task.kind(),
                    t.task.name(),
                    t.hook_phase.map(|p| p.as_str()).unwrap_or(""),
                    t.message
                )
            })
        }
        RunEvent::Status {
            phase: OperationPhase::Failed | OperationPhase::Error,
            message,
        } => Some(format!("  [{app}] {message}")),
        _ => None,
    }
}

/// The line when a child Application's sync ends.
pub(super) fn child_synced_line(c: &ChildSync) -> String {
    match (&c.report, &c.error) {
        (Some(r), _) => format!(
            "child Application `{}`: {} ({})",
            c.name,
            r.phase.as_str(),
            r.message
        ),
        (None, e) => format!(
            "child Application `{}`: {}",
            c.name,
            e.as_deref().unwrap_or("not synced")
        ),
    }
}

/// The children of a rehearsal as the report shows them.
pub(super) fn child_reports(s: &Synced) -> Vec<ChildReport<'_>> {
    s.children
        .iter()
        .map(|c| ChildReport {
            name: &c.name,
            application: c.application.as_ref(),
            wave: c.wave,
            report: c.report.as_ref(),
            error: c.error.as_deref(),
            exit_code: c.exit_code(),
        })
        .collect()
}
