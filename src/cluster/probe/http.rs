//! The request of an httpGet probe: one HTTP/1.1 `GET` over hyper, judged by its status.
use super::ProbeResult;
use http_body_util::Empty;
use hyper::{
    body::Bytes,
    header::{HeaderName, HeaderValue, ACCEPT, CONNECTION, HOST, USER_AGENT},
    Request,
};
use hyper_util::rt::TokioIo;
use std::fmt;
use tokio::net::TcpStream;

/// The `User-Agent` kubelet sends (`kube-probe/<major>.<minor>`).
const KUBE_PROBE: &str = "kube-probe/1.33";

/// Sends `GET path` to `127.0.0.1:host_port` with `Host: host` (unless `headers` has one) and
/// `headers`; a status from 200 to 399 is success. Header names go out title-cased
/// (`X-Check`), as Go's `net/http` in kubelet canonicalises them. The caller bounds the time.
pub(super) async fn http_get(
    addr: std::net::SocketAddr,
    host: &str,
    path: &str,
    headers: &[(String, String)],
) -> ProbeResult {
    let failed =
        |err: &dyn fmt::Display| ProbeResult::fail(format!("Get \"http://{host}{path}\": {err}"));
    let stream = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(err) => return failed(&err),
    };
    let request = match request(host, path, headers) {
        Ok(r) => r,
        Err(fail) => return fail,
    };
    let handshake = hyper::client::conn::http1::Builder::new()
        .title_case_headers(true)
        .handshake(TokioIo::new(stream))
        .await;
    let (mut sender, conn) = match handshake {
        Ok(pair) => pair,
        Err(err) => return failed(&err),
    };
    // The connection is driven by its own task, aborted when the probe ends or times out.
    let _conn = AbortOnDrop(tokio::spawn(conn));
    match sender.send_request(request).await {
        Ok(response) => {
            let code = response.status().as_u16();
            if (200..400).contains(&code) {
                ProbeResult::ok()
            } else {
                ProbeResult::fail(format!("HTTP probe failed with statuscode: {code}"))
            }
        }
        Err(err) if err.is_incomplete_message() => failed(&"empty response"),
        Err(err) if err.is_parse() => failed(&"malformed HTTP response"),
        Err(err) => failed(&err),
    }
}

/// The probe's request: kubelet's default headers unless the probe sets them, then the probe's
/// own headers in order, and `Connection: close`.
fn request(
    host: &str,
    path: &str,
    headers: &[(String, String)],
) -> Result<Request<Empty<Bytes>>, ProbeResult> {
    let mut request = Request::get(path)
        .body(Empty::new())
        .map_err(|err| ProbeResult::fail(format!("Get \"http://{host}{path}\": {err}")))?;
    let map = request.headers_mut();
    let has = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let defaults = [(HOST, host), (USER_AGENT, KUBE_PROBE), (ACCEPT, "*/*")];
    for (name, value) in defaults {
        if !has(name.as_str()) {
            let value = HeaderValue::from_str(value)
                .map_err(|_| ProbeResult::fail(format!("invalid http header `{name}`")))?;
            map.insert(name, value);
        }
    }
    for (name, value) in headers {
        let invalid = || ProbeResult::fail(format!("invalid http header `{name}`"));
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
        let value = HeaderValue::from_str(value).map_err(|_| invalid())?;
        map.append(header, value);
    }
    map.insert(CONNECTION, HeaderValue::from_static("close"));
    Ok(request)
}

/// Aborts a spawned task when dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
