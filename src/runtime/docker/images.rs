//! Images: presence and labels, pulls, and builds (legacy builder, output split into lines).
use super::{
    client::DockerRuntime,
    errors::{classify, is_unreachable, message, status},
};
use crate::runtime::{
    BuildContext, BuildFailure, BuildSpec, Error, Labels, Result, BUILD_OUTPUT_TAIL,
};
use bollard::{
    body_full,
    errors::Error as BollardError,
    query_parameters::{
        BuildImageOptionsBuilder, CreateImageOptionsBuilder, RemoveImageOptionsBuilder,
    },
};
use futures_util::StreamExt;
use std::collections::{HashMap, VecDeque};

impl DockerRuntime {
    /// The id of a local image, `None` when missing or when the engine cannot say.
    async fn image_id(&self, image: &str) -> Option<String> {
        self.docker
            .inspect_image(image)
            .await
            .ok()
            .and_then(|i| i.id)
    }
}

pub(super) async fn exists(rt: &DockerRuntime, image: &str) -> Result<bool> {
    match rt.docker.inspect_image(image).await {
        Ok(_) => Ok(true),
        Err(e) if status(&e) == Some(404) => Ok(false),
        Err(e) => Err(classify(e, "inspect image", image)),
    }
}

pub(super) async fn pull(rt: &DockerRuntime, image: &str) -> Result<()> {
    let (repo, tag) = split_image(image);
    let mut options = CreateImageOptionsBuilder::new().from_image(repo);
    if !tag.is_empty() {
        options = options.tag(tag);
    }
    let mut stream = rt.docker.create_image(Some(options.build()), None, None);
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(detail) = info.error_detail.and_then(|d| d.message) {
                    return Err(Error::ImageUnavailable {
                        image: image.to_string(),
                        source: Some(detail.into()),
                    });
                }
            }
            Err(e) if is_unreachable(&e) => {
                return Err(Error::Unreachable {
                    source: Box::new(e),
                })
            }
            Err(e) => {
                return Err(Error::ImageUnavailable {
                    image: image.to_string(),
                    source: Some(Box::new(e)),
                })
            }
        }
    }
    if exists(rt, image).await? {
        Ok(())
    } else {
        Err(Error::ImageUnavailable {
            image: image.to_string(),
            source: Some("the pull finished but the image is not present".into()),
        })
    }
}

pub(super) async fn labels(rt: &DockerRuntime, image: &str) -> Result<Option<Labels>> {
    match rt.docker.inspect_image(image).await {
        Ok(info) => Ok(Some(super::client::to_labels(
            info.config.and_then(|c| c.labels),
        ))),
        Err(e) if status(&e) == Some(404) => Ok(None),
        Err(e) => Err(classify(e, "inspect image", image)),
    }
}

pub(super) async fn user(rt: &DockerRuntime, image: &str) -> Result<Option<String>> {
    match rt.docker.inspect_image(image).await {
        Ok(info) => Ok(Some(info.config.and_then(|c| c.user).unwrap_or_default())),
        Err(e) if status(&e) == Some(404) => Ok(None),
        Err(e) => Err(classify(e, "inspect image", image)),
    }
}

pub(super) async fn build(
    rt: &DockerRuntime,
    spec: &BuildSpec,
    progress: &mut (dyn for<'l> FnMut(&'l str) + Send),
) -> Result<()> {
    let op = "build image";
    let archive = match &spec.context {
        BuildContext::Tar(bytes) => bytes.clone(),
        BuildContext::Dir(dir) => tar_dir(dir).map_err(|e| Error::Operation {
            op,
            object: spec.tag.clone(),
            source: format!("cannot archive the build context `{}`: {e}", dir.display()).into(),
        })?,
    };
    let dockerfile = if spec.dockerfile.is_empty() {
        "Dockerfile"
    } else {
        spec.dockerfile.as_str()
    };
    let build_args: HashMap<&str, &str> = spec
        .build_args
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let labels: HashMap<&str, &str> = spec
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let options = BuildImageOptionsBuilder::new()
        .dockerfile(dockerfile)
        .t(&spec.tag)
        .rm(true)
        .forcerm(true)
        .buildargs(&build_args)
        .labels(&labels)
        .build();
    let replaced = rt.image_id(&spec.tag).await;
    let mut stream = rt
        .docker
        .build_image(options, None, Some(body_full(archive.into())));
    let mut lines = OutputLines::default();
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(text) = info.stream.as_deref() {
                    lines.push(text, progress);
                } else if let Some(status) = info.status.as_deref() {
                    lines.push(&format!("{status}\n"), progress);
                }
            }
            Err(BollardError::DockerStreamError { error }) => {
                lines.flush(progress);
                return Err(Error::Operation {
                    op,
                    object: spec.tag.clone(),
                    source: Box::new(BuildFailure {
                        message: error,
                        output_tail: lines.tail.into(),
                    }),
                });
            }
            Err(e) if is_unreachable(&e) => {
                return Err(Error::Unreachable {
                    source: Box::new(e),
                })
            }
            Err(e) => {
                lines.flush(progress);
                let message = match message(&e) {
                    "" => e.to_string(),
                    m => m.to_string(),
                };
                return Err(Error::Operation {
                    op,
                    object: spec.tag.clone(),
                    source: Box::new(BuildFailure {
                        message,
                        output_tail: lines.tail.into(),
                    }),
                });
            }
        }
    }
    lines.flush(progress);
    let built = rt.image_id(&spec.tag).await;
    if built.is_none() {
        return Err(Error::Operation {
            op,
            object: spec.tag.clone(),
            source: Box::new(BuildFailure {
                message: "the build finished but the image is not tagged".into(),
                output_tail: lines.tail.into(),
            }),
        });
    }
    if let Some(old) = replaced.filter(|old| Some(old) != built.as_ref()) {
        // Not forced: the engine refuses while another tag or a container uses it.
        let options = RemoveImageOptionsBuilder::new().build();
        if let Err(e) = rt.docker.remove_image(&old, Some(options), None).await {
            tracing::debug!("kept the image `{old}` that {} replaced: {e}", spec.tag);
        }
    }
    Ok(())
}

/// Splits `repo[:tag]` (a `:` after the last `/`) for the pull API, which pulls *every* tag of a
/// repository when none is given. Digests (`@sha256:…`) are passed through whole.
fn split_image(image: &str) -> (&str, &str) {
    if image.contains('@') {
        return (image, "");
    }
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].rfind(':') {
        Some(i) => (&image[..last_slash + i], &image[last_slash + i + 1..]),
        None => (image, "latest"),
    }
}

/// Splits the builder's output chunks (which may hold several lines or end mid-line) into lines,
/// passes each to the progress callback and keeps the last [`BUILD_OUTPUT_TAIL`] non-empty ones.
#[derive(Default)]
struct OutputLines {
    partial: String,
    tail: VecDeque<String>,
}

impl OutputLines {
    fn push(&mut self, chunk: &str, progress: &mut (dyn FnMut(&str) + Send)) {
        self.partial.push_str(chunk);
        while let Some(i) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=i).collect();
            self.emit(line.trim_end_matches(['\n', '\r']), progress);
        }
    }

    fn flush(&mut self, progress: &mut (dyn FnMut(&str) + Send)) {
        let rest = std::mem::take(&mut self.partial);
        if !rest.is_empty() {
            self.emit(rest.trim_end_matches('\r'), progress);
        }
    }

    fn emit(&mut self, line: &str, progress: &mut (dyn FnMut(&str) + Send)) {
        // The legacy builder colours a step's stderr (`ESC[91m` … `ESC[0m`).
        let line = strip_ansi(line);
        let line = line.as_str();
        progress(line);
        if line.trim().is_empty() {
            return;
        }
        if self.tail.len() == BUILD_OUTPUT_TAIL {
            self.tail.pop_front();
        }
        self.tail.push_back(line.to_string());
    }
}

/// `line` without ANSI CSI escape sequences (`ESC [ params final-byte`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            // Parameter and intermediate bytes, then one final byte in '@'..='~'.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Archives every file under `dir` (no `.dockerignore`: callers that need it send a tar).
fn tar_dir(dir: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    builder.append_dir_all(".", dir)?;
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_output_is_split_into_lines_and_the_tail_is_kept() {
        let mut seen = Vec::new();
        let mut progress = |l: &str| seen.push(l.to_string());
        let mut lines = OutputLines::default();
        lines.push("Step 1/2 : FROM x\n ---> abc", &mut progress);
        lines.push("123\nStep 2/2 : RUN false\n\n", &mut progress);
        for i in 0..BUILD_OUTPUT_TAIL {
            lines.push(&format!("line {i}\n"), &mut progress);
        }
        lines.push("\u{1b}[91mno newline", &mut progress);
        lines.flush(&mut progress);
        assert_eq!(
            seen[..4],
            [
                "Step 1/2 : FROM x",
                " ---> abc123",
                "Step 2/2 : RUN false",
                ""
            ]
        );
        assert_eq!(seen.last().unwrap(), "no newline");
        assert_eq!(lines.tail.len(), BUILD_OUTPUT_TAIL);
        assert_eq!(lines.tail.back().unwrap(), "no newline");
        assert_eq!(lines.tail.front().unwrap(), "line 1");
        assert_eq!(
            strip_ansi("\u{1b}[0mabout \u{1b}[1;31mto\u{1b}[0m fail"),
            "about to fail"
        );
    }

    #[test]
    fn splits_image_references() {
        assert_eq!(split_image("busybox"), ("busybox", "latest"));
        assert_eq!(split_image("busybox:1"), ("busybox", "1"));
        assert_eq!(
            split_image("localhost:5000/team/app:2.1"),
            ("localhost:5000/team/app", "2.1")
        );
        assert_eq!(
            split_image("localhost:5000/team/app"),
            ("localhost:5000/team/app", "latest")
        );
        assert_eq!(split_image("app@sha256:abc"), ("app@sha256:abc", ""));
    }
}
