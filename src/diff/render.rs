//! A [`Diff`] as text (like `diff`: `+` added, `-` removed, `~` changed), JSON or one
//! self-contained HTML page.
use super::{Change, Diff, DocKind};
use crate::report::html_text::{esc, secs, text as etext};
use serde_json::{json, Value};
use std::fmt::Write as _;

fn kind_name(k: DocKind) -> &'static str {
    match k {
        DocKind::Plan => "plan",
        DocKind::Run => "run",
    }
}

fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("(none)")
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "(none)".into()
    } else {
        v.join(",")
    }
}

fn percent(from: f64, to: f64) -> String {
    if from > 0.0 {
        format!(" ({:+.0}%)", (to - from) / from * 100.0)
    } else {
        String::new()
    }
}

/// One change as a line: a marker (`+`, `-`, `~`) and the text.
pub fn line(c: &Change) -> (char, String) {
    match c {
        Change::Added { task } => ('+', format!("{task} added")),
        Change::Removed { task } => ('-', format!("{task} removed")),
        Change::Moved { task, from, to } => ('~', format!("{task} moved from {from} to {to}")),
        Change::Reordered { task, from, to } => (
            '~',
            format!("{task} reordered in the step: position {from} -> {to}"),
        ),
        Change::Hook { task, from, to } => (
            '~',
            format!(
                "{task} {}",
                match (from, to) {
                    (false, true) => "became a hook",
                    _ => "is no longer a hook",
                }
            ),
        ),
        Change::DeletePolicies { task, from, to } => (
            '~',
            format!("{task} delete policies {} -> {}", list(from), list(to)),
        ),
        Change::SyncOptions { task, from, to } => {
            ('~', format!("{task} sync options {from} -> {to}"))
        }
        Change::Result {
            task,
            field,
            from,
            to,
        } => ('~', format!("{task} {field} {} -> {}", opt(from), opt(to))),
        Change::StepStatus { from, to } => ('~', format!("step status {from} -> {to}")),
        Change::Duration { from, to } => (
            '~',
            format!(
                "duration {} -> {}{}",
                secs(*from),
                secs(*to),
                percent(*from, *to)
            ),
        ),
        Change::Operation { field, from, to } => ('~', format!("{field} {from:?} -> {to:?}")),
    }
}

/// Text: a `---`/`+++` header naming the inputs, the operation's changes, then one block per
/// step with changes, then a count.
pub fn text(d: &Diff, a: &str, b: &str) -> String {
    let mut s = format!(
        "--- {a} ({})\n+++ {b} ({})\n",
        kind_name(d.a_kind),
        kind_name(d.b_kind)
    );
    if !d.operation.is_empty() {
        s.push_str("operation:\n");
        for c in &d.operation {
            let (m, l) = line(c);
            let _ = writeln!(s, "  {m} {l}");
        }
    }
    for st in &d.steps {
        let _ = writeln!(s, "{}:", st.step);
        for c in &st.changes {
            let (m, l) = line(c);
            let _ = writeln!(s, "  {m} {l}");
        }
    }
    match d.count() {
        0 => s.push_str("no differences\n"),
        1 => s.push_str("1 difference\n"),
        n => {
            let _ = writeln!(s, "{n} differences");
        }
    }
    s
}

/// JSON: `{"a": {"name", "kind"}, "b": …, "differences": n, "operation": [change…],
/// "steps": [{"phase", "wave", "changes": [change…]}]}`, each change tagged by `change`
/// (`added`, `removed`, `moved`, `reordered`, `hook`, `deletePolicies`, `syncOptions`,
/// `result`, `stepStatus`, `duration`, `operation`).
pub fn json(d: &Diff, a: &str, b: &str) -> Value {
    json!({
        "a": {"name": a, "kind": d.a_kind},
        "b": {"name": b, "kind": d.b_kind},
        "differences": d.count(),
        "operation": d.operation,
        "steps": d.steps,
    })
}

const CSS: &str = "body{font:13px/1.4 system-ui,sans-serif;margin:16px 20px;color:#1d232a}\
h1{font-size:18px}h2{font-size:14px;margin:14px 0 4px}code{font-family:ui-monospace,Menlo,monospace}\
ul{list-style:none;padding-left:8px;margin:0}li{padding:1px 0;font-family:ui-monospace,Menlo,monospace}\
li.add{color:#1f7a3f}li.del{color:#b42b2b}li.chg{color:#8a5a00}.m{display:inline-block;width:1.4em;font-weight:700}\
.none{color:#5f6b77}";

/// HTML: one self-contained page (inline CSS, no script), every text escaped.
pub fn html(d: &Diff, a: &str, b: &str) -> String {
    let mut h = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>syncsim diff</title>\
         <style>{CSS}</style></head><body>\n<h1>syncsim diff</h1>\n\
         <p><code>--- {}</code> ({})<br><code>+++ {}</code> ({})</p>\n",
        etext(a),
        kind_name(d.a_kind),
        etext(b),
        kind_name(d.b_kind)
    );
    let mut block = |title: &str, changes: &[Change]| {
        let _ = write!(h, "<section><h2>{}</h2><ul>", esc(title));
        for c in changes {
            let (m, l) = line(c);
            let class = match m {
                '+' => "add",
                '-' => "del",
                _ => "chg",
            };
            let _ = write!(
                h,
                "<li class=\"{class}\"><span class=\"m\">{m}</span>{}</li>",
                etext(&l)
            );
        }
        h.push_str("</ul></section>\n");
    };
    if !d.operation.is_empty() {
        block("operation", &d.operation);
    }
    for st in &d.steps {
        block(&st.step.to_string(), &st.changes);
    }
    let _ = write!(
        h,
        "<p class=\"none\" id=\"count\">{}</p>\n</body></html>\n",
        match d.count() {
            0 => "no differences".to_string(),
            1 => "1 difference".to_string(),
            n => format!("{n} differences"),
        }
    );
    h
}
