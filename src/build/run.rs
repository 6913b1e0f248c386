//! Executes a build configuration: hash every context, ask the engine what it has, decide, then
//! build what is missing or stale, in config order, stopping at the first failure.
//!
//! Docker builds go through [`ContainerRuntime::build_image`] with the context hash as the
//! [`LABEL_CONTEXT_HASH`] label. Custom builds run their command from the config's directory
//! with these environment variables (like Skaffold's `$IMAGE`):
//!
//! * `SYNCSIM_IMAGE`: the tag to produce;
//! * `SYNCSIM_CONTEXT_HASH`: the hash of the `dependencies`;
//! * `SYNCSIM_HASH_LABEL`: the label name ([`LABEL_CONTEXT_HASH`]).
//!
//! A command that adds `--label "$SYNCSIM_HASH_LABEL=$SYNCSIM_CONTEXT_HASH"` to its build gets
//! change detection; otherwise only a missing image triggers it. Because one command may build
//! several images (a kit script), a custom entry's image is looked up again right before its
//! command would run, and skipped if an earlier command produced it.
use super::{
    config::{BuildSource, Config, Entry},
    context,
    decide::{self, BuildAction, Decision, Reason, SkipReason, LABEL_CONTEXT_HASH},
    Error,
};
use crate::runtime::{BuildContext, BuildSpec, ContainerRuntime, Labels};
use std::{
    collections::{BTreeMap, VecDeque},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Lines of a failed custom command's output shown in its error.
const COMMAND_OUTPUT_TAIL: usize = 15;

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Build every entry, whatever its state.
    pub force: bool,
}

/// What a build run reports as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum BuildEvent<'a> {
    /// The image is left as it is.
    Skipped {
        image: &'a str,
        reason: &'a SkipReason,
    },
    /// A custom entry's image was produced by an earlier entry's command.
    AlreadyBuilt { image: &'a str },
    /// A build starts.
    Started {
        image: &'a str,
        reason: &'a Reason,
        /// The context directory or the custom command, for the message.
        what: String,
    },
    /// One line of builder or command output.
    Output { image: &'a str, line: &'a str },
    /// A build succeeded.
    Finished { image: &'a str, elapsed: Duration },
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildSummary {
    pub built: Vec<String>,
    pub skipped: Vec<String>,
}

/// An entry with its current context: the hash, and for Docker builds the files to send.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub entry: Entry,
    pub hash: String,
    files: Vec<context::ContextEntry>,
}

/// Collects and hashes every entry's context (reads every file once).
pub fn prepare(config: &Config) -> Result<Vec<Prepared>, Error> {
    config
        .entries
        .iter()
        .map(|entry| {
            let fail = |path: &Path| {
                let image = entry.image.clone();
                let path = path.to_path_buf();
                move |source| Error::Context {
                    image,
                    path,
                    source,
                }
            };
            let (files, hash) = match &entry.source {
                BuildSource::Docker {
                    context: dir,
                    dockerfile,
                    build_args,
                } => {
                    let files = context::collect(dir, "", true, &[dockerfile.as_str()])
                        .map_err(fail(dir))?;
                    let mut extra = vec![("dockerfile".to_string(), dockerfile.clone())];
                    extra.extend(
                        build_args
                            .iter()
                            .map(|(k, v)| (format!("arg {k}"), v.clone())),
                    );
                    let extra: Vec<(&str, &str)> = extra
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    let hash = context::hash(&files, &extra).map_err(fail(dir))?;
                    (files, hash)
                }
                BuildSource::Custom {
                    command,
                    dependencies,
                } => {
                    let mut deps = Vec::new();
                    for (written, path) in dependencies {
                        deps.extend(
                            context::collect_dependency(written, path).map_err(fail(path))?,
                        );
                    }
                    let command = serde_json::to_string(command).unwrap_or_default();
                    let hash = context::hash(&deps, &[("command", command.as_str())])
                        .map_err(fail(&config.dir))?;
                    (Vec::new(), hash)
                }
            };
            Ok(Prepared {
                entry: entry.clone(),
                hash,
                files,
            })
        })
        .collect()
}

async fn labels_of(rt: &dyn ContainerRuntime, image: &str) -> Result<Option<Labels>, Error> {
    rt.image_labels(image)
        .await
        .map_err(|source| Error::Inspect {
            image: image.to_string(),
            source,
        })
}

/// Hashes, decides and builds every entry of `config` in order. Stops at the first failure.
pub async fn build_all(
    config: &Config,
    rt: &dyn ContainerRuntime,
    opts: &BuildOptions,
    on_event: &mut (dyn for<'e> FnMut(BuildEvent<'e>) + Send),
) -> Result<BuildSummary, Error> {
    let prepared = prepare(config)?;
    let mut state = BTreeMap::new();
    for p in &prepared {
        state.insert(p.entry.image.clone(), labels_of(rt, &p.entry.image).await?);
    }
    let entries: Vec<Entry> = prepared.iter().map(|p| p.entry.clone()).collect();
    let hashes: Vec<String> = prepared.iter().map(|p| p.hash.clone()).collect();
    let actions = decide::plan(&entries, &hashes, &state, opts.force);
    let mut summary = BuildSummary::default();
    for action in &actions {
        let p = &prepared[action.index];
        let reason = match &action.decision {
            Decision::Skip(reason) => {
                on_event(BuildEvent::Skipped {
                    image: &action.image,
                    reason,
                });
                summary.skipped.push(action.image.clone());
                continue;
            }
            Decision::Build(reason) => reason,
        };
        match &p.entry.source {
            BuildSource::Docker {
                context: dir,
                dockerfile,
                build_args,
            } => {
                on_event(BuildEvent::Started {
                    image: &action.image,
                    reason,
                    what: format!("context {}", dir.display()),
                });
                let started = Instant::now();
                docker_build(rt, action, p, dir, dockerfile, build_args, on_event).await?;
                on_event(BuildEvent::Finished {
                    image: &action.image,
                    elapsed: started.elapsed(),
                });
            }
            BuildSource::Custom { command, .. } => {
                if *reason != Reason::Forced {
                    let now = labels_of(rt, &action.image).await?;
                    let again = decide::decide(true, &action.hash, now.as_ref(), false);
                    if state.get(&action.image) != Some(&now) && matches!(again, Decision::Skip(_))
                    {
                        on_event(BuildEvent::AlreadyBuilt {
                            image: &action.image,
                        });
                        summary.skipped.push(action.image.clone());
                        continue;
                    }
                }
                on_event(BuildEvent::Started {
                    image: &action.image,
                    reason,
                    what: format!("`{}`", command.join(" ")),
                });
                let started = Instant::now();
                custom_build(&config.dir, command, action, on_event).await?;
                if labels_of(rt, &action.image).await?.is_none() {
                    return Err(Error::NotProduced {
                        image: action.image.clone(),
                    });
                }
                on_event(BuildEvent::Finished {
                    image: &action.image,
                    elapsed: started.elapsed(),
                });
            }
        }
        summary.built.push(action.image.clone());
    }
    Ok(summary)
}

async fn docker_build(
    rt: &dyn ContainerRuntime,
    action: &BuildAction,
    p: &Prepared,
    dir: &Path,
    dockerfile: &str,
    build_args: &BTreeMap<String, String>,
    on_event: &mut (dyn for<'e> FnMut(BuildEvent<'e>) + Send),
) -> Result<(), Error> {
    let archive = context::tar(&p.files).map_err(|source| Error::Context {
        image: action.image.clone(),
        path: dir.to_path_buf(),
        source,
    })?;
    let spec = BuildSpec {
        tag: action.image.clone(),
        context: BuildContext::Tar(archive),
        dockerfile: dockerfile.to_string(),
        build_args: build_args.clone(),
        labels: Labels::from([(LABEL_CONTEXT_HASH.to_string(), action.hash.clone())]),
    };
    let image = action.image.as_str();
    let mut progress = |line: &str| on_event(BuildEvent::Output { image, line });
    rt.build_image(&spec, &mut progress)
        .await
        .map_err(|source| Error::Build {
            image: action.image.clone(),
            context: dir.to_path_buf(),
            source,
        })
}

/// Runs a custom command, streaming its stdout and stderr lines as they come.
async fn custom_build(
    dir: &Path,
    command: &[String],
    action: &BuildAction,
    on_event: &mut (dyn for<'e> FnMut(BuildEvent<'e>) + Send),
) -> Result<(), Error> {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let program = if command[0].contains('/') {
        dir.join(&command[0])
    } else {
        PathBuf::from(&command[0])
    };
    let shown = command.join(" ");
    let mut child = tokio::process::Command::new(&program)
        .args(&command[1..])
        .current_dir(&dir)
        .env("SYNCSIM_IMAGE", &action.image)
        .env("SYNCSIM_CONTEXT_HASH", &action.hash)
        .env("SYNCSIM_HASH_LABEL", LABEL_CONTEXT_HASH)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| Error::Spawn {
            image: action.image.clone(),
            command: shown.clone(),
            dir: dir.clone(),
            source,
        })?;
    let mut stdout = child.stdout.take().map(|s| BufReader::new(s).lines());
    let mut stderr = child.stderr.take().map(|s| BufReader::new(s).lines());
    let mut tail = VecDeque::new();
    let mut emit = |line: String| {
        on_event(BuildEvent::Output {
            image: &action.image,
            line: &line,
        });
        if tail.len() == COMMAND_OUTPUT_TAIL {
            tail.pop_front();
        }
        tail.push_back(line);
    };
    while stdout.is_some() || stderr.is_some() {
        tokio::select! {
            line = next_line(&mut stdout), if stdout.is_some() => match line {
                Some(l) => emit(l),
                None => stdout = None,
            },
            line = next_line(&mut stderr), if stderr.is_some() => match line {
                Some(l) => emit(l),
                None => stderr = None,
            },
        }
    }
    let status = child.wait().await.map_err(|source| Error::Spawn {
        image: action.image.clone(),
        command: shown.clone(),
        dir: dir.clone(),
        source,
    })?;
    if status.success() {
        return Ok(());
    }
    let rendered: String = tail.iter().map(|l| format!("\n    | {l}")).collect();
    Err(Error::Command {
        image: action.image.clone(),
        command: shown,
        dir,
        status: status.to_string(),
        tail: if rendered.is_empty() {
            String::new()
        } else {
            format!("\n    last lines of its output:{rendered}")
        },
    })
}

async fn next_line<R: tokio::io::AsyncBufRead + Unpin>(
    lines: &mut Option<tokio::io::Lines<R>>,
) -> Option<String> {
    match lines {
        // A read error ends the stream like EOF: the exit status still decides.
        Some(l) => l.next_line().await.ok().flatten(),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        build::config,
        error::{render_chain, ExitCode, ENVIRONMENT},
        runtime::fake::{FakeRuntime, Op},
    };

    struct Fixture {
        dir: tempfile::TempDir,
    }

    impl Fixture {
        fn new(build: &str) -> Self {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir(dir.path().join("app")).unwrap();
            std::fs::write(dir.path().join("app/Dockerfile"), "FROM busybox\n").unwrap();
            std::fs::write(dir.path().join("app/app.py"), "print(1)\n").unwrap();
            std::fs::write(
                dir.path().join(config::CONFIG_FILE_NAME),
                format!("apiVersion: syncsim.dev/v1alpha1\nkind: Config\nbuild:\n{build}"),
            )
            .unwrap();
            Self { dir }
        }

        fn config(&self) -> Config {
            config::load(&self.dir.path().join(config::CONFIG_FILE_NAME)).unwrap()
        }

        fn write(&self, rel: &str, content: &str) {
            std::fs::write(self.dir.path().join(rel), content).unwrap();
        }
    }

    const APP: &str =
        "  - image: t/app:1\n    context: app\n    buildArgs: {APP_NAME: shortlink}\n";

    async fn run(config: &Config, rt: &FakeRuntime) -> (Result<BuildSummary, Error>, Vec<String>) {
        let mut events = Vec::new();
        let r = build_all(config, rt, &BuildOptions::default(), &mut |ev| {
            events.push(match ev {
                BuildEvent::Skipped { image, reason } => format!("skip {image}: {reason}"),
                BuildEvent::AlreadyBuilt { image } => format!("already {image}"),
                BuildEvent::Started { image, reason, .. } => format!("build {image}: {reason}"),
                BuildEvent::Output { line, .. } => format!("| {line}"),
                BuildEvent::Finished { image, .. } => format!("built {image}"),
            })
        })
        .await;
        (r, events)
    }

    #[tokio::test]
    async fn missing_image_is_built_with_its_hash_label_then_skipped_until_a_file_changes() {
        let fx = Fixture::new(APP);
        let rt = FakeRuntime::new()
            .with_missing_image("t/app:1")
            .with_build_output("t/app", ["Step 1/1 : FROM busybox"]);
        let (r, events) = run(&fx.config(), &rt).await;
        assert_eq!(r.unwrap().built, ["t/app:1"]);
        assert_eq!(
            events,
            [
                "build t/app:1: missing",
                "| Step 1/1 : FROM busybox",
                "built t/app:1"
            ]
        );
        let spec = &rt.builds()[0];
        assert_eq!(spec.build_args["APP_NAME"], "shortlink");
        assert_eq!(spec.dockerfile, "Dockerfile");
        let hash = spec.labels[LABEL_CONTEXT_HASH].clone();
        let BuildContext::Tar(archive) = &spec.context else {
            panic!("a Docker build sends a tar")
        };
        let mut names: Vec<String> = tar::Archive::new(archive.as_slice())
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        names.sort();
        assert_eq!(names, ["Dockerfile", "app.py"]);

        let (r, events) = run(&fx.config(), &rt).await;
        assert_eq!(r.unwrap().skipped, ["t/app:1"]);
        assert_eq!(events, ["skip t/app:1: up to date"]);

        fx.write("app/app.py", "print(2)\n");
        let (r, events) = run(&fx.config(), &rt).await;
        assert_eq!(r.unwrap().built, ["t/app:1"]);
        assert_eq!(events[0], "build t/app:1: context changed");
        assert_ne!(rt.builds()[1].labels[LABEL_CONTEXT_HASH], hash);
    }

    #[tokio::test]
    async fn a_failed_step_stops_the_run_with_the_daemon_error_and_exit_code_3() {
        let fx = Fixture::new(&format!("{APP}  - image: t/other:1\n    context: app\n"));
        let rt = FakeRuntime::new()
            .with_missing_image("t/app:1")
            .with_missing_image("t/other:1")
            .with_build_output("t/app", ["Step 2/2 : RUN false", "boom on stderr"])
            .fail_op(Op::Build, "t/app");
        let (r, _) = run(&fx.config(), &rt).await;
        let err = r.unwrap_err();
        assert_eq!(err.exit_code(), ENVIRONMENT);
        let text = render_chain(&err);
        assert!(text.contains("build of image `t/app:1` from `"), "{text}");
        assert!(text.contains("scripted failure of `build`"), "{text}");
        assert!(text.contains("| boom on stderr"), "{text}");
        assert_eq!(rt.builds().len(), 1, "stops at the first failure");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn custom_commands_run_from_the_config_dir_with_the_image_and_hash() {
        let fx = Fixture::new(
            "  - image: t/kit:1\n    custom:\n      command: [\"./kit.sh\", \"one\"]\n      dependencies: [app]\n",
        );
        fx.write(
            "kit.sh",
            "#!/bin/sh\necho \"arg=$1 image=$SYNCSIM_IMAGE label=$SYNCSIM_HASH_LABEL\"\necho \"$SYNCSIM_CONTEXT_HASH\" > hash.out\necho oops >&2\nexit ${KIT_EXIT:-0}\n",
        );
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            fx.dir.path().join("kit.sh"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();

        // Present without a label: only a missing image triggers a custom build.
        let rt = FakeRuntime::new();
        let (r, events) = run(&fx.config(), &rt).await;
        assert_eq!(r.unwrap().skipped, ["t/kit:1"]);
        assert!(events[0].starts_with("skip t/kit:1: present"), "{events:?}");

        // Missing: the command runs; the fake engine still has no image afterwards.
        let rt = FakeRuntime::new().with_missing_image("t/kit:1");
        let (r, events) = run(&fx.config(), &rt).await;
        assert!(events.contains(&"| arg=one image=t/kit:1 label=dev.syncsim.context-hash".into()));
        assert!(events.contains(&"| oops".into()));
        let err = r.unwrap_err();
        assert!(matches!(err, Error::NotProduced { .. }), "{err}");
        let hash = std::fs::read_to_string(fx.dir.path().join("hash.out")).unwrap();
        let prepared = prepare(&fx.config()).unwrap();
        assert_eq!(hash.trim(), prepared[0].hash);

        // A labelled image with the current hash is up to date; a changed dependency is stale.
        let labels = Labels::from([(LABEL_CONTEXT_HASH.to_string(), prepared[0].hash.clone())]);
        let rt = FakeRuntime::new().with_image_labels("t/kit:1", labels.clone());
        let (r, _) = run(&fx.config(), &rt).await;
        assert_eq!(r.unwrap().skipped, ["t/kit:1"]);
        fx.write("app/app.py", "print(2)\n");
        let (r, events) = run(&fx.config(), &rt).await;
        assert_eq!(events[0], "build t/kit:1: context changed");
        assert_eq!(r.unwrap().built, ["t/kit:1"]);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_failing_custom_command_names_the_image_command_status_and_output() {
        let fx = Fixture::new(
            "  - image: t/kit:1\n    custom:\n      command: [sh, -c, \"echo building; echo 'no space left' >&2; exit 3\"]\n",
        );
        let rt = FakeRuntime::new().with_missing_image("t/kit:1");
        let (r, _) = run(&fx.config(), &rt).await;
        let err = r.unwrap_err();
        assert_eq!(err.exit_code(), ENVIRONMENT);
        let text = err.to_string();
        assert!(
            text.contains("the build command of image `t/kit:1` failed (exit status: 3)"),
            "{text}"
        );
        assert!(text.contains("| no space left"), "{text}");
    }
}
