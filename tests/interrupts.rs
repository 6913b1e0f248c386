//! Interrupts and crashes leave nothing (issue #14, item 2).
//!
//! A stress test interrupts `syncsim sync` of the small fixture (every phase, two waves, hooks;
//! about 7 s) at 24 moments spread from 50 ms after its signal handler is installed (render,
//! connect) through the dry run,
//! every wave and the PostSync hooks, alternating SIGINT and SIGTERM (some twice, which forces
//! the teardown): each run must exit 130 and leave zero objects labelled
//! `dev.syncsim.managed-by=syncsim` with its app. Then a SIGKILL (nothing can clean up) is
//! repaired by `syncsim down --app`, and another by the next sync of the app (it sweeps).
//! Needs Docker and the test image (`compose/testimages/build.sh`):
//! `cargo test --test interrupts -- --include-ignored`.
mod common;

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use syncsim::runtime::Listed;

fn small() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sync/small.yaml")
}

fn state_dir() -> PathBuf {
    std::env::temp_dir().join(format!("syncsim-interrupts-state-{}", std::process::id()))
}

fn syncsim() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_syncsim"));
    cmd.env_remove("ARGOCD_SYNC_WAVE_DELAY")
        .env_remove("SYNCSIM_LOG")
        .env("SYNCSIM_STATE_DIR", state_dir());
    cmd
}

fn sync_child(app: &str) -> Child {
    syncsim()
        .arg("sync")
        .arg(small())
        .args([
            "--app",
            app,
            "--no-build",
            "--job-backoff",
            "200ms",
            "--timeout",
            "60s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn syncsim")
}

use common::labelled;

fn describe(left: &[Listed]) -> Vec<String> {
    left.iter()
        .map(|l| format!("{:?} {}", l.kind, l.name))
        .collect()
}

fn signal(child: &Child, sig: i32) {
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill {sig}");
}

/// Waits for `child` (at most `limit`), returning its exit code and stderr.
fn finish(child: Child, limit: Duration) -> (Option<i32>, String) {
    let start = Instant::now();
    let mut child = child;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            start.elapsed() < limit,
            "syncsim did not end within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Waits until the process catches SIGINT and SIGTERM (`SigCgt` in `/proc/PID/status`): the
/// first thing `syncsim sync` does. Before that (exec, the dynamic loader, argument parsing,
/// on a loaded machine tens of milliseconds) a signal has its default action, as for any
/// program; nothing has been created then.
fn wait_until_handled(child: &Child) {
    const BOTH: u64 = (1 << (libc::SIGINT - 1)) | (1 << (libc::SIGTERM - 1));
    let status = format!("/proc/{}/status", child.id());
    let start = Instant::now();
    loop {
        let caught = std::fs::read_to_string(&status)
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("SigCgt:"))
                    .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            })
            .unwrap_or(0);
        if caught & BOTH == BOTH {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no signal handler"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn clean(app: &str) {
    if !labelled(app).is_empty() {
        let _ = syncsim().args(["down", "--app", app, "--volumes"]).output();
    }
}

/// One interrupted run: the signal(s) at `at`, then exit 130 and nothing left. `Ok(false)` when
/// the run ended on its own before `at` (the moment interrupted nothing).
fn interrupt_at(i: usize, at: Duration) -> Result<bool, String> {
    let app = format!("irq-{i:02}");
    clean(&app);
    let (sig, name) = if i % 2 == 0 {
        (libc::SIGINT, "SIGINT")
    } else {
        (libc::SIGTERM, "SIGTERM")
    };
    let twice = i % 5 == 4;
    let mut child = sync_child(&app);
    wait_until_handled(&child);
    std::thread::sleep(at);
    if child.try_wait().unwrap().is_some() {
        let left = labelled(&app);
        clean(&app);
        eprintln!("{app}: ended on its own before the signal at {at:?}");
        return if left.is_empty() {
            Ok(false)
        } else {
            Err(format!(
                "{app}: ended on its own and left {:?}",
                describe(&left)
            ))
        };
    }
    signal(&child, sig);
    if twice {
        std::thread::sleep(Duration::from_millis(150));
        if child.try_wait().unwrap().is_none() {
            signal(&child, sig);
        }
    }
    let (code, stderr) = finish(child, Duration::from_secs(60));
    let left = labelled(&app);
    clean(&app);
    let what = format!(
        "{app}: {name}{} at {at:?}",
        if twice { " twice" } else { "" }
    );
    if code != Some(130) {
        return Err(format!("{what}: exit {code:?}, want 130\n{stderr}"));
    }
    if !left.is_empty() {
        return Err(format!("{what}: left {:?}\n{stderr}", describe(&left)));
    }
    eprintln!("{what}: exit 130, nothing left");
    Ok(true)
}

#[test]
#[ignore = "needs docker"]
fn interrupts_at_24_spread_moments_exit_130_and_leave_nothing() {
    common::ensure_test_image();
    // One uninterrupted run first: the moments spread from 50 ms to 75 % of its length (setup,
    // dry run, PreSync, both Sync waves, PostSync hooks), so every moment falls inside a run
    // however fast the machine (four runs at a time are slower than this one alone).
    clean("irq-baseline");
    let t0 = Instant::now();
    let (code, stderr) = finish(sync_child("irq-baseline"), Duration::from_secs(90));
    assert_eq!(code, Some(0), "the baseline run succeeds: {stderr}");
    let span = t0.elapsed().mul_f64(0.75).max(Duration::from_millis(500));
    let moments: Vec<Duration> = (0..24u32)
        .map(|i| Duration::from_millis(50) + span.mul_f64(f64::from(i) / 23.0))
        .collect();
    let started = Instant::now();
    let outcomes: Vec<Result<bool, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = moments
            .chunks(6)
            .enumerate()
            .map(|(lane, chunk)| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .enumerate()
                        .map(|(j, at)| interrupt_at(lane * 6 + j, *at))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    eprintln!("24 moments in {:?}", started.elapsed());
    let failures: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(
        failures.is_empty(),
        "{}",
        failures
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n---\n")
    );
    // Four runs at a time may finish faster than the baseline alone: a late moment can find its
    // run already done. At least 20 moments must have interrupted a running sync.
    let interrupted = outcomes.iter().filter(|o| matches!(o, Ok(true))).count();
    assert!(
        interrupted >= 20,
        "only {interrupted} of 24 moments interrupted a run"
    );
}

/// Waits until the run has created containers (so a SIGKILL leaves something behind).
fn wait_for_containers(app: &str) {
    let start = Instant::now();
    while !labelled(app)
        .iter()
        .any(|l| l.kind == syncsim::runtime::ListedKind::Container)
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no container of {app}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
#[ignore = "needs docker"]
fn after_a_sigkill_down_removes_everything() {
    common::ensure_test_image();
    let app = "irq-kill-down";
    clean(app);
    let child = sync_child(app);
    wait_for_containers(app);
    signal(&child, libc::SIGKILL);
    let (code, _) = finish(child, Duration::from_secs(10));
    assert_eq!(code, None, "killed by the signal");
    assert!(!labelled(app).is_empty(), "a SIGKILL leaves objects");
    let down = syncsim().args(["down", "--app", app]).output().unwrap();
    assert_eq!(down.status.code(), Some(0), "{down:?}");
    let left = labelled(app);
    assert!(left.is_empty(), "{:?}", describe(&left));
}

#[test]
#[ignore = "needs docker"]
fn after_a_sigkill_the_next_sync_takes_over_and_sweeps() {
    common::ensure_test_image();
    let app = "irq-kill-next";
    clean(app);
    let child = sync_child(app);
    wait_for_containers(app);
    signal(&child, libc::SIGKILL);
    let _ = finish(child, Duration::from_secs(10));
    assert!(!labelled(app).is_empty(), "a SIGKILL leaves objects");
    let (code, stderr) = finish(sync_child(app), Duration::from_secs(90));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("ended without releasing its lock"),
        "warns about the stale lock: {stderr}"
    );
    assert!(
        stderr.contains("that an interrupted run of app `irq-kill-next` left behind"),
        "names the sweep: {stderr}"
    );
    let left = labelled(app);
    assert!(left.is_empty(), "{:?}", describe(&left));
}
