//! TLS: an instance whose certificate chains to an unknown root is refused as a TLS failure, and
//! `--ca-cert` (ClientOptions::ca_cert) makes the same server trusted.
//!
//! The server is a minimal HTTPS responder built on tokio-rustls with the committed test
//! certificates in tests/it/fixtures/tls (see the README there).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use secrecy::SecretString;
use snconnect::instance::Instance;
use snconnect::servicenow::{Auth, Client, ClientOptions, ErrorKind, ListRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures/tls")
        .join(name)
}

/// Serves every connection one fixed Table API answer over TLS; counts completed requests.
async fn https_server() -> (String, Arc<AtomicUsize>) {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(fixture("server.pem"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                // A refused handshake ends here; that is the point of the first test.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let body = r#"{"result":[{"sys_id":"abc"}]}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (format!("https://127.0.0.1:{port}"), served)
}

fn options(ca_cert: Option<PathBuf>) -> ClientOptions {
    ClientOptions {
        timeout: Duration::from_secs(5),
        ca_cert,
        ..ClientOptions::default()
    }
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error_and_ca_cert_fixes_it() {
    let (url, served) = https_server().await;
    let instance = Instance::parse(&url).unwrap();
    let auth = || Auth::basic("admin", SecretString::from("pw"));

    let err = Client::new(&instance, &options(None))
        .unwrap()
        .session(auth())
        .list("incident", &ListRequest::new().limit(1))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Tls, "{err:?}");
    assert!(snconnect::commands::hint::for_error(&err).is_some_and(|h| h.contains("--ca-cert")));
    assert_eq!(served.load(Ordering::SeqCst), 0);

    let page = Client::new(&instance, &options(Some(fixture("ca.pem"))))
        .unwrap()
        .session(auth())
        .list("incident", &ListRequest::new().limit(1))
        .await
        .unwrap();
    assert_eq!(page.records[0].sys_id(), Some("abc"));
    assert_eq!(served.load(Ordering::SeqCst), 1);
}

/// A CONNECT proxy on 127.0.0.1 that tunnels every request to `upstream_port`, recording the
/// authority each CONNECT asked for.
async fn connect_proxy(upstream_port: u16) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let record = record.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match client.read(&mut byte).await {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let text = String::from_utf8_lossy(&head).to_string();
                let first = text.lines().next().unwrap_or("").to_string();
                record.lock().unwrap().push(first.clone());
                if !first.starts_with("CONNECT ") {
                    let _ = client
                        .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    return;
                }
                let Ok(mut upstream) =
                    tokio::net::TcpStream::connect(("127.0.0.1", upstream_port)).await
                else {
                    return;
                };
                if client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}

/// Sets environment variables while the client reads them, then restores them. Only this test
/// builds a non-loopback client, and loopback clients ignore proxy variables, so the other tests
/// in this binary are not disturbed.
fn with_env<T>(vars: &[(&str, &str)], f: impl FnOnce() -> T) -> T {
    let all = [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ];
    let _env = crate::support::env_lock();
    let saved: Vec<_> = all.iter().map(|k| (*k, std::env::var_os(k))).collect();
    for k in all {
        std::env::remove_var(k);
    }
    for (k, v) in vars {
        std::env::set_var(k, v);
    }
    let out = f();
    for (k, v) in saved {
        match v {
            Some(v) => std::env::set_var(k, v),
            None => std::env::remove_var(k),
        }
    }
    out
}

#[tokio::test]
async fn https_proxy_is_honoured() {
    let (url, served) = https_server().await;
    let port = url.rsplit(':').next().unwrap().parse::<u16>().unwrap();
    let (proxy, seen) = connect_proxy(port).await;
    let instance = Instance::parse("acme").unwrap();
    let auth = || Auth::basic("admin", SecretString::from("pw"));

    // Through the proxy, with the test CA trusted as a TLS-inspecting proxy's root would be.
    let client = with_env(&[("HTTPS_PROXY", &proxy)], || {
        Client::new(&instance, &options(Some(fixture("ca.pem")))).unwrap()
    });
    let page = client
        .session(auth())
        .list("incident", &ListRequest::new().limit(1))
        .await
        .unwrap();
    assert_eq!(page.records[0].sys_id(), Some("abc"));
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        ["CONNECT acme.service-now.com:443 HTTP/1.1"]
    );
    assert_eq!(served.load(Ordering::SeqCst), 1);
    // NO_PROXY is covered end to end in tests/it/tls_proxy.rs, against loopback only: a direct
    // attempt here would go to the real acme.service-now.com.
}
