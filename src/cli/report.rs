//! `syncsim report RUN.json --html FILE`: render a saved JSON report (`sync -o json`) as the
//! self-contained HTML timeline.
use crate::{error, report};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `syncsim report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// A JSON report written by `syncsim sync -o json`; `-` for standard input.
    pub report: PathBuf,

    /// Write the HTML timeline to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,
}

/// Runs the subcommand: 0 written, 2 the report cannot be read or is no syncsim JSON report,
/// 3 the HTML file cannot be written.
pub fn run(args: &ReportArgs) -> i32 {
    let name = args.report.display();
    let raw = if args.report.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(&args.report)
    };
    let raw = match raw {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot read {name}: {e}");
            return error::BAD_INPUT;
        }
    };
    let json: serde_json::Value = match serde_json::from_str(&raw) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {name} is not JSON: {e}");
            return error::BAD_INPUT;
        }
    };
    if json.get("resources").and_then(|r| r.as_array()).is_none() || json.get("operation").is_none()
    {
        eprintln!(
            "error: {name} is not a syncsim JSON report (`syncsim sync -o json`): it has no \
             `operation` and `resources`"
        );
        return error::BAD_INPUT;
    }
    let written = if args.html.as_os_str() == "-" {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(report::html::render(&json).as_bytes())
            .and_then(|()| out.flush())
    } else {
        report::html::write(&args.html, &json)
    };
    match written {
        Ok(()) => error::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", args.html.display());
            error::ENVIRONMENT
        }
    }
}
