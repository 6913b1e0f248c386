//! Files into a created container: the ConfigMap and Secret files of its volumes and the
//! modes of its volumes' roots, uploaded as one archive before it starts (into the volumes
//! that hold them under a read-only root filesystem).
use super::{
    client::DockerRuntime,
    containers::{create, remove},
    errors::{classify, status, BoxError},
};
use crate::runtime::{ContainerSpec, Error, FileSpec, Mount, Result};
use bollard::{
    body_full,
    query_parameters::{ContainerArchiveInfoOptionsBuilder, UploadToContainerOptionsBuilder},
};
use std::{
    collections::{BTreeMap, BTreeSet},
    time::{SystemTime, UNIX_EPOCH},
};

impl DockerRuntime {
    /// Uploads `spec.files` (and the mounts' root modes) into the created container `id`. A
    /// read-only root filesystem takes nothing: each file goes into the writable mount that
    /// holds it, uploaded there.
    pub(super) async fn upload_files(&self, id: &str, spec: &ContainerSpec) -> Result<()> {
        if !spec.read_only_rootfs {
            let roots: Vec<(String, u32)> = spec
                .mounts
                .iter()
                .filter_map(|m| Some((relative_path(&m.target).ok()?, m.root_mode?)))
                .collect();
            let files: Vec<&FileSpec> = spec.files.iter().collect();
            return self.upload_into(id, spec, "/", &files, &roots).await;
        }
        let writable: Vec<&Mount> = spec
            .mounts
            .iter()
            .filter(|m| !m.read_only && m.sub_path.is_none())
            .collect();
        let mut by_mount: BTreeMap<&str, Vec<&FileSpec>> = BTreeMap::new();
        for f in &spec.files {
            let holder = writable
                .iter()
                .filter(|m| under(&f.path, &m.target))
                .max_by_key(|m| m.target.len())
                .ok_or_else(|| Error::Operation {
                    op: "copy files into container",
                    object: spec.name.clone(),
                    source: format!(
                        "file `{}` lies in the read-only root filesystem, not in a writable volume",
                        f.path
                    )
                    .into(),
                })?;
            by_mount.entry(holder.target.as_str()).or_default().push(f);
        }
        for (target, files) in by_mount {
            self.upload_into(id, spec, target, &files, &[]).await?;
        }
        Ok(())
    }

    /// Uploads `files` (absolute paths under `base`) and directory modes `roots` (relative to
    /// `base`) into `base` of the created container `id`, creating missing directories.
    async fn upload_into(
        &self,
        id: &str,
        spec: &ContainerSpec,
        base: &str,
        files: &[&FileSpec],
        roots: &[(String, u32)],
    ) -> Result<()> {
        let fail = |source: BoxError| Error::Operation {
            op: "copy files into container",
            object: spec.name.clone(),
            source,
        };
        let base = base.trim_end_matches('/');
        let mut dirs = BTreeSet::new();
        let mut entries = Vec::with_capacity(files.len());
        for f in files {
            let inside = f.path.strip_prefix(base).unwrap_or(&f.path);
            let rel = relative_path(inside).map_err(fail)?;
            let parts: Vec<&str> = rel.split('/').collect();
            for depth in 1..parts.len() {
                dirs.insert(parts[..depth].join("/"));
            }
            entries.push((rel, *f));
        }
        // Only directories that are missing get an entry (BTreeSet order: parents first).
        let mut missing: Vec<String> = Vec::new();
        for dir in dirs {
            let parent_missing = missing
                .iter()
                .any(|m| dir.starts_with(m.as_str()) && dir[m.len()..].starts_with('/'));
            if parent_missing
                || !self
                    .path_exists(id, &format!("{base}/{dir}"))
                    .await
                    .map_err(fail)?
            {
                missing.push(dir);
            }
        }
        let archive =
            build_tar(&missing, roots, &entries, spec.fs_group).map_err(|e| fail(Box::new(e)))?;
        // The engine keeps the entries' owners (`copyUIDGID` would give them the container
        // user's instead, and needs that user in the image's /etc/passwd).
        let path = if base.is_empty() { "/" } else { base };
        let options = UploadToContainerOptionsBuilder::new().path(path).build();
        self.docker
            .upload_to_container(id, Some(options), body_full(archive.into()))
            .await
            .map_err(|e| classify(e, "copy files into container", &spec.name))
    }

    async fn path_exists(&self, id: &str, path: &str) -> Result<bool, BoxError> {
        let options = ContainerArchiveInfoOptionsBuilder::new().path(path).build();
        match self
            .docker
            .get_container_archive_info(id, Some(options))
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if status(&e) == Some(404) => Ok(false),
            Err(e) => Err(Box::new(e)),
        }
    }
}

/// Whether `path` lies under the directory `dir`.
fn under(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    path.strip_prefix(dir)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// Gives the mounts' roots their modes through a container that is created for it and
/// removed (never started): a read-only root filesystem refuses the upload that does it, and
/// an archive cannot change the mode of the directory it is unpacked into.
pub(super) async fn set_volume_roots(rt: &DockerRuntime, spec: &ContainerSpec) -> Result<()> {
    let mut mounts = Vec::new();
    let mut roots = Vec::new();
    for (i, m) in spec.mounts.iter().enumerate() {
        if let Some(mode) = m.root_mode {
            mounts.push(Mount {
                target: format!("/syncsim-volume-{i}"),
                ..m.clone()
            });
            roots.push((format!("syncsim-volume-{i}"), mode));
        }
    }
    if roots.is_empty() {
        return Ok(());
    }
    let helper = ContainerSpec {
        name: format!("{}-volumes", spec.name),
        image: spec.image.clone(),
        cmd: Some(vec!["true".into()]),
        mounts,
        labels: spec.labels.clone(),
        fs_group: spec.fs_group,
        ..ContainerSpec::default()
    };
    let id = create(rt, &helper).await?;
    let archive = build_tar(&[], &roots, &[], spec.fs_group).map_err(|e| Error::Operation {
        op: "copy files into container",
        object: helper.name.clone(),
        source: Box::new(e),
    });
    let uploaded = match archive {
        Ok(archive) => rt
            .docker
            .upload_to_container(
                &id,
                Some(UploadToContainerOptionsBuilder::new().path("/").build()),
                body_full(archive.into()),
            )
            .await
            .map_err(|e| classify(e, "copy files into container", &helper.name)),
        Err(e) => Err(e),
    };
    let removed = remove(rt, &id).await;
    uploaded.and(removed)
}

/// `"/etc/app/x.conf"` → `"etc/app/x.conf"`; rejects relative paths and `..`.
fn relative_path(path: &str) -> Result<String, BoxError> {
    let Some(rel) = path.strip_prefix('/') else {
        return Err(format!("file path `{path}` is not absolute").into());
    };
    let parts: Vec<&str> = rel
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() || parts.contains(&"..") {
        return Err(format!("file path `{path}` does not name a file").into());
    }
    Ok(parts.join("/"))
}

/// The archive of missing directories (`0755`), volume roots (their modes) and files. With
/// `fs_group`, every entry belongs to that group, directories get the setgid bit and files
/// group read, as the kubelet's `SetVolumeOwnership` leaves a read-only volume's.
fn build_tar(
    dirs: &[String],
    roots: &[(String, u32)],
    files: &[(String, &FileSpec)],
    fs_group: Option<i64>,
) -> std::io::Result<Vec<u8>> {
    let mtime = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let header = |kind, mode: u32, size| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(size);
        header.set_mtime(mtime);
        match fs_group.and_then(|g| u64::try_from(g).ok()) {
            Some(gid) => {
                header.set_gid(gid);
                let extra = if kind == tar::EntryType::Directory {
                    0o2550
                } else {
                    0o440
                };
                header.set_mode((mode | extra) & 0o7777);
            }
            None => header.set_mode(mode & 0o7777),
        }
        header
    };
    let mut builder = tar::Builder::new(Vec::new());
    let dir_entries = dirs
        .iter()
        .map(|d| (d, 0o755))
        .chain(roots.iter().map(|(d, mode)| (d, *mode)));
    for (dir, mode) in dir_entries {
        let mut h = header(tar::EntryType::Directory, mode, 0);
        builder.append_data(&mut h, format!("{dir}/"), std::io::empty())?;
    }
    for (rel, file) in files {
        let mut h = header(
            tar::EntryType::Regular,
            file.mode,
            file.content.len() as u64,
        );
        builder.append_data(&mut h, rel, file.content.as_slice())?;
    }
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_paths_must_be_absolute_and_plain() {
        assert_eq!(relative_path("/etc//app/./x").unwrap(), "etc/app/x");
        assert!(relative_path("etc/x").is_err());
        assert!(relative_path("/etc/../x").is_err());
        assert!(relative_path("/").is_err());
    }

    #[test]
    fn tar_has_missing_dirs_then_files_with_modes() {
        let file = FileSpec {
            path: "/a/b/run.sh".into(),
            content: b"echo hi\n".to_vec(),
            mode: 0o755,
        };
        let bytes = build_tar(
            &["a".into(), "a/b".into()],
            &[],
            &[("a/b/run.sh".into(), &file)],
            None,
        )
        .expect("tar builds");
        let mut archive = tar::Archive::new(bytes.as_slice());
        let entries: Vec<(String, u32, bool)> = archive
            .entries()
            .expect("entries")
            .map(|e| {
                let e = e.expect("entry");
                let path = e.path().expect("path").display().to_string();
                (
                    path,
                    e.header().mode().expect("mode"),
                    e.header().entry_type().is_dir(),
                )
            })
            .collect();
        assert_eq!(
            entries,
            vec![
                ("a/".to_string(), 0o755, true),
                ("a/b/".to_string(), 0o755, true),
                ("a/b/run.sh".to_string(), 0o755, false),
            ]
        );
    }
}
