//! One app, one operation (issue #14, item 1): two syncs of the same app started together
//! give exactly one run and one clean refusal (exit 3, naming the holder); `down` of an app
//! being synced is refused the same way and the sync goes on undisturbed; syncs of different
//! apps run side by side. Needs Docker and the test image:
//! `cargo test --test app_lock -- --include-ignored`.
mod common;

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::Duration,
};

fn small() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sync/small.yaml")
}

fn syncsim() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_syncsim"));
    cmd.env_remove("ARGOCD_SYNC_WAVE_DELAY")
        .env_remove("SYNCSIM_LOG")
        .env(
            "SYNCSIM_STATE_DIR",
            std::env::temp_dir().join(format!("syncsim-app-lock-state-{}", std::process::id())),
        );
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

fn clean(app: &str) {
    if !labelled(app).is_empty() {
        let _ = syncsim().args(["down", "--app", app, "--volumes"]).output();
    }
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_refused(o: &Output, app: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{}", text(o));
    assert!(err.contains(&format!("app `{app}` is busy")), "{err}");
    assert!(
        err.contains("pid ") && err.contains("syncsim") && err.contains("started 20"),
        "names the holder: {err}"
    );
}

#[test]
#[ignore = "needs docker"]
fn two_syncs_of_one_app_give_one_run_and_one_refusal() {
    common::ensure_test_image();
    let app = "lock-same";
    clean(app);
    let a = sync_child(app);
    let b = sync_child(app);
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let (ran, refused) = if a.status.code() == Some(3) {
        (b, a)
    } else {
        (a, b)
    };
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran));
    assert_refused(&refused, app);
    assert!(labelled(app).is_empty(), "the run tore down");
}

#[test]
#[ignore = "needs docker"]
fn down_during_a_sync_is_refused_and_the_sync_goes_on() {
    common::ensure_test_image();
    let app = "lock-down";
    clean(app);
    let run = sync_child(app);
    std::thread::sleep(Duration::from_millis(1500));
    let down = syncsim().args(["down", "--app", app]).output().unwrap();
    assert_refused(&down, app);
    let all = syncsim().args(["down", "--all"]).output().unwrap();
    assert_eq!(all.status.code(), Some(3), "{}", text(&all));
    assert!(
        String::from_utf8_lossy(&all.stderr).contains(app),
        "{}",
        text(&all)
    );
    let run = run.wait_with_output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    assert!(labelled(app).is_empty());
}

#[test]
#[ignore = "needs docker"]
fn syncs_of_different_apps_run_side_by_side() {
    common::ensure_test_image();
    for app in ["lock-one", "lock-two"] {
        clean(app);
    }
    let a = sync_child("lock-one");
    let b = sync_child("lock-two");
    for o in [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()] {
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    assert!(labelled("lock-one").is_empty() && labelled("lock-two").is_empty());
}
