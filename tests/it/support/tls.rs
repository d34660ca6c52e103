//! TLS for tests: a certificate authority made at test time (nothing committed, nothing trusted
//! by the machine), and a TLS front that terminates TLS on 127.0.0.1 and pipes the plaintext to an
//! upstream port (a sandbox or a fault server). The client under test sees an HTTPS instance.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};

use super::rt;

/// A fresh CA and one server certificate it signed, for the given names (DNS names or IP
/// addresses). The CA's PEM is written to a temp dir for `--ca-cert`.
pub struct TestCa {
    _dir: tempfile::TempDir,
    pub ca_pem: PathBuf,
    server: Arc<rustls::ServerConfig>,
}

impl TestCa {
    pub fn new(names: &[&str]) -> TestCa {
        TestCa::with_server_days(names, None)
    }

    /// The same, with a server certificate that ends `days` from now.
    pub fn expiring_in(names: &[&str], days: i64) -> TestCa {
        TestCa::with_server_days(names, Some(days))
    }

    fn with_server_days(names: &[&str], days: Option<i64>) -> TestCa {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "snconnect test CA (generated per test)");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().expect("server key");
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).expect("server params");
        if let Some(days) = days {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(days);
        }
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_default(),
        );
        let server_cert = params
            .signed_by(&server_key, &issuer)
            .expect("server certificate");

        let dir = tempfile::tempdir().expect("temp dir");
        let ca_pem = dir.path().join("ca.pem");
        std::fs::write(&ca_pem, ca_cert.pem()).expect("write ca.pem");

        let chain: Vec<CertificateDer<'static>> = vec![server_cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let server = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server config");
        TestCa {
            _dir: dir,
            ca_pem,
            server: Arc::new(server),
        }
    }

    /// The names every TLS test needs: loopback (also IPv4-mapped IPv6), `0.0.0.0` (local, but not loopback to the
    /// client's proxy rule), and the instance name a CONNECT proxy is asked for.
    pub fn for_tests() -> TestCa {
        TestCa::new(&[
            "localhost",
            "127.0.0.1",
            "0.0.0.0",
            "::ffff:127.0.0.1",
            "acme.service-now.com",
        ])
    }

    pub fn ca_pem_str(&self) -> &str {
        self.ca_pem.to_str().expect("utf-8 temp path")
    }
}

/// A TLS-terminating front on 127.0.0.1 for an upstream plaintext port.
pub struct TlsFront {
    port: u16,
    handshakes: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
}

impl TlsFront {
    pub fn start(ca: &TestCa, upstream: u16) -> TlsFront {
        TlsFront::start_with(ca.server.clone(), upstream)
    }

    /// The same front offering HTTP/2 by ALPN (the sandbox upstream speaks both).
    pub fn start_h2(ca: &TestCa, upstream: u16) -> TlsFront {
        let mut config = (*ca.server).clone();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        TlsFront::start_with(Arc::new(config), upstream)
    }

    fn start_with(config: Arc<rustls::ServerConfig>, upstream: u16) -> TlsFront {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let port = std_listener.local_addr().expect("addr").port();
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let handshakes = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicUsize::new(0));
        let (ok, bad) = (handshakes.clone(), failed.clone());
        rt().spawn(async move {
            let listener = TcpListener::from_std(std_listener).expect("tokio listener");
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let (ok, bad) = (ok.clone(), bad.clone());
                tokio::spawn(async move {
                    let mut tls = match acceptor.accept(tcp).await {
                        Ok(tls) => tls,
                        Err(_) => {
                            bad.fetch_add(1, Ordering::SeqCst);
                            return;
                        }
                    };
                    ok.fetch_add(1, Ordering::SeqCst);
                    let Ok(mut plain) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        TlsFront {
            port,
            handshakes,
            failed,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `https://HOST:PORT` for a loopback spelling of the host.
    pub fn url(&self, host: &str) -> String {
        match host.parse::<IpAddr>() {
            Ok(IpAddr::V6(_)) => format!("https://[{host}]:{}", self.port),
            _ => format!("https://{host}:{}", self.port),
        }
    }

    /// Completed TLS handshakes.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }

    /// Handshakes the client broke off (for example because it did not trust the certificate).
    pub fn failed_handshakes(&self) -> usize {
        self.failed.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` handshakes have failed, and returns the count. The front learns
    /// of a failure only when it reads the client's alert or the closed socket, which can happen
    /// after the client process has already exited: reading the counter at once raced with that.
    /// Gives up after 10 s, returning what it saw.
    pub fn wait_for_failed_handshakes(&self, n: usize) -> usize {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let seen = self.failed_handshakes();
            if seen >= n || std::time::Instant::now() >= deadline {
                return seen;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}
