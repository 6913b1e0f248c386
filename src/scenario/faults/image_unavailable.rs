//! `imageUnavailable`: the image can be neither found nor pulled, exactly as when it is missing
//! from the engine and every registry: every pod using it (as written, or after the `images`
//! rewrites) stays Pending with `ImagePullBackOff`, and Argo CD waits until the operation is
//! terminated (the run ends at the scenario's `timeout` as `Running`). A runtime action: the
//! cluster is told, before the first dry run, that these images cannot be had.
use crate::cluster::DockerCluster;

/// The engine image names to refuse: each unavailable image as written and what the `images`
/// rewrites map it to.
pub fn refused(unavailable: &[String], images: &[(String, String)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for u in unavailable {
        let mapped = images
            .iter()
            .filter(|(from, _)| from == u)
            .map(|(_, to)| to);
        for name in std::iter::once(u).chain(mapped) {
            if !out.contains(name) {
                out.push(name.clone());
            }
        }
    }
    out
}

/// Makes `cluster` refuse the images (idempotent).
pub async fn apply(cluster: &DockerCluster, unavailable: &[String], images: &[(String, String)]) {
    for image in refused(unavailable, images) {
        cluster
            .refuse_image(
                &image,
                "made unavailable by the scenario (fault imageUnavailable)",
            )
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_the_image_as_written_and_as_mapped() {
        let mapped = [("nginx:1".to_string(), "local/nginx:1".to_string())];
        assert_eq!(
            refused(&["nginx:1".into()], &mapped),
            vec!["nginx:1".to_string(), "local/nginx:1".to_string()]
        );
        assert_eq!(
            refused(&["other:1".into()], &mapped),
            vec!["other:1".to_string()]
        );
        assert!(refused(&[], &mapped).is_empty());
    }
}
