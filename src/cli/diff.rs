//! `syncsim diff A B`: compare two plans or runs step by step (see [`crate::diff`]; what A and
//! B may be is [`crate::diff::input`]'s).
use crate::{
    diff::{self, Options},
    error,
};
use clap::{Args, ValueEnum};
use std::io::Write;

/// Arguments of `syncsim diff`.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// The first plan or run: a JSON file, a SOURCE, or `DIR@REV`.
    pub a: String,
    /// The second plan or run, like A.
    pub b: String,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = DiffFormat::Text)]
    pub output: DiffFormat,

    /// A step duration change counts from this many percent of A's duration…
    #[arg(long, default_value_t = 20.0, value_name = "PERCENT", value_parser = parse_percent)]
    pub threshold: f64,

    /// …and from this many seconds.
    #[arg(long, default_value_t = 0.5, value_name = "SECONDS")]
    pub min_seconds: f64,

    /// Argo CD's destination namespace, for SOURCEs (as `syncsim plan`).
    #[arg(long, default_value = "default", value_name = "NS")]
    pub dest_namespace: String,
}

/// Output format of `syncsim diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
    Html,
}

fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{s}` is not a percentage (e.g. 20 or 20%)"))?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(format!("`{s}` is not a percentage (e.g. 20 or 20%)"))
    }
}

/// Runs the subcommand: 0 no differences, 1 differences, 2 an input cannot be used (named),
/// 3 the output cannot be written or git/kustomize are missing.
pub fn run(args: &DiffArgs) -> i32 {
    let ns = &args.dest_namespace;
    let (a, b) = match (
        diff::input::load(&args.a, ns),
        diff::input::load(&args.b, ns),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err((code, e)), _) | (_, Err((code, e))) => {
            eprintln!("{e}");
            return code;
        }
    };
    let opts = Options {
        percent: args.threshold,
        min_seconds: args.min_seconds,
    };
    let d = diff::compare(&a, &b, &opts);
    let out = match args.output {
        DiffFormat::Text => diff::render::text(&d, &args.a, &args.b),
        DiffFormat::Json => {
            let mut s = serde_json::to_string_pretty(&diff::render::json(&d, &args.a, &args.b))
                .expect("diff JSON has only string keys");
            s.push('\n');
            s
        }
        DiffFormat::Html => diff::render::html(&d, &args.a, &args.b),
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        eprintln!("error: failed to write the output: {e}");
        return error::ENVIRONMENT;
    }
    if d.is_empty() {
        error::SUCCESS
    } else {
        1
    }
}
