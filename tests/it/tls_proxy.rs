//! TLS and proxies, end to end through the binary: a sandbox served over TLS with a certificate
//! made at test time is refused without `--ca-cert` and accepted with it; `HTTPS_PROXY` routes the
//! run through an HTTP CONNECT proxy, `NO_PROXY` bypasses it, and a proxy that refuses is named
//! as the reason.
//!
//! Only loopback is ever contacted. The proxy tunnels every CONNECT to the local TLS front
//! whatever host it names, so `acme.service-now.com` is never resolved. For the `NO_PROXY` case
//! the instance must be reached directly, and the client never proxies names it knows are
//! loopback (`127.0.0.1`, `localhost`, `::1`). `0.0.0.0` is not one of them, so the proxy
//! settings apply to it, yet connecting to it reaches this machine (Linux and macOS treat the
//! unspecified address as local). (`[::ffff:127.0.0.1]` would also do, but reqwest cannot name
//! an IPv6 literal for TLS through a tunnel: "Invalid Server Name".)

use crate::support::proxy::{ConnectProxy, Mode};
use crate::support::tls::{TestCa, TlsFront};
use crate::support::{verify, ReportExt, CHECK_IDS};
use snconnect::sandbox::{Sandbox, SandboxConfig};

fn healthy() -> Sandbox {
    Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap()
}

fn assert_all_pass(run: &crate::support::Run) {
    let json = run.json();
    assert_eq!(run.code, 0, "{json:#}\n{}", run.stderr);
    for id in CHECK_IDS {
        assert_eq!(json.status(id), "pass", "{id}: {}", json.check(id));
    }
}

#[test]
fn an_untrusted_certificate_is_refused_and_ca_cert_makes_it_trusted() {
    let sandbox = healthy();
    let ca = TestCa::for_tests();
    let front = TlsFront::start(&ca, sandbox.port());
    let url = front.url("127.0.0.1");

    let run = verify(&url, &[], &[]);
    let json = run.json();
    assert_eq!(run.code, 3, "{json:#}");
    assert_eq!(json.status("instance"), "fail");
    assert_eq!(json.codes("instance"), ["instance.tls"]);
    let text = json.messages("instance");
    assert!(text.contains("the TLS connection to"), "{text}");
    assert!(text.contains("--ca-cert PATH"), "{text}");
    for id in &CHECK_IDS[1..] {
        assert_eq!(json.status(id), "skip", "{id}");
    }
    assert!(front.wait_for_failed_handshakes(1) >= 1);
    assert!(
        sandbox.requests().is_empty(),
        "nothing may pass an untrusted handshake: {:?}",
        sandbox.requests()
    );

    let run = verify(&url, &["--ca-cert", ca.ca_pem_str()], &[]);
    assert_all_pass(&run);
    assert!(front.handshakes() >= 1);
    assert!(!sandbox.requests().is_empty());
}

#[test]
fn a_certificate_for_another_name_is_refused_even_with_ca_cert() {
    let sandbox = healthy();
    let ca = TestCa::new(&["elsewhere.example.com"]);
    let front = TlsFront::start(&ca, sandbox.port());
    let run = verify(
        &front.url("127.0.0.1"),
        &["--ca-cert", ca.ca_pem_str()],
        &[],
    );
    let json = run.json();
    assert_eq!(run.code, 3, "{json:#}");
    assert_eq!(json.codes("instance"), ["instance.tls"]);
    assert!(sandbox.requests().is_empty());
}

#[test]
fn https_proxy_carries_the_whole_run_through_connect() {
    let sandbox = healthy();
    let ca = TestCa::for_tests();
    let front = TlsFront::start(&ca, sandbox.port());
    for var in ["HTTPS_PROXY", "https_proxy"] {
        let proxy = ConnectProxy::start(Mode::Tunnel(front.port()));
        let run = verify(
            "acme",
            &["--ca-cert", ca.ca_pem_str()],
            &[(var, &proxy.url())],
        );
        assert_all_pass(&run);
        assert_eq!(run.json()["instance"], "https://acme.service-now.com");
        let seen = proxy.seen();
        assert!(!seen.is_empty(), "{var}: the proxy was not used");
        assert!(
            seen.iter()
                .all(|l| l == "CONNECT acme.service-now.com:443 HTTP/1.1"),
            "{var}: {seen:?}"
        );
    }
}

#[test]
fn no_proxy_covering_the_host_bypasses_the_proxy() {
    let sandbox = healthy();
    let ca = TestCa::for_tests();
    let front = TlsFront::start(&ca, sandbox.port());
    let proxy = ConnectProxy::start(Mode::Tunnel(front.port()));
    let url = front.url("0.0.0.0");
    let ca_arg = ["--ca-cert", ca.ca_pem_str()];

    // First prove this address does go through the proxy when nothing says otherwise…
    let run = verify(&url, &ca_arg, &[("HTTPS_PROXY", &proxy.url())]);
    assert_all_pass(&run);
    let through = proxy.seen();
    assert!(!through.is_empty(), "the proxy was not used");
    assert!(
        through
            .iter()
            .all(|l| l == &format!("CONNECT 0.0.0.0:{} HTTP/1.1", front.port())),
        "{through:?}"
    );

    // …then that NO_PROXY (either spelling) sends it straight to the instance.
    for var in ["NO_PROXY", "no_proxy"] {
        let run = verify(
            &url,
            &ca_arg,
            &[("HTTPS_PROXY", &proxy.url()), (var, "0.0.0.0")],
        );
        assert_all_pass(&run);
        assert_eq!(proxy.seen().len(), through.len(), "{var} did not bypass");
    }
}

#[test]
fn loopback_instances_never_use_a_proxy() {
    let sandbox = healthy();
    let proxy = ConnectProxy::start(Mode::Refuse(403));
    let run = verify(
        &sandbox.url(),
        &[],
        &[
            ("HTTPS_PROXY", &proxy.url()),
            ("HTTP_PROXY", &proxy.url()),
            ("ALL_PROXY", &proxy.url()),
        ],
    );
    assert_all_pass(&run);
    assert!(proxy.seen().is_empty(), "{:?}", proxy.seen());
}

/// A proxy that answers CONNECT with 403 or 407, hangs up, or is not there at all: the run
/// cannot reach the instance, exits 3, and says the proxy is where to look.
#[test]
fn a_proxy_that_refuses_is_named_as_the_reason() {
    let cases = [
        (Some(Mode::Refuse(403)), "it refused the CONNECT request"),
        (
            Some(Mode::Refuse(407)),
            "it requires authentication (407 Proxy Authentication Required)",
        ),
        (
            Some(Mode::HangUp),
            "it closed the connection without answering the CONNECT request",
        ),
        (None, "the proxy itself could not be reached"),
    ];
    for (mode, reason) in cases {
        let proxy = mode.map(ConnectProxy::start);
        let proxy_url = match &proxy {
            Some(p) => p.url(),
            None => format!("http://127.0.0.1:{}", crate::support::closed_port()),
        };
        let run = verify("acme", &[], &[("HTTPS_PROXY", &proxy_url)]);
        let json = run.json();
        assert_eq!(run.code, 3, "{mode:?}: {json:#}");
        assert_eq!(json.status("instance"), "fail", "{mode:?}");
        assert_eq!(json.codes("instance"), ["instance.unreachable"], "{mode:?}");
        let text = json.messages("instance");
        let want = format!("the proxy would not connect to https://acme.service-now.com: {reason}");
        assert!(text.contains(&want), "{mode:?}: {text}");
        assert!(text.contains("NO_PROXY"), "{mode:?}: {text}");
        if let Some(p) = proxy {
            assert!(!p.seen().is_empty(), "{mode:?}: the proxy was not asked");
        }
    }
}

/// An IPv6 address is a valid instance: before a fix its derived profile name (`--ffff-…`) was
/// refused by the credentials store and verify stopped before sending anything.
#[test]
fn an_ipv6_instance_address_works_end_to_end() {
    let sandbox = healthy();
    let ca = TestCa::for_tests();
    let front = TlsFront::start(&ca, sandbox.port());
    let url = front.url("::ffff:127.0.0.1");
    let run = verify(&url, &["--ca-cert", ca.ca_pem_str()], &[]);
    assert_all_pass(&run);
    assert_eq!(
        run.json()["instance"],
        format!("https://[::ffff:7f00:1]:{}", front.port())
    );
}

/// Issue 13: where the instance's front negotiates HTTP/2 by ALPN, a whole verify runs over one
/// connection (every round's requests multiplexed on it) and passes; where it does not, the same
/// run falls back to HTTP/1.1 on several (the tests above).
#[test]
fn over_http2_a_verify_passes_on_one_connection() {
    let sandbox = healthy();
    let ca = TestCa::for_tests();
    let front = TlsFront::start_h2(&ca, sandbox.port());
    let url = front.url("127.0.0.1");
    let run = verify(&url, &["--ca-cert", ca.ca_pem_str()], &[]);
    assert_all_pass(&run);
    // Over HTTP/1.1 the same run opens one connection per request in flight (ten or so).
    assert_eq!(
        front.handshakes(),
        1,
        "one TLS connection for the whole run"
    );
    assert!(sandbox.requests().len() > 10);
}

/// Issue 15: the instance's TLS certificate ending within 30 days is a warning that names the
/// date; the run still passes (the connection works today), and --strict fails on it.
#[test]
fn a_certificate_that_ends_soon_is_warned_of() {
    let sandbox = healthy();
    let ca = TestCa::expiring_in(&["127.0.0.1"], 10);
    let front = TlsFront::start(&ca, sandbox.port());
    let url = front.url("127.0.0.1");
    let run = verify(&url, &["--ca-cert", ca.ca_pem_str()], &[]);
    assert_eq!(run.code, 0, "{}", run.all());
    let json = run.json();
    assert_eq!(json.status("instance"), "warn", "{json:#}");
    assert_eq!(json.codes("instance"), ["instance.certificate_expiring"]);
    let message = json.messages("instance");
    assert!(
        message.contains("in 9 days") || message.contains("in 10 days"),
        "{message}"
    );
    let strict = verify(&url, &["--ca-cert", ca.ca_pem_str(), "--strict"], &[]);
    assert_eq!(strict.code, 1, "{}", strict.all());
    // The end date is in the metrics too, for an alert rule of its own.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.prom");
    let run = verify(
        &url,
        &[
            "--ca-cert",
            ca.ca_pem_str(),
            "--metrics-file",
            file.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    let metrics = std::fs::read_to_string(&file).unwrap();
    assert!(
        metrics.contains("snconnect_tls_certificate_expiry_timestamp_seconds{instance="),
        "{metrics}"
    );
}
