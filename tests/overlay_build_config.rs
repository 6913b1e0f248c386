//! The local overlay's `syncsim.yaml` builds exactly the images the overlay runs, with paths that
//! exist in the repository. No Docker needed.
use serde_json::Value;
use std::{collections::BTreeSet, path::Path};
use syncsim::build::{config, BuildSource};

#[test]
fn local_overlay_config_builds_every_image_the_overlay_maps_to_the_kit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let overlay = root.join("k8s/overlays/local");
    let found = config::find_config(overlay.to_str().unwrap()).expect("a syncsim.yaml");
    assert_eq!(found, overlay.canonicalize().unwrap().join("syncsim.yaml"));
    let config = config::load(&found).unwrap_or_else(|e| panic!("{e}"));

    // Every image a container of the rendered overlay runs (kustomize `images:` applied).
    let loaded = syncsim::manifest::load(
        overlay.to_str().unwrap(),
        &syncsim::manifest::LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut wanted = BTreeSet::new();
    for object in &loaded.objects {
        container_images(&object.value, &mut wanted);
    }
    assert!(wanted.len() >= 8, "{wanted:?}");
    // Plus the Service proxy: every Service of the overlay selects probed pods, so each is
    // realised by a proxy container (cluster::service) whose image must exist too.
    wanted.insert(syncsim::cluster::service::DEFAULT_PROXY_IMAGE.to_string());
    let listed: BTreeSet<String> = config.entries.iter().map(|e| e.image.clone()).collect();
    assert_eq!(listed, wanted);

    for entry in &config.entries {
        if let BuildSource::Custom { command, .. } = &entry.source {
            let program = config.dir.join(&command[0]);
            assert!(
                program.is_file(),
                "{}: {} is missing",
                entry.location,
                program.display()
            );
            if !program.ends_with("build-images.sh") {
                // The test-image script (the Service proxy) takes no image name.
                assert!(
                    program.ends_with("testimages/build.sh"),
                    "{}",
                    entry.location
                );
                continue;
            }
            // The kit script names its images; the argument must be one of them.
            let list = std::process::Command::new(&program)
                .arg("--list")
                .output()
                .unwrap();
            let list = String::from_utf8_lossy(&list.stdout);
            assert!(
                list.lines().any(|l| {
                    let mut cols = l.split_whitespace();
                    cols.next() == Some(command[1].as_str()) && cols.next() == Some(&entry.image)
                }),
                "{}: `{}` does not name {} in:\n{list}",
                entry.location,
                command[1],
                entry.image
            );
        }
    }
}

fn container_images(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "containers" || key == "initContainers" {
                    for c in v.as_array().into_iter().flatten() {
                        if let Some(image) = c["image"].as_str() {
                            out.insert(image.to_string());
                        }
                    }
                }
                container_images(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| container_images(v, out)),
        _ => {}
    }
}
