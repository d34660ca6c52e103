//! The sandbox serves real third-party clients as an instance would: ServiceNow's own Python
//! client, pysnc, drives it through `tests/pysnc/drive.py` (the password grant with client
//! credentials in a Basic header, paged reads, display values, insert with defaults, update,
//! delete, the Aggregate API, a refresh that hands out a new token).
//!
//! pysnc insists on https, so the sandbox sits behind the tests' TLS front with a throwaway CA,
//! which Python's requests trusts through REQUESTS_CA_BUNDLE. `.ci/run` makes a virtual
//! environment with pysnc and points SNCONNECT_TEST_PYTHON at its interpreter; without it the
//! test says it was not run (and fails in CI).

use std::process::Command as StdCommand;

use crate::support::tls::{TestCa, TlsFront};
use snconnect::sandbox::{fixtures, Sandbox, SandboxConfig};

#[test]
fn pysnc_reads_pages_writes_deletes_counts_and_refreshes_against_the_sandbox() {
    let Some(python) = std::env::var_os("SNCONNECT_TEST_PYTHON").filter(|p| !p.is_empty()) else {
        crate::support::not_run(
            "pysnc",
            "set SNCONNECT_TEST_PYTHON to a Python with pysnc and requests-oauthlib (.ci/run makes one)",
        );
        return;
    };
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let ca = TestCa::for_tests();
    let front = TlsFront::start(&ca, sandbox.port());
    let url = front.url("127.0.0.1");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pysnc/drive.py");
    let out = StdCommand::new(python)
        .arg(script)
        .args([
            url.as_str(),
            fixtures::CLIENT_ID,
            fixtures::CLIENT_SECRET,
            fixtures::SERVICE_USER,
            fixtures::SERVICE_PASSWORD,
        ])
        .env("REQUESTS_CA_BUNDLE", ca.ca_pem_str())
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "pysnc against the sandbox:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("pysnc: all good"), "{stdout}");
}
