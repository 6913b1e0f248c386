//! `syncsim` binary: parse arguments, set up logging, run, map the outcome to an exit code.
use clap::Parser;
use std::fmt;
use syncsim::cli::{self, Cli};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::{
    fmt::{format::Writer, FmtContext, FormatEvent, FormatFields},
    registry::LookupSpan,
    EnvFilter,
};

/// mimalloc: `syncsim plan` of a 10 000-object render allocates a few hundred thousand small
/// JSON nodes, and glibc's malloc takes 10–15 % longer over them (and grows a second arena for
/// the parsing thread page by page).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let code = match cli::run(cli).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{}", syncsim::error::render_chain(&err));
            err.exit_code()
        }
    };
    std::process::exit(code)
}

/// Logs to stderr. `SYNCSIM_LOG` (an `EnvFilter`) wins over `-v`.
fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("SYNCSIM_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .event_format(CargoStyle)
        .init();
}

/// Cargo-like lines: `warning: …`, `error: …`; info and below as plain text.
struct CargoStyle;

impl<S, N> FormatEvent<S, N> for CargoStyle
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        match *event.metadata().level() {
            Level::ERROR => write!(writer, "error: ")?,
            Level::WARN => write!(writer, "warning: ")?,
            Level::INFO => {}
            Level::DEBUG => write!(writer, "debug: ")?,
            Level::TRACE => write!(writer, "trace: ")?,
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
