//! Building images with `DockerRuntime` and the `build` module against the real engine, from the
//! tiny busybox image of `compose/testimages/build.sh` (built on first use when missing).
//!
//! Every image a test creates is tagged `syncsim-test/build-<id>:1` and removed at the end, with
//! the images its rebuilds replaced, even when the test fails.
//!
//! Run: `cargo test --test docker_build -- --include-ignored`
mod common;

use std::{path::Path, process::Command, sync::Mutex};
use syncsim::{
    build::{self, config, BuildEvent, BuildOptions, Error, LABEL_CONTEXT_HASH},
    error::{render_chain, ExitCode, ENVIRONMENT},
    runtime::{docker::DockerRuntime, BuildContext, BuildSpec, ContainerRuntime, Labels},
};

const BASE: &str = "syncsim-test/busybox:1";

fn docker(args: &[&str]) -> (bool, String) {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker CLI");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

fn image_id(tag: &str) -> Option<String> {
    let (ok, id) = docker(&["image", "inspect", "-f", "{{.Id}}", tag]);
    ok.then_some(id)
}

/// A unique tag, removed (with every image id recorded along the way) on drop.
struct TestImage {
    tag: String,
    ids: Mutex<Vec<String>>,
}

impl TestImage {
    fn new() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        Self {
            tag: format!("syncsim-test/build-{}:1", &id[..12]),
            ids: Mutex::new(Vec::new()),
        }
    }

    /// Remembers the image the tag points at now, so a later rebuild does not leak it.
    fn remember(&self) -> String {
        let id = image_id(&self.tag).expect("the image exists");
        self.ids.lock().unwrap().push(id.clone());
        id
    }
}

impl Drop for TestImage {
    fn drop(&mut self) {
        if image_id(&self.tag).is_some() {
            self.remember();
        }
        for id in self.ids.lock().unwrap().iter() {
            let _ = docker(&["image", "rm", "-f", id]);
        }
        let _ = docker(&["image", "rm", "-f", &self.tag]);
    }
}

fn write(dir: &Path, rel: &str, content: &str) {
    std::fs::write(dir.join(rel), content).unwrap();
}

/// A config dir with `app/` (Dockerfile from the busybox image) and a syncsim.yaml building it.
fn project(tag: &str, dockerfile: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    write(dir.path(), "app/Dockerfile", dockerfile);
    write(dir.path(), "app/hello.txt", "hello 1\n");
    write(dir.path(), "app/.dockerignore", "*.log\n");
    write(
        dir.path(),
        config::CONFIG_FILE_NAME,
        &format!(
            "apiVersion: syncsim.dev/v1alpha1\nkind: Config\nbuild:\n  - image: {tag}\n    \
             context: app\n    buildArgs: {{GREETING: hi there}}\n"
        ),
    );
    dir
}

async fn build_all(
    dir: &Path,
    rt: &DockerRuntime,
) -> (Result<build::BuildSummary, Error>, Vec<String>) {
    let config = config::load(&dir.join(config::CONFIG_FILE_NAME)).unwrap();
    let mut lines = Vec::new();
    let result = build::build_all(&config, rt, &BuildOptions::default(), &mut |ev| {
        if let BuildEvent::Output { line, .. } = ev {
            lines.push(line.to_string());
        }
    })
    .await;
    (result, lines)
}

fn hash_label(labels: &Labels) -> &str {
    labels
        .get(LABEL_CONTEXT_HASH)
        .map(String::as_str)
        .unwrap_or("")
}

#[tokio::test]
#[ignore = "needs docker"]
async fn builds_with_args_and_hash_label_then_skips_then_rebuilds_when_a_file_changes() {
    common::ensure_test_image();
    let rt = DockerRuntime::connect().await.unwrap();
    let image = TestImage::new();
    let dir = project(
        &image.tag,
        &format!(
            "FROM {BASE}\nARG GREETING=none\nCOPY . /ctx/\nRUN echo \"$GREETING\" > /greeting\n"
        ),
    );
    write(dir.path(), "app/debug.log", "ignored\n");

    let (result, lines) = build_all(dir.path(), &rt).await;
    assert_eq!(result.unwrap().built, std::slice::from_ref(&image.tag));
    assert!(lines.iter().any(|l| l.starts_with("Step 1/")), "{lines:?}");
    let config = config::load(&dir.path().join(config::CONFIG_FILE_NAME)).unwrap();
    let hash = build::prepare(&config).unwrap()[0].hash.clone();
    let labels = rt.image_labels(&image.tag).await.unwrap().unwrap();
    assert_eq!(hash_label(&labels), hash);
    let (ok, greeting) = docker(&["run", "--rm", &image.tag, "cat", "/greeting"]);
    assert!(ok);
    assert_eq!(greeting, "hi there", "the build arg reached the build");
    let (ok, files) = docker(&["run", "--rm", &image.tag, "ls", "-a", "/ctx"]);
    assert!(ok);
    assert!(
        files.contains("hello.txt") && !files.contains("debug.log"),
        "{files}"
    );
    let first = image.remember();

    // Unchanged (an ignored file changing does not count): skipped, same image.
    write(dir.path(), "app/debug.log", "still ignored\n");
    let (result, lines) = build_all(dir.path(), &rt).await;
    assert_eq!(result.unwrap().skipped, std::slice::from_ref(&image.tag));
    assert!(lines.is_empty(), "{lines:?}");
    assert_eq!(image_id(&image.tag).as_deref(), Some(first.as_str()));

    // A changed file: rebuilt with a new hash.
    write(dir.path(), "app/hello.txt", "hello 2\n");
    let (result, _) = build_all(dir.path(), &rt).await;
    assert_eq!(result.unwrap().built, std::slice::from_ref(&image.tag));
    let labels = rt.image_labels(&image.tag).await.unwrap().unwrap();
    assert_ne!(hash_label(&labels), hash);
    assert_ne!(image.remember(), first);
    assert_eq!(image_id(&first), None, "the replaced image was removed");
    let (_, hello) = docker(&["run", "--rm", &image.tag, "cat", "/ctx/hello.txt"]);
    assert_eq!(hello, "hello 2");
}

#[tokio::test]
#[ignore = "needs docker"]
async fn a_failing_step_reports_the_daemon_error_and_the_last_output_lines() {
    common::ensure_test_image();
    let rt = DockerRuntime::connect().await.unwrap();
    let image = TestImage::new();
    let dir = project(
        &image.tag,
        &format!("FROM {BASE}\nRUN echo about to fail && echo details >&2 && exit 7\n"),
    );
    let (result, _) = build_all(dir.path(), &rt).await;
    let err = result.unwrap_err();
    assert_eq!(err.exit_code(), ENVIRONMENT);
    let text = render_chain(&err);
    assert!(
        text.contains(&format!("build of image `{}` from `", image.tag)),
        "{text}"
    );
    assert!(text.contains("returned a non-zero code: 7"), "{text}");
    assert!(text.contains("| about to fail"), "{text}");
    assert!(rt.image_labels(&image.tag).await.unwrap().is_none());

    // The same through the CLI: exit code 3, the image, the context and the daemon's error.
    let out = assert_cmd::Command::cargo_bin("syncsim")
        .unwrap()
        .args(["build", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(ENVIRONMENT));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("building {} (missing)", image.tag)),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("error: build of image `{}` from `", image.tag)),
        "{stderr}"
    );
    assert!(stderr.contains("returned a non-zero code: 7"), "{stderr}");
}

#[tokio::test]
#[ignore = "needs docker"]
async fn a_directory_context_is_sent_whole() {
    common::ensure_test_image();
    let rt = DockerRuntime::connect().await.unwrap();
    let image = TestImage::new();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Dockerfile.test",
        &format!("FROM {BASE}\nCOPY data.txt /data.txt\n"),
    );
    write(dir.path(), "data.txt", "42\n");
    let spec = BuildSpec {
        tag: image.tag.clone(),
        context: BuildContext::Dir(dir.path().to_path_buf()),
        dockerfile: "Dockerfile.test".into(),
        labels: Labels::from([("dev.syncsim.test".to_string(), "yes".to_string())]),
        ..BuildSpec::default()
    };
    let mut lines = Vec::new();
    rt.build_image(&spec, &mut |l: &str| lines.push(l.to_string()))
        .await
        .unwrap();
    let labels = rt.image_labels(&image.tag).await.unwrap().unwrap();
    assert_eq!(
        labels.get("dev.syncsim.test").map(String::as_str),
        Some("yes")
    );
    let (_, data) = docker(&["run", "--rm", &image.tag, "cat", "/data.txt"]);
    assert_eq!(data, "42");
    assert!(rt
        .image_labels("syncsim-test/build-absent:0")
        .await
        .unwrap()
        .is_none());
}

#[test]
#[ignore = "needs docker"]
fn sync_builds_a_missing_image_before_the_operation_unless_no_build() {
    common::ensure_test_image();
    let image = TestImage::new();
    let dir = project(
        &image.tag,
        &format!("FROM {BASE}\nARG GREETING=none\nRUN echo \"$GREETING\" > /greeting\n"),
    );
    let app = format!("build-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    // The source is the project directory itself: its syncsim.yaml is found next to it.
    write(
        dir.path(),
        "job.yaml",
        &format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: greet\nspec:\n  backoffLimit: 0\n  \
             template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: \
             greet\n          image: {}\n          command: [sh, -c, \"grep 'hi there' /greeting\"]\n",
            image.tag
        ),
    );
    let source = dir.path().join("job.yaml");
    let sync = |extra: &[&str]| {
        let mut args = vec![
            "sync",
            source.to_str().unwrap(),
            "--app",
            &app,
            "--timeout",
            "60s",
        ];
        args.extend_from_slice(extra);
        assert_cmd::Command::cargo_bin("syncsim")
            .unwrap()
            .args(&args)
            .output()
            .unwrap()
    };

    let out = sync(&["--no-build"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // syncsim's preflight (a missing image hangs a real sync in ImagePullBackOff): exit 3,
    // naming the image and the fix, before the operation starts.
    assert_eq!(out.status.code(), Some(3), "{stderr}\n{stdout}");
    assert!(!stderr.contains("building "), "{stderr}");
    assert!(
        stderr.contains(&format!("`{}` used by Job/greet", image.tag))
            && stderr.contains("neither found nor pulled"),
        "the preflight names the missing image:\n{stderr}"
    );
    assert!(image_id(&image.tag).is_none());

    let out = sync(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("building {} (missing)", image.tag)),
        "{stderr}"
    );
    assert!(
        stderr.contains("images: 1 built, 0 already present"),
        "{stderr}"
    );
    let building = stderr.find("building ").unwrap();
    let run = stderr.find(&format!("syncsim: app `{app}`")).unwrap();
    assert!(building < run, "builds come before the run:\n{stderr}");

    let (_, left) = docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=dev.syncsim.app={app}"),
    ]);
    assert!(left.is_empty(), "containers left: {left}");
}

#[cfg(unix)]
#[tokio::test]
#[ignore = "needs docker"]
async fn custom_command_labels_its_image_and_a_second_image_it_made_is_not_rebuilt() {
    use std::os::unix::fs::PermissionsExt;
    let rt = DockerRuntime::connect().await.unwrap();
    let (first, second) = (TestImage::new(), TestImage::new());
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("deps/rootfs")).unwrap();
    write(dir.path(), "deps/rootfs/file.txt", "v1\n");
    // A "kit" that builds every tag it is given; only $SYNCSIM_IMAGE gets the hash label.
    write(
        dir.path(),
        "kit.sh",
        "#!/bin/sh\nset -e\necho run >> runs.txt\nfor tag in \"$@\"; do\n  if [ \"$tag\" = \
         \"$SYNCSIM_IMAGE\" ]; then label=\"$SYNCSIM_HASH_LABEL=$SYNCSIM_CONTEXT_HASH\"; else \
         label=other=1; fi\n  tar -C deps/rootfs -c . | docker import -c \"LABEL $label\" - \
         \"$tag\" >/dev/null\n  echo \"imported $tag\"\ndone\n",
    );
    std::fs::set_permissions(
        dir.path().join("kit.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    write(
        dir.path(),
        config::CONFIG_FILE_NAME,
        &format!(
            "apiVersion: syncsim.dev/v1alpha1\nkind: Config\nbuild:\n  - image: {a}\n    custom:\n      \
             command: [./kit.sh, {a}, {b}]\n      dependencies: [deps]\n  - image: {b}\n    \
             custom:\n      command: [./kit.sh, {b}]\n",
            a = first.tag,
            b = second.tag
        ),
    );
    let runs = || {
        std::fs::read_to_string(dir.path().join("runs.txt"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    };

    let (result, lines) = build_all(dir.path(), &rt).await;
    let summary = result.unwrap_or_else(|e| panic!("{}", render_chain(&e)));
    assert_eq!(summary.built, std::slice::from_ref(&first.tag));
    assert_eq!(
        summary.skipped,
        std::slice::from_ref(&second.tag),
        "made by the first command"
    );
    assert_eq!(runs(), 1);
    assert!(
        lines.contains(&format!("imported {}", second.tag)),
        "{lines:?}"
    );
    first.remember();

    let (result, _) = build_all(dir.path(), &rt).await;
    assert_eq!(result.unwrap().skipped.len(), 2);
    assert_eq!(runs(), 1, "labelled and unchanged: not run again");

    // The command re-imports both tags: remember the images they replace.
    second.remember();
    write(dir.path(), "deps/rootfs/file.txt", "v2\n");
    let (result, _) = build_all(dir.path(), &rt).await;
    assert_eq!(result.unwrap().built, std::slice::from_ref(&first.tag));
    assert_eq!(runs(), 2, "a changed dependency runs the command again");
    first.remember();
}
