//! Issue 12, bounds: an instance (or a proxy) answering with hundreds of megabytes, or a
//! `--ca-cert` that never ends, cannot grow snconnect's memory. Measured as the peak resident
//! size of the real process, by GNU time (`/usr/bin/time -f %M`, in kilobytes).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command as StdCommand;

use crate::support::{fixture_env, not_run, snconnect_process};

/// Peak memory allowed, as the issue sets it.
const PEAK_KIB: u64 = 64 * 1024;

/// A server that answers every request with 200 and `size` bytes of JSON-looking text, with or
/// without announcing the length, written as long as the client reads.
fn flood(size: usize, announce: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                let _ = stream.read(&mut buf);
                let length = if announce {
                    format!("Content-Length: {size}\r\n")
                } else {
                    String::new()
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\n{length}Connection: close\r\n\r\n{{\"result\":[\""
                );
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = vec![b'a'; 1 << 16];
                let mut sent = 0;
                while sent < size {
                    if stream.write_all(&chunk).is_err() {
                        return;
                    }
                    sent += chunk.len();
                }
            });
        }
    });
    port
}

/// Runs `snconnect ARGS` under GNU time; returns (exit code, stderr, peak KiB), or `None` where
/// GNU time is not installed.
fn peak_of(args: &[&str]) -> Option<(i32, String, u64)> {
    if !std::path::Path::new("/usr/bin/time").exists() {
        not_run("bounds", "GNU time (/usr/bin/time) is not installed");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("peak");
    let bin = snconnect_process().get_program().to_owned();
    let mut cmd = StdCommand::new("/usr/bin/time");
    crate::support::without_session_bus(&mut cmd);
    cmd.arg("-o")
        .arg(&report)
        .args(["-f", "%M"])
        .arg(bin)
        .args(args);
    cmd.env("SNCONNECT_CONFIG_DIR", dir.path())
        .env("SNCONNECT_STATE_DIR", dir.path().join("state"));
    let mut assert_cmd = assert_cmd::Command::from_std(cmd);
    fixture_env(&mut assert_cmd);
    let out = assert_cmd.output().unwrap();
    let peak: u64 = std::fs::read_to_string(&report)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    Some((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        peak,
    ))
}

#[test]
fn a_200_megabyte_answer_is_abandoned_with_little_memory() {
    for announce in [false, true] {
        let port = flood(200 << 20, announce);
        let url = format!("http://127.0.0.1:{port}");
        let Some((code, output, peak)) = peak_of(&[
            "verify",
            "--no-input",
            "--instance",
            &url,
            "--format",
            "json",
        ]) else {
            return;
        };
        assert_eq!(code, 3, "{output}");
        assert!(
            output.contains("larger than 16 MiB, so it was not read"),
            "{output}"
        );
        assert!(peak < PEAK_KIB, "announce={announce}: peak {peak} KiB");
    }
}

#[test]
fn a_ca_cert_that_never_ends_is_refused_unread() {
    let Some((code, output, peak)) = peak_of(&[
        "verify",
        "--no-input",
        "--instance",
        "http://127.0.0.1:9",
        "--ca-cert",
        "/dev/zero",
    ]) else {
        return;
    };
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("not a regular file"), "{output}");
    assert!(peak < PEAK_KIB, "peak {peak} KiB");
}
