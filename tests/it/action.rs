//! The GitHub Action's install step (`scripts/action-install.sh`, issue 18): a release archive
//! is unpacked only when it matches its line in the release's checksum file. Served here by a
//! local stand-in for the release's download address.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

use crate::support::rt;

const TARGET: &str = "x86_64-unknown-linux-musl";

async fn file(
    State(dir): State<PathBuf>,
    UrlPath(name): UrlPath<String>,
) -> axum::response::Response {
    match std::fs::read(dir.join(&name)) {
        Ok(bytes) => bytes.into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Serves `dir`'s files at `http://127.0.0.1:PORT/NAME`; returns the address.
fn serve(dir: &Path) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new()
        .route("/{name}", get(file))
        .with_state(dir.to_path_buf());
    rt().spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let _ = axum::serve(listener, app).await;
    });
    format!("http://127.0.0.1:{port}")
}

/// A release as upload-rust-binary-action lays it out: the archive (the binary at its root) and
/// `snconnect-TARGET.sha256` with one `HASH  ARCHIVE` line.
fn release(dir: &Path) -> String {
    let stage = dir.join("stage");
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::copy(
        assert_cmd::cargo::cargo_bin("snconnect"),
        stage.join("snconnect"),
    )
    .unwrap();
    let archive = format!("snconnect-{TARGET}.tar.gz");
    let tar = StdCommand::new("tar")
        .arg("-czf")
        .arg(dir.join(&archive))
        .arg("-C")
        .arg(&stage)
        .arg("snconnect")
        .status()
        .expect("run tar");
    assert!(tar.success());
    let hash = Sha256::digest(std::fs::read(dir.join(&archive)).unwrap());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    let line = format!("{hex}  {archive}\n");
    std::fs::write(dir.join(format!("snconnect-{TARGET}.sha256")), &line).unwrap();
    line
}

fn install(base: &str, into: &Path) -> std::process::Output {
    StdCommand::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action-install.sh"))
        .env("BASE", base)
        .env("TARGET", TARGET)
        .env("DIR", into)
        .output()
        .expect("run bash")
}

#[test]
fn the_action_installs_a_release_only_when_its_checksum_matches() {
    let served = tempfile::tempdir().unwrap();
    let line = release(served.path());
    let base = serve(served.path());

    let good = tempfile::tempdir().unwrap();
    let out = install(&base, good.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let version = StdCommand::new(good.path().join("snconnect"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("snconnect "));

    // A checksum that does not match: nothing is unpacked.
    let wrong = format!("{}{}", "0".repeat(64), &line[64..]);
    std::fs::write(
        served.path().join(format!("snconnect-{TARGET}.sha256")),
        wrong,
    )
    .unwrap();
    let bad = tempfile::tempdir().unwrap();
    let out = install(&base, &bad.path().join("bin"));
    assert!(!out.status.success());
    assert!(
        !bad.path().join("bin").exists(),
        "unpacked despite a wrong checksum"
    );

    // A checksum file for another archive: refused, with the reason.
    std::fs::write(
        served.path().join(format!("snconnect-{TARGET}.sha256")),
        line.replace("tar.gz", "zip"),
    )
    .unwrap();
    let out = install(&base, &bad.path().join("bin"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no line for"));
    assert!(!bad.path().join("bin").exists());
}
