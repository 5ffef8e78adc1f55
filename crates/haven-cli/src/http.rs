//! The HTTP edge of `haven check --online` and `--update-release-data`: GitHub's API (and the raw `e2e.log`
//! files it points to) through `ureq`, blocking, rustls with ring, with a time limit per request
//! and a size limit per answer. What to ask and how to read the answers is decided in
//! `haven_checks::upstream`; this only fetches.

use std::time::Duration;

use haven_checks::upstream::{FetchError, HttpGet, HttpReply};

/// `ureq` behind [`HttpGet`].
pub struct UreqGet {
    agent: ureq::Agent,
    timeout: Duration,
    max_body: u64,
}

/// An `e2e.log` is a few megabytes at most; a directory listing much less.
pub const MAX_BODY: u64 = 32 * 1024 * 1024;

impl UreqGet {
    /// `timeout` bounds each request end to end (connect, TLS, headers, body). With
    /// `proxy_from_env`, `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` and `NO_PROXY` apply, as for
    /// other command-line tools.
    pub fn new(timeout: Duration, proxy_from_env: bool) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .user_agent(concat!("haven/", env!("CARGO_PKG_VERSION")))
            .proxy(if proxy_from_env {
                ureq::Proxy::try_from_env()
            } else {
                None
            })
            .build();
        UreqGet {
            agent: ureq::Agent::new_with_config(config),
            timeout,
            max_body: MAX_BODY,
        }
    }

    /// A smaller answer limit (tests).
    #[cfg(test)]
    pub fn with_max_body(mut self, max_body: u64) -> Self {
        self.max_body = max_body;
        self
    }

    fn error(&self, url: &str, e: ureq::Error) -> FetchError {
        match e {
            ureq::Error::Timeout(_) => FetchError::Timeout {
                url: url.to_owned(),
                seconds: self.timeout.as_secs().max(1),
            },
            ureq::Error::BodyExceedsLimit(limit) => FetchError::TooLarge {
                url: url.to_owned(),
                limit,
            },
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                FetchError::Timeout {
                    url: url.to_owned(),
                    seconds: self.timeout.as_secs().max(1),
                }
            }
            other => FetchError::Transport {
                url: url.to_owned(),
                message: other.to_string(),
            },
        }
    }
}

impl HttpGet for UreqGet {
    fn get(&self, url: &str) -> Result<HttpReply, FetchError> {
        let mut response = self
            .agent
            .get(url)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .call()
            .map_err(|e| self.error(url, e))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_body)
            .read_to_vec()
            .map_err(|e| self.error(url, e))?;
        Ok(HttpReply { status, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// A one-connection-at-a-time HTTP/1.1 server on 127.0.0.1 answering from `f(path)`;
    /// `None` answers nothing (the client times out).
    fn serve(
        f: impl Fn(&str) -> Option<(u16, Vec<u8>)> + Send + 'static,
    ) -> (String, std::thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            for stream in listener.incoming().take(4) {
                let Ok(mut stream) = stream else { break };
                let mut buf = [0u8; 4096];
                let n = stream.read(&mut buf).unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                match f(&path) {
                    Some((status, body)) => {
                        let _ = write!(
                            stream,
                            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = stream.write_all(&body);
                    }
                    None => std::thread::sleep(Duration::from_secs(3)),
                }
            }
        });
        (base, handle)
    }

    #[test]
    fn answers_statuses_limits_and_timeouts() {
        let (base, _h) = serve(|path| match path {
            "/ok" => Some((200, b"[]".to_vec())),
            "/missing" => Some((404, br#"{"message":"Not Found"}"#.to_vec())),
            "/big" => Some((200, vec![b'x'; 2048])),
            _ => None,
        });
        let http = UreqGet::new(Duration::from_millis(800), false).with_max_body(1024);
        let r = http.get(&format!("{base}/ok")).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, b"[]".as_slice()));
        let r = http.get(&format!("{base}/missing")).unwrap();
        assert_eq!(r.status, 404, "a 404 is an answer");
        let e = http.get(&format!("{base}/big")).unwrap_err();
        assert!(matches!(e, FetchError::TooLarge { limit: 1024, .. }), "{e}");
        let e = http.get(&format!("{base}/hang")).unwrap_err();
        assert!(matches!(e, FetchError::Timeout { .. }), "{e}");
        // Nobody listening.
        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/x", closed.local_addr().unwrap());
        drop(closed);
        let e = http.get(&url).unwrap_err();
        assert!(matches!(e, FetchError::Transport { .. }), "{e}");
    }
}
