//! The HTML timeline (`syncsim report RUN.json --html FILE`, `--html FILE` on `sync`/`test`):
//! one self-contained file (inline CSS and script, no network, no external asset) rendered from
//! the stable JSON report ([`super::to_json`]), so that a saved report renders the same as a
//! live run.
//!
//! Layout: a header (app, outcome, operation message, times), the failing tasks with their
//! messages, a filter bar (kind, name, problems only; state in the URL fragment, e.g.
//! `#filter=Job`), then a Gantt chart: one section per step (phase, wave) with the step's span as
//! a band and the gap before it (between steps: polling and wave delay) hatched, and one row per
//! resource with a bar from apply to ready/finished, its message, health and, for hooks, the
//! captured log in a `<details>`. Every piece of report text is cleaned of terminal escapes and
//! HTML-escaped ([`super::html_text`]); the script reads only the DOM.
use super::html_assets::{CSS, JS};
use super::html_text::{esc, offset, parse_time, secs, str_of, text};
use serde_json::Value;
use std::{fmt::Write as _, path::Path, time::SystemTime};

/// Renders the JSON report `report` (what [`super::to_json`] produces) as one HTML page.
/// Missing fields render as absent data, never as a panic.
pub fn render(report: &Value) -> String {
    let tl = Timeline::new(report);
    let mut h = String::with_capacity(4096 + tl.resources.len() * 700);
    let app = str_of(report, "app");
    let outcome = str_of(report, "outcome");
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\
         <title>syncsim: {} {}</title><style>{CSS}</style></head>\n<body>\n",
        text(app),
        text(outcome)
    );
    header(&mut h, report, &tl);
    failures(&mut h, &tl);
    filters(&mut h, &tl);
    timeline(&mut h, &tl);
    let _ = write!(
        h,
        "<footer>syncsim JSON report schema {}; times are offsets from the operation start.</footer>\n\
         <script>{JS}</script>\n</body></html>\n",
        report
            .get("schemaVersion")
            .map(Value::to_string)
            .unwrap_or_else(|| "?".into())
    );
    h
}

/// Writes [`render`]'s page to `path` (what `--html FILE` does).
pub fn write(path: &Path, report: &Value) -> std::io::Result<()> {
    std::fs::write(path, render(report))
}

/// How a bar, dot or row is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Ok,
    Fail,
    Run,
    Idle,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Ok => "ok",
            Tone::Fail => "fail",
            Tone::Run => "run",
            Tone::Idle => "idle",
        }
    }
}

/// One resource row, with times as offsets (seconds) from the operation start.
struct Res<'a> {
    v: &'a Value,
    idx: usize,
    phase: &'a str,
    wave: i64,
    applied: Option<f64>,
    finished: Option<f64>,
    failed: bool,
    tone: Tone,
}

/// One step section.
struct StepView<'a> {
    phase: &'a str,
    wave: i64,
    status: &'a str,
    started: Option<f64>,
    finished: Option<f64>,
    resources: Vec<usize>,
}

/// The report, read once: offsets computed, resources grouped under their steps.
struct Timeline<'a> {
    total: f64,
    resources: Vec<Res<'a>>,
    steps: Vec<StepView<'a>>,
    kinds: Vec<&'a str>,
    /// Resources whose (phase, wave) matches no step (older or hand-made reports).
    loose: Vec<usize>,
}

fn i64_of(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// A task that failed: its sync failed, or its hook ended Failed/Error.
fn is_failed(r: &Value) -> bool {
    str_of(r, "status") == "SyncFailed" || matches!(str_of(r, "hookPhase"), "Failed" | "Error")
}

fn tone_of(r: &Value, finished: Option<f64>, applied: Option<f64>) -> Tone {
    if is_failed(r) {
        Tone::Fail
    } else if applied.is_none() && r.get("status").is_none_or(Value::is_null) {
        Tone::Idle
    } else if finished.is_some() {
        Tone::Ok
    } else {
        Tone::Run
    }
}

impl<'a> Timeline<'a> {
    fn new(report: &'a Value) -> Self {
        let op = report.get("operation").unwrap_or(&Value::Null);
        let base: Option<SystemTime> = op.get("startedAt").and_then(parse_time);
        let at = |v: &Value, k: &str| offset(base, v.get(k).unwrap_or(&Value::Null));
        static EMPTY: Vec<Value> = Vec::new();
        let list = |k: &str| report.get(k).and_then(Value::as_array).unwrap_or(&EMPTY);
        let mut total = at(op, "finishedAt")
            .or_else(|| op.get("durationSeconds").and_then(Value::as_f64))
            .unwrap_or(0.0);
        let mut steps: Vec<StepView> = list("steps")
            .iter()
            .map(|s| StepView {
                phase: str_of(s, "phase"),
                wave: i64_of(s, "wave"),
                status: str_of(s, "status"),
                started: at(s, "startedAt"),
                finished: at(s, "finishedAt"),
                resources: Vec::new(),
            })
            .collect();
        let mut resources = Vec::new();
        let mut kinds: Vec<&str> = Vec::new();
        let mut loose = Vec::new();
        for (idx, v) in list("resources").iter().enumerate() {
            let (applied, finished) = (at(v, "appliedAt"), at(v, "finishedAt"));
            let (phase, wave) = (str_of(v, "syncPhase"), i64_of(v, "wave"));
            let kind = str_of(v, "kind");
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
            match steps
                .iter_mut()
                .find(|s| s.phase == phase && s.wave == wave)
            {
                Some(s) => s.resources.push(idx),
                None => loose.push(idx),
            }
            resources.push(Res {
                v,
                idx,
                phase,
                wave,
                applied,
                finished,
                failed: is_failed(v),
                tone: tone_of(v, finished, applied),
            });
        }
        kinds.sort_unstable();
        for t in resources
            .iter()
            .flat_map(|r| [r.applied, r.finished])
            .chain(steps.iter().flat_map(|s| [s.started, s.finished]))
            .flatten()
        {
            total = total.max(t);
        }
        Timeline {
            total: total.max(0.001),
            resources,
            steps,
            kinds,
            loose,
        }
    }

    /// Percent of the track for an offset.
    fn pct(&self, t: f64) -> f64 {
        (t / self.total * 100.0).clamp(0.0, 100.0)
    }

    /// `left:…%;width:…%` for the span `[from, to]`.
    fn span(&self, from: f64, to: f64) -> String {
        let l = self.pct(from);
        let w = (self.pct(to) - l).max(0.0);
        format!("left:{l:.3}%;width:{w:.3}%")
    }
}

fn header(h: &mut String, report: &Value, tl: &Timeline) {
    let op = report.get("operation").unwrap_or(&Value::Null);
    let outcome = str_of(report, "outcome");
    let _ = writeln!(
        h,
        "<header><h1>syncsim <span class=\"app\">{}</span> <span class=\"badge {}\" id=\"outcome\">{}</span></h1>",
        text(str_of(report, "app")),
        esc(outcome),
        text(outcome)
    );
    let msg = str_of(op, "message");
    if !msg.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"opmsg\" id=\"opmsg\">{} <span class=\"badge {}\">{}</span></p>",
            text(msg),
            esc(str_of(op, "phase")),
            text(str_of(op, "phase"))
        );
    }
    h.push_str("<dl class=\"summary\">");
    let mut item = |k: &str, v: String| {
        let _ = write!(h, "<div><dt>{}</dt><dd>{}</dd></div>", esc(k), v);
    };
    item("started", text(str_of(op, "startedAt")));
    let num = |k: &str| op.get(k).and_then(Value::as_f64);
    if let Some(d) = num("durationSeconds") {
        item("duration", esc(&secs(d)));
    }
    if let Some(d) = num("stepSeconds") {
        item("in steps", esc(&secs(d)));
    }
    if let Some(d) = num("betweenStepsSeconds") {
        item("between steps", esc(&secs(d)));
    }
    if let Some(d) = num("waveDelaySeconds") {
        item("wave delay slept", esc(&secs(d)));
    }
    if let Some(d) = num("argoDefaultWaveDelaySeconds") {
        item("Argo CD's default wave delay would add", esc(&secs(d)));
    }
    item(
        "steps",
        format!(
            "{} ({} ran)",
            tl.steps.len(),
            tl.steps.iter().filter(|s| s.started.is_some()).count()
        ),
    );
    item("resources", tl.resources.len().to_string());
    h.push_str("</dl></header>\n");
}

fn failures(h: &mut String, tl: &Timeline) {
    let failed: Vec<&Res> = tl.resources.iter().filter(|r| r.failed).collect();
    if failed.is_empty() {
        return;
    }
    h.push_str("<section class=\"failure\" id=\"failure\"><h2>Failed task");
    if failed.len() > 1 {
        h.push('s');
    }
    h.push_str("</h2><ul>");
    for r in failed {
        let _ = write!(
            h,
            "<li><a href=\"#r{}\">{}/{}</a> ({} wave {}): <span class=\"msg\">{}</span></li>",
            r.idx,
            text(str_of(r.v, "kind")),
            text(str_of(r.v, "name")),
            text(r.phase),
            r.wave,
            text(str_of(r.v, "message"))
        );
    }
    h.push_str("</ul></section>\n");
}

fn filters(h: &mut String, tl: &Timeline) {
    h.push_str(
        "<nav class=\"filters\"><label>Kind <select id=\"f-kind\"><option value=\"\">all</option>",
    );
    for k in &tl.kinds {
        let _ = write!(h, "<option value=\"{0}\">{0}</option>", text(k));
    }
    h.push_str(
        "</select></label> <label>Name <input id=\"f-name\" type=\"search\" placeholder=\"contains…\"></label> \
         <label><input id=\"f-problems\" type=\"checkbox\"> failed or unfinished only</label> \
         <span id=\"f-count\"></span></nav>\n",
    );
}

/// A tick interval giving about eight gridlines.
fn tick_interval(total: f64) -> f64 {
    const NICE: [f64; 17] = [
        0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0,
        3600.0, 7200.0,
    ];
    NICE.iter()
        .copied()
        .find(|n| total / n <= 10.0)
        .unwrap_or(total / 8.0)
}

fn timeline(h: &mut String, tl: &Timeline) {
    let tick = tick_interval(tl.total);
    let _ = write!(
        h,
        "<div class=\"timeline\" id=\"timeline\" style=\"--tick:{:.4}%\">\n<div class=\"row axis\"><div class=\"label\">step / resource</div><div class=\"track\">",
        tick / tl.total * 100.0
    );
    let mut t = 0.0;
    while t <= tl.total + 1e-9 {
        let _ = write!(
            h,
            "<span class=\"tick\" style=\"left:{:.3}%\">+{}</span>",
            tl.pct(t),
            esc(&secs(t))
        );
        t += tick;
    }
    h.push_str("</div></div>\n");
    let mut prev_end: Option<f64> = Some(0.0);
    for (i, s) in tl.steps.iter().enumerate() {
        step(h, tl, i, s, prev_end);
        if s.finished.is_some() {
            prev_end = s.finished;
        }
    }
    if !tl.loose.is_empty() {
        h.push_str("<section class=\"step loose\"><div class=\"row step-row\"><div class=\"label\">not in a recorded step</div><div class=\"track\"></div></div>\n");
        for &i in &tl.loose {
            resource(h, tl, &tl.resources[i], None);
        }
        h.push_str("</section>\n");
    }
    if tl.steps.is_empty() && tl.loose.is_empty() {
        h.push_str("<p class=\"nodata\">The report has no steps and no resources.</p>\n");
    }
    h.push_str("</div>\n");
}

/// What a step waited for: its last task to finish, or the tasks still unfinished when it
/// stopped (derived from the tasks' times; the engine records no explicit reason).
fn waited_on(tl: &Timeline, s: &StepView) -> Option<String> {
    let rs: Vec<&Res> = s.resources.iter().map(|&i| &tl.resources[i]).collect();
    let open: Vec<&&Res> = rs
        .iter()
        .filter(|r| r.applied.is_some() && r.finished.is_none())
        .collect();
    let name = |r: &Res| format!("{}/{}", str_of(r.v, "kind"), str_of(r.v, "name"));
    if !open.is_empty() {
        let first = open[0];
        let why = [str_of(first.v, "healthMessage"), str_of(first.v, "message")]
            .into_iter()
            .find(|m| !m.is_empty())
            .unwrap_or("");
        let more = if open.len() > 1 {
            format!(" and {} more", open.len() - 1)
        } else {
            String::new()
        };
        return Some(format!("blocked on {}{more} ({why})", name(first)));
    }
    let last = rs
        .iter()
        .filter(|r| r.finished.is_some() && r.applied.is_some())
        .max_by(|a, b| a.finished.partial_cmp(&b.finished).unwrap())?;
    let took = last.finished? - last.applied?;
    if let Some(f) = rs.iter().find(|r| r.failed) {
        return Some(format!(
            "failed: {} after {}",
            name(f),
            secs(f.finished.zip(f.applied).map_or(took, |(b, a)| b - a))
        ));
    }
    (rs.len() > 1 || took >= 0.5).then(|| {
        format!(
            "waited on {} ({} to {})",
            name(last),
            secs(took),
            if last.v.get("hook") == Some(&Value::Bool(true)) {
                "finish"
            } else {
                "become ready"
            }
        )
    })
}

fn step(h: &mut String, tl: &Timeline, i: usize, s: &StepView, prev_end: Option<f64>) {
    let _ = write!(
        h,
        "<section class=\"step\" id=\"s{i}\" data-phase=\"{}\" data-wave=\"{}\" data-status=\"{}\">\n\
         <div class=\"row step-row\"><div class=\"label\" title=\"{} wave {}\">{} · wave {} \
         <span class=\"badge {}\">{}</span> <span class=\"meta\">",
        esc(s.phase),
        s.wave,
        esc(s.status),
        esc(s.phase),
        s.wave,
        text(s.phase),
        s.wave,
        esc(s.status),
        text(s.status),
    );
    match (s.started, s.finished) {
        (Some(a), Some(b)) => {
            let _ = write!(h, "{}", esc(&secs(b - a)));
        }
        (Some(_), None) => h.push_str("did not finish"),
        _ => h.push_str("not started"),
    }
    let _ = write!(h, " · {} task", s.resources.len());
    if s.resources.len() != 1 {
        h.push('s');
    }
    h.push_str("</span></div><div class=\"track\">");
    if let (Some(p), Some(a)) = (prev_end, s.started) {
        if a - p > 0.0005 {
            let _ = write!(
                h,
                "<div class=\"gap\" style=\"{}\" title=\"between steps: {} (polling, wave delay)\"></div>",
                tl.span(p, a),
                esc(&secs(a - p))
            );
        }
    }
    if let Some(a) = s.started {
        let b = s.finished.unwrap_or(tl.total);
        let _ = write!(
            h,
            "<div class=\"step-band {}\" style=\"{}\" title=\"{} wave {}: +{} → {}\"></div>",
            esc(s.status),
            tl.span(a, b),
            esc(s.phase),
            s.wave,
            esc(&secs(a)),
            match s.finished {
                Some(b) => format!("+{}", esc(&secs(b))),
                None => "(did not finish)".into(),
            }
        );
    }
    if let (Some(w), Some(a)) = (waited_on(tl, s), s.started) {
        // Written over the band, from its start; right-aligned to its end late in the run.
        let b = s.finished.unwrap_or(tl.total);
        let place = if tl.pct(a) < 55.0 {
            format!("left:{:.3}%", tl.pct(a))
        } else {
            format!("right:{:.3}%", 100.0 - tl.pct(b))
        };
        let _ = write!(
            h,
            "<span class=\"waited\" style=\"{place}\">{}</span>",
            text(&w)
        );
    }
    h.push_str("</div></div>\n");
    for &r in &s.resources {
        resource(h, tl, &tl.resources[r], Some(s));
    }
    h.push_str("</section>\n");
}

fn resource(h: &mut String, tl: &Timeline, r: &Res, s: Option<&StepView>) {
    let v = r.v;
    let (kind, name, ns) = (str_of(v, "kind"), str_of(v, "name"), str_of(v, "namespace"));
    let hook = v.get("hook") == Some(&Value::Bool(true));
    let mut classes = String::from("row res");
    if r.failed {
        classes.push_str(" failed");
    }
    if r.tone == Tone::Idle {
        classes.push_str(" notstarted");
    }
    let problem = r.failed || r.tone == Tone::Run;
    let _ = write!(
        h,
        "<div class=\"{classes}\" id=\"r{}\" data-kind=\"{}\" data-name=\"{}\" data-namespace=\"{}\"{}>\
         <div class=\"label\" title=\"{}/{} ({}) {}\"><span class=\"dot {}\"></span><span class=\"kind\">{}</span>/<span class=\"name\">{}</span>",
        r.idx,
        text(kind),
        text(name),
        text(ns),
        if problem { " data-problem=\"1\"" } else { "" },
        text(kind),
        text(name),
        text(ns),
        text(&[str_of(v, "status"), str_of(v, "health"), str_of(v, "message")].join(" ")),
        r.tone.class(),
        text(kind),
        text(name),
    );
    if hook {
        h.push_str("<span class=\"tag\">hook</span>");
    }
    if v.get("prune") == Some(&Value::Bool(true)) {
        h.push_str("<span class=\"tag\">prune</span>");
    }
    if v.get("simulated") == Some(&Value::Bool(true)) {
        h.push_str("<span class=\"tag\">simulated</span>");
    }
    h.push_str("</div><div class=\"track\">");
    if let Some(StepView {
        started: Some(a), ..
    }) = s
    {
        let b = s.and_then(|s| s.finished).unwrap_or(tl.total);
        let _ = write!(h, "<div class=\"band\" style=\"{}\"></div>", tl.span(*a, b));
    }
    if let Some(a) = r.applied {
        let b = r.finished.unwrap_or(tl.total);
        let end = match r.finished {
            Some(_) if hook => "finished",
            Some(_) => "ready",
            None => "not finished",
        };
        let _ = write!(
            h,
            "<div class=\"bar {}\" style=\"{}\" title=\"applied +{}, {end} {}\"></div><div class=\"mark\" style=\"left:{:.3}%\"></div>",
            r.tone.class(),
            tl.span(a, b),
            esc(&secs(a)),
            match r.finished {
                Some(f) => format!("+{} ({})", esc(&secs(f)), esc(&secs(f - a))),
                None => String::new(),
            },
            tl.pct(a),
        );
    }
    h.push_str("</div>");
    info(h, v, r);
    h.push_str("</div>\n");
}

/// The line under a resource: results, message, and the hook's log.
fn info(h: &mut String, v: &Value, r: &Res) {
    let mut parts: Vec<String> = Vec::new();
    let hook = v.get("hook") == Some(&Value::Bool(true));
    for (label, key) in [
        ("status", "status"),
        ("hook", if hook { "hookPhase" } else { "" }),
        ("health", "health"),
    ] {
        let x = str_of(v, key);
        if !x.is_empty() {
            parts.push(format!("{label} {}", text(x)));
        }
    }
    if r.tone == Tone::Idle {
        parts.push("not started".into());
    }
    if let Some(p) = v.get("deletedByPolicy").and_then(Value::as_str) {
        parts.push(format!("deleted by {}", text(p)));
    }
    let msg = str_of(v, "message");
    let health_msg = str_of(v, "healthMessage");
    let logs: Vec<&str> = v
        .get("logTail")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let unhealthy = !matches!(str_of(v, "health"), "" | "Healthy");
    let interesting = r.failed || !logs.is_empty() || r.tone == Tone::Run || unhealthy;
    if !interesting {
        // Kept compact (one line per resource for big apps); the label's tooltip has it all.
        return;
    }
    let _ = write!(h, "<div class=\"info\">{}", parts.join(" · "));
    if !msg.is_empty() {
        let _ = write!(h, " — <span class=\"msg\">{}</span>", text(msg));
    }
    if !health_msg.is_empty() && health_msg != msg {
        let _ = write!(h, " <span class=\"msg\">({})</span>", text(health_msg));
    }
    if !logs.is_empty() {
        let _ = write!(
            h,
            "<details class=\"log\"{}><summary>log ({} line{})</summary><pre>",
            if r.failed { " open" } else { "" },
            logs.len(),
            if logs.len() == 1 { "" } else { "s" }
        );
        if v.get("logTruncated") == Some(&Value::Bool(true)) {
            let _ = writeln!(
                h,
                "<span class=\"trunc\">{}</span>",
                text(super::LOG_TRUNCATED_MARK)
            );
        }
        for l in &logs {
            h.push_str(&text(l));
            h.push('\n');
        }
        h.push_str("</pre></details>");
    }
    h.push_str("</div>");
}

#[cfg(test)]
#[path = "html_tests.rs"]
mod tests;
