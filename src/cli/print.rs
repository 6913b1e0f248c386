//! Printing shared by several subcommands (stderr notices).
use crate::{
    build::BuildEvent,
    cluster::TeardownReport,
    rehearsal::{Built, Opened},
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
