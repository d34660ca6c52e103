//! WAN benchmark: a full app-path `verify` as it runs against an instance far away, over TLS.
//!
//! Run with `cargo run --release --example bench_wan -- [RUNS]` (default 5 runs per cell).
//!
//! In front of the simulated instance (server time S per request, optionally at most 4 requests
//! served at once, as a node's inbound REST semaphore does) sit a TLS front with a throwaway
//! certificate (trusted through `--ca-cert`, as a real run would trust a proxy's root) and a delay
//! proxy that emulates the round-trip time at the TCP level: a connection's first bytes pass one
//! RTT after the connect (the handshake), and every byte then takes RTT/2 each way, in order.
//!
//! For each cell it prints the median wall time of a cold `verify` (a new client, as each process
//! has), the bound, their ratio, the requests, the connections dialled and the most open at once.
//! Absolute times are noise on a shared machine; the ratio is the figure that counts.
//!
//! The bound follows the round structure `facts::gather` must keep (issue 11): the admin's
//! request alone, then the admin queries, then the token once they showed it cannot lock the
//! account, then the probes with it. That is four request rounds after the connection's TCP
//! handshake (one RTT) and the TLS handshake (one RTT for TLS 1.3, two for TLS 1.2):
//! `6·RTT + 4·S` with TLS 1.3, `7·RTT + 4·S` with TLS 1.2. The issue-13 text's `4·RTT + 2·S`
//! assumed the token in the first round, which the lockout safety forbids when admin
//! credentials are given; it is printed too, as `issue bound`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use snconnect::commands::{demo, verify};
use snconnect::model::SetupPath;
use snconnect::sandbox::{Sandbox, SandboxConfig};
use snconnect::servicenow::{Client, ClientOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tls {
    V13,
    V12,
}

impl Tls {
    fn name(self) -> &'static str {
        match self {
            Tls::V13 => "TLS 1.3",
            Tls::V12 => "TLS 1.2",
        }
    }

    /// Round trips the handshake costs before the first request can be sent.
    fn handshake_rtts(self) -> u32 {
        match self {
            Tls::V13 => 1,
            Tls::V12 => 2,
        }
    }
}

/// Connections through the delay proxy: how many, and the most open at once.
#[derive(Default)]
struct ConnStats {
    opened: AtomicUsize,
    open: AtomicUsize,
    max_open: AtomicUsize,
}

impl ConnStats {
    /// Before a cold run: waits (up to a second) for the last run's connections to close.
    fn reset(&self) {
        let until = Instant::now() + Duration::from_secs(1);
        while self.open.load(Ordering::SeqCst) > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.opened.store(0, Ordering::SeqCst);
        self.max_open
            .store(self.open.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

/// A certificate for 127.0.0.1, self-signed, written as the PEM `--ca-cert` reads.
struct Cert {
    _dir: tempfile::TempDir,
    pem: PathBuf,
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

fn cert() -> Result<Cert> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "snconnect benchmark CA (throwaway)");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate()?;
    let params = CertificateParams::new(vec!["127.0.0.1".to_string()])?;
    let leaf = params.signed_by(&key, &issuer)?;
    let dir = tempfile::tempdir()?;
    let pem = dir.path().join("bench-ca.pem");
    std::fs::write(&pem, ca_cert.pem())?;
    Ok(Cert {
        _dir: dir,
        pem,
        chain: vec![leaf.der().clone()],
        key: key.serialize_der(),
    })
}

fn server_config(cert: &Cert, tls: Tls, h2: bool) -> Result<Arc<rustls::ServerConfig>> {
    let versions: &[&'static rustls::SupportedProtocolVersion] = match tls {
        Tls::V13 => &[&rustls::version::TLS13],
        Tls::V12 => &[&rustls::version::TLS12],
    };
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(versions)?
    .with_no_client_auth()
    .with_single_cert(
        cert.chain.clone(),
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key.clone())),
    )?;
    config.alpn_protocols = if h2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(Arc::new(config))
}

/// Terminates TLS and pipes the plaintext to `upstream` (the sandbox, which speaks HTTP/1.1 and,
/// with the h2 ALPN, HTTP/2 with prior knowledge).
async fn tls_front(listener: TcpListener, config: Arc<rustls::ServerConfig>, upstream: u16) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    while let Ok((tcp, _)) = listener.accept().await {
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                return;
            };
            let Ok(mut plain) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                return;
            };
            let _ = plain.set_nodelay(true);
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
        });
    }
}

/// Emulates the network: a connection's bytes towards the server pass no sooner than one RTT
/// after the connect (the TCP handshake the loopback connect skipped), and every chunk each way
/// is delivered RTT/2 after it was sent, in order.
async fn delay_proxy(listener: TcpListener, upstream: u16, rtt: Duration, stats: Arc<ConnStats>) {
    while let Ok((client, _)) = listener.accept().await {
        let connected = Instant::now();
        let stats = stats.clone();
        stats.opened.fetch_add(1, Ordering::SeqCst);
        let now = stats.open.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_open.fetch_max(now, Ordering::SeqCst);
        tokio::spawn(async move {
            let _ = client.set_nodelay(true);
            if let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await {
                let _ = server.set_nodelay(true);
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                let half = rtt / 2;
                tokio::join!(
                    pump(cr, sw, half, Some(connected + rtt)),
                    pump(sr, cw, half, None)
                );
            }
            stats.open.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
    not_before: Option<Instant>,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    let _ = tx.send((Instant::now(), Vec::new()));
                    return;
                }
                Ok(n) => {
                    if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    };
    let writer = async move {
        while let Some((sent, bytes)) = rx.recv().await {
            let start = match not_before {
                Some(t) if t > sent => t,
                _ => sent,
            };
            tokio::time::sleep_until((start + delay).into()).await;
            if bytes.is_empty() {
                let _ = to.shutdown().await;
                return;
            }
            if to.write_all(&bytes).await.is_err() {
                return;
            }
        }
    };
    tokio::join!(reader, writer);
}

struct Cell {
    rtt: Duration,
    server: Duration,
    tls: Tls,
    cap: Option<usize>,
    h2: bool,
}

struct Measured {
    median: Duration,
    requests: u64,
    connections: usize,
    max_open: usize,
}

fn bind() -> Result<(std::net::TcpListener, u16)> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    l.set_nonblocking(true)?;
    let port = l.local_addr()?.port();
    Ok((l, port))
}

fn measure(
    cell: &Cell,
    cert: &Cert,
    runs: usize,
    net: &tokio::runtime::Runtime,
) -> Result<Measured> {
    let sandbox = Sandbox::start(SandboxConfig {
        latency: cell.server,
        served_at_once: cell.cap,
        ..SandboxConfig::scenario("healthy-app")
    })?;
    let (tls_listener, tls_port) = bind()?;
    let (proxy_listener, proxy_port) = bind()?;
    let config = server_config(cert, cell.tls, cell.h2)?;
    let stats = Arc::new(ConnStats::default());
    let upstream = sandbox.port();
    let rtt = cell.rtt;
    let proxy_stats = stats.clone();
    let _guard = net.enter();
    net.spawn(async move {
        tls_front(
            TcpListener::from_std(tls_listener).unwrap(),
            config,
            upstream,
        )
        .await
    });
    net.spawn(async move {
        delay_proxy(
            TcpListener::from_std(proxy_listener).unwrap(),
            tls_port,
            rtt,
            proxy_stats,
        )
        .await
    });

    let url = format!("https://127.0.0.1:{proxy_port}");
    let inputs = demo::fixture_inputs(&url, SetupPath::App)?;
    let plan = verify::plan(&inputs, &[], Duration::from_secs(30));
    let runtime = verify::runtime()?;
    let options = ClientOptions {
        ca_cert: Some(cert.pem.clone()),
        ..ClientOptions::default()
    };
    let mut times = Vec::with_capacity(runs);
    let (mut requests, mut connections, mut max_open) = (0, 0, 0);
    for _ in 0..runs {
        stats.reset();
        let client = Client::new(&inputs.instance, &options).context("client")?;
        let start = Instant::now();
        let report = runtime.block_on(verify::verify(&client, &plan, false));
        times.push(start.elapsed());
        if !report.ok() {
            bail!(
                "the healthy scenario did not pass over the emulated WAN: the benchmark would \
                 measure the wrong thing"
            );
        }
        requests = requests.max(client.stats().requests);
        connections = connections.max(stats.opened.load(Ordering::SeqCst));
        max_open = max_open.max(stats.max_open.load(Ordering::SeqCst));
        drop(client);
    }
    times.sort();
    Ok(Measured {
        median: times[times.len() / 2],
        requests,
        connections,
        max_open,
    })
}

fn main() -> Result<()> {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(5);
    if runs == 0 {
        bail!("RUNS must be at least 1");
    }
    let cert = cert()?;
    let net = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!(
        "{:<7} {:>5} {:>5} {:>4} {:<5} {:>9} {:>7} {:>6} {:>8} {:>5} {:>6} {:>5}",
        "tls",
        "rtt",
        "S",
        "cap",
        "http",
        "median",
        "bound",
        "ratio",
        "issue-b",
        "reqs",
        "conns",
        "open"
    );
    let mut cells = Vec::new();
    for tls in [Tls::V13, Tls::V12] {
        for cap in [None, Some(4)] {
            for rtt in [20u64, 100, 250] {
                for server in [30u64, 100] {
                    cells.push(Cell {
                        rtt: Duration::from_millis(rtt),
                        server: Duration::from_millis(server),
                        tls,
                        cap,
                        h2: false,
                    });
                }
            }
        }
    }
    // HTTP/2, where an instance's front negotiates it: the headline cell.
    cells.push(Cell {
        rtt: Duration::from_millis(100),
        server: Duration::from_millis(100),
        tls: Tls::V13,
        cap: None,
        h2: true,
    });
    cells.push(Cell {
        rtt: Duration::from_millis(100),
        server: Duration::from_millis(100),
        tls: Tls::V13,
        cap: Some(4),
        h2: true,
    });
    for cell in &cells {
        let m = measure(cell, &cert, runs, &net)?;
        let rtt = cell.rtt.as_secs_f64() * 1000.0;
        let s = cell.server.as_secs_f64() * 1000.0;
        let handshake = f64::from(1 + cell.tls.handshake_rtts());
        let bound = (handshake + 4.0) * rtt + 4.0 * s;
        let issue_bound = (handshake + 2.0) * rtt + 2.0 * s;
        let median = m.median.as_secs_f64() * 1000.0;
        println!(
            "{:<7} {:>5} {:>5} {:>4} {:<5} {:>7.0}ms {:>5.0}ms {:>6.2} {:>6.0}ms {:>5} {:>6} {:>5}",
            cell.tls.name(),
            rtt,
            s,
            cell.cap.map_or("-".to_string(), |c| c.to_string()),
            if cell.h2 { "h2" } else { "h1.1" },
            median,
            bound,
            median / bound,
            issue_bound,
            m.requests,
            m.connections,
            m.max_open,
        );
    }
    Ok(())
}
