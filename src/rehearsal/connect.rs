//! The one way every subcommand reaches the container engine, with a deadline: an engine that
//! accepts the connection and never answers (or trickles its answer) fails within
//! [`CONNECT_DEADLINE`] instead of hanging, naming the endpoint and the fix.
use super::Error;
use crate::runtime::{docker::DockerRuntime, ContainerRuntime};
use std::{sync::Arc, time::Duration};

/// How long connecting (version negotiation) and the first ping may take together.
pub const CONNECT_DEADLINE: Duration = Duration::from_secs(10);

/// The endpoint syncsim talks to: `DOCKER_HOST`, else the default socket.
pub fn endpoint() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| {
            "unix:///var/run/docker.sock (the default; set DOCKER_HOST for another engine)".into()
        })
}

/// Connects to the Docker engine (`DOCKER_HOST` or the default socket) and checks it answers.
///
/// # Errors
///
/// [`Error::Connect`] (exit 3) when the engine cannot be reached, [`Error::Unresponsive`]
/// (exit 3) when it does not answer within [`CONNECT_DEADLINE`].
pub async fn connect() -> Result<Arc<dyn ContainerRuntime>, Error> {
    connect_within(CONNECT_DEADLINE).await
}

/// [`connect`] with another deadline.
///
/// # Errors
///
/// See [`connect`].
pub async fn connect_within(deadline: Duration) -> Result<Arc<dyn ContainerRuntime>, Error> {
    let attempt = async {
        let rt = DockerRuntime::connect().await?;
        let version = rt.ping().await?;
        Ok::<_, crate::runtime::Error>((rt, version))
    };
    match tokio::time::timeout(deadline, attempt).await {
        Err(_) => Err(Error::Unresponsive {
            endpoint: endpoint(),
            after: deadline,
        }),
        Ok(Err(source)) => Err(Error::Connect {
            endpoint: endpoint(),
            source,
        }),
        Ok(Ok((rt, version))) => {
            tracing::info!("container engine: {version}");
            Ok(Arc::new(rt))
        }
    }
}
