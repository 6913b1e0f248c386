//! Fault injection: one file per action. Manifest transformations (pure) change the rendered
//! objects before planning; runtime actions fire from [`FaultCluster`], a [`Cluster`] wrapper
//! in front of the Docker cluster that sees every dry run, apply and delete the engine makes.
//!
//! | fault | kind | file |
//! |---|---|---|
//! | `hookCommand` | manifest | `hook_command.rs` |
//! | `hookExitCode` | manifest | `hook_exit_code.rs` |
//! | `delayReadiness` | manifest | `delay_readiness.rs` |
//! | `memoryLimit` | manifest | `memory_limit.rs` |
//! | `crash` | runtime (after apply, or on hook creation) | `crash.rs` |
//! | `stop` | runtime (hook window) | `stop.rs` |
//! | `disconnect` | runtime (on hook creation) | `disconnect.rs` |
//! | `imageUnavailable` | runtime (dry run) | `image_unavailable.rs` |
mod crash;
mod delay_readiness;
mod disconnect;
mod hook_command;
mod hook_exit_code;
mod image_unavailable;
mod injector;
mod memory_limit;
mod stop;

pub use injector::FaultCluster;

use super::{select, spec::Fault};
use crate::{cluster::DockerCluster, manifest::Object, runtime::ContainerRuntime};
use std::sync::Arc;

/// What runtime actions act through.
#[derive(Clone)]
pub(crate) struct Env {
    pub rt: Arc<dyn ContainerRuntime>,
    pub cluster: DockerCluster,
}

/// Applies the manifest-transformation faults to `objects`, in file order.
///
/// # Errors
///
/// `(index of the fault, message)` when a target does not resolve or does not fit.
pub fn apply_to_objects(objects: &mut [Object], faults: &[Fault]) -> Result<(), (usize, String)> {
    for (i, f) in faults.iter().enumerate() {
        let r = match f {
            Fault::HookCommand {
                target,
                command,
                args,
                container,
            } => select::find(objects, target).and_then(|o| {
                hook_command::apply(
                    &mut objects[o],
                    command,
                    args.as_deref(),
                    container.as_deref(),
                )
            }),
            Fault::HookExitCode {
                target,
                code,
                container,
            } => select::find(objects, target)
                .and_then(|o| hook_exit_code::apply(&mut objects[o], *code, container.as_deref())),
            Fault::DelayReadiness { target, by } => select::find(objects, target)
                .and_then(|o| delay_readiness::apply(&mut objects[o], by.0)),
            Fault::MemoryLimit {
                target,
                limit,
                container,
            } => select::find(objects, target)
                .and_then(|o| memory_limit::apply(&mut objects[o], limit, container.as_deref())),
            // Runtime faults: only check that their targets exist.
            Fault::Crash {
                target,
                while_running,
                ..
            } => select::find(objects, target).and_then(|_| {
                while_running
                    .as_deref()
                    .map_or(Ok(0), |h| select::find(objects, h))
                    .map(drop)
            }),
            Fault::Stop {
                target,
                while_running,
            }
            | Fault::Disconnect {
                target,
                while_running,
            } => select::find(objects, target)
                .and_then(|_| select::find(objects, while_running))
                .map(drop),
            Fault::ImageUnavailable(_) => Ok(()),
        };
        r.map_err(|e| (i, format!("fault `{}`: {e}", f.name())))?;
    }
    Ok(())
}
