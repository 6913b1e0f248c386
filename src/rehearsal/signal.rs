//! The one Ctrl-C/SIGTERM handler: the first signal cancels (graceful teardown), the second
//! forces teardown without grace, the third exits at once.
//!
//! Subcommands install it first thing, before they render, build or create anything: from
//! then on SIGINT and SIGTERM never kill the process outright (the signals are registered
//! before [`Interrupts::install`] returns, not when its task first runs). Steps that create
//! nothing (render, connect, build) are abandoned at once ([`Interrupts::until_cancelled`],
//! [`Interrupts::check`]: exit 130); once the environment is being created, the run goes on
//! to its teardown, which removes what it created.
use crate::error;
use tokio_util::sync::CancellationToken;

/// Tokens a run watches: `cancel` (first signal) and `force` (second signal).
#[derive(Debug, Clone, Default)]
pub struct Interrupts {
    pub cancel: CancellationToken,
    pub force: CancellationToken,
}

/// What escalation step a signal number (1-based) triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escalation {
    Graceful,
    Forced,
    Exit,
}

/// The step for the `count`-th signal.
pub fn escalation(count: u32) -> Escalation {
    match count {
        0 | 1 => Escalation::Graceful,
        2 => Escalation::Forced,
        _ => Escalation::Exit,
    }
}

impl Interrupts {
    /// Applies the step for the `count`-th signal to the tokens; `Exit` is left to the caller.
    pub fn escalate(&self, count: u32) -> Escalation {
        let step = escalation(count);
        match step {
            Escalation::Graceful => self.cancel.cancel(),
            Escalation::Forced => {
                self.cancel.cancel();
                self.force.cancel();
            }
            Escalation::Exit => {}
        }
        step
    }

    /// [`super::Error::Interrupted`] once the first signal came.
    ///
    /// # Errors
    ///
    /// See above.
    pub fn check(&self) -> Result<(), super::Error> {
        if self.cancel.is_cancelled() {
            Err(super::Error::Interrupted)
        } else {
            Ok(())
        }
    }

    /// Runs `step` (one that creates nothing) unless the first signal comes first.
    ///
    /// # Errors
    ///
    /// [`super::Error::Interrupted`] when the signal came first.
    pub async fn until_cancelled<T>(
        &self,
        step: impl std::future::Future<Output = T>,
    ) -> Result<T, super::Error> {
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(super::Error::Interrupted),
            v = step => Ok(v),
        }
    }

    /// Installs the handler: on each SIGINT/SIGTERM, escalates and prints `leftovers` as the
    /// way to clean up what a third signal leaves behind (e.g. "`syncsim down` removes them").
    /// Must be called within the tokio runtime.
    pub fn install(leftovers: &'static str) -> Self {
        let me = Self::default();
        let tokens = me.clone();
        let mut signals = Signals::register();
        tokio::spawn(async move {
            for count in 1.. {
                signals.next().await;
                match tokens.escalate(count) {
                    Escalation::Graceful => eprintln!(
                        "\ninterrupted: stopping and cleaning up (Ctrl-C again to force)"
                    ),
                    Escalation::Forced => eprintln!(
                        "\nforcing cleanup (Ctrl-C again to exit at once, leaving objects behind; {leftovers})"
                    ),
                    Escalation::Exit => std::process::exit(error::INTERRUPTED),
                }
            }
        });
        me
    }
}

/// SIGINT and SIGTERM, registered when created (so the default action, death, is replaced
/// before anything else happens).
struct Signals {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn register() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Self {
                int: signal(SignalKind::interrupt()).ok(),
                term: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        {
            async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = recv(&mut self.int) => {}
                () = recv(&mut self.term) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_signal_cancels_second_forces_third_exits() {
        let i = Interrupts::default();
        assert_eq!(i.escalate(1), Escalation::Graceful);
        assert!(i.cancel.is_cancelled() && !i.force.is_cancelled());
        assert_eq!(i.escalate(2), Escalation::Forced);
        assert!(i.force.is_cancelled());
        assert_eq!(i.escalate(3), Escalation::Exit);
    }
}
