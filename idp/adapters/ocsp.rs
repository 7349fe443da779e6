//! OCSP over HTTP (RFC 6960 Appendix A.1): the DER OCSPRequest is POSTed as
//! `application/ocsp-request` to the responder URL a certificate names, the answer is the DER
//! OCSPResponse. What the bytes mean is decided by the pure core ([`crate::esig::ocsp`]);
//! here only the transport, behind [`OcspFetcher`] so tests can put anything behind it.
//!
//! The URLs come from certificates that already chain to a configured CA (the core builds
//! the queries only for a verified path), so a stranger cannot make us call an address of
//! their choosing. Redirects are not followed and answers are capped at [`MAX_RESPONSE`].

use std::time::Duration;

use async_trait::async_trait;

/// Largest OCSPResponse we read: a few KiB in practice, even with the responder's certificate.
pub const MAX_RESPONSE: usize = 64 * 1024;

/// Why no OCSPResponse came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Not reachable, no answer in time, or an HTTP 5xx: the responder is down.
    #[error("{0}")]
    Unavailable(String),
    /// It answered, but not with an OCSPResponse over HTTP as RFC 6960 Appendix A says.
    #[error("{0}")]
    Protocol(String),
}

#[async_trait]
pub trait OcspFetcher: Send + Sync {
    /// POSTs `request_der` to `url`; the body of a 200 answer.
    async fn fetch(&self, url: &str, request_der: &[u8]) -> Result<Vec<u8>, FetchError>;
}

/// The real client (reqwest).
pub struct OcspClient {
    http: reqwest::Client,
}

impl OcspClient {
    /// `timeout` bounds connecting and the whole exchange (`IDP_REGISTRY_TIMEOUT`).
    pub fn new(timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(OcspClient { http })
    }
}

fn transport_error(e: reqwest::Error) -> FetchError {
    if e.is_timeout() {
        FetchError::Unavailable("no answer in time".into())
    } else if e.is_connect() {
        FetchError::Unavailable(format!("cannot connect: {e}"))
    } else {
        FetchError::Unavailable(format!("request failed: {e}"))
    }
}

#[async_trait]
impl OcspFetcher for OcspClient {
    async fn fetch(&self, url: &str, request_der: &[u8]) -> Result<Vec<u8>, FetchError> {
        let mut response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/ocsp-request")
            .header(reqwest::header::ACCEPT, "application/ocsp-response")
            .body(request_der.to_vec())
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        if status.is_server_error() {
            return Err(FetchError::Unavailable(format!("HTTP {status}")));
        }
        if status != reqwest::StatusCode::OK {
            return Err(FetchError::Protocol(format!("HTTP {status}")));
        }
        // The content type is not insisted on: some responders say application/octet-stream,
        // and the core refuses whatever is not a signed OCSPResponse anyway.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_RESPONSE {
                return Err(FetchError::Protocol(format!(
                    "answer larger than {MAX_RESPONSE} bytes"
                )));
            }
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use axum::routing::post;

    /// A server answering POST / with `status` and `size` bytes; its URL.
    async fn server(status: StatusCode, size: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let app =
            axum::Router::new().route("/", post(move || async move { (status, vec![0x30; size]) }));
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    #[tokio::test]
    async fn transport_outcomes() {
        let client = OcspClient::new(Duration::from_secs(5)).unwrap();
        let ok = server(StatusCode::OK, 10).await;
        assert_eq!(client.fetch(&ok, b"req").await.unwrap().len(), 10);
        let down = server(StatusCode::SERVICE_UNAVAILABLE, 0).await;
        assert!(matches!(
            client.fetch(&down, b"req").await,
            Err(FetchError::Unavailable(_))
        ));
        let missing = server(StatusCode::NOT_FOUND, 0).await;
        assert!(matches!(
            client.fetch(&missing, b"req").await,
            Err(FetchError::Protocol(_))
        ));
        let huge = server(StatusCode::OK, MAX_RESPONSE + 1).await;
        assert!(matches!(
            client.fetch(&huge, b"req").await,
            Err(FetchError::Protocol(_))
        ));
        // Nobody listens on a port just released.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let closed = format!("http://{}/", listener.local_addr().unwrap());
        drop(listener);
        assert!(matches!(
            client.fetch(&closed, b"req").await,
            Err(FetchError::Unavailable(_))
        ));
    }
}
