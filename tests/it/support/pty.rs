//! Drives snconnect in a real pseudo-terminal: what a person at a terminal sees and types.
//!
//! Two things make it reliable:
//! - The child starts through `sh -c 'stty echo ...; exec snconnect'`, so its terminal begins as a
//!   person's does (echo on). The pty library starts it with echo off, which would make the next
//!   point impossible to observe.
//! - A secret is sent only once the child has turned echo off for the hidden prompt (echo off,
//!   canonical mode on). dialoguer flushes pending input when it switches echo off, so a secret
//!   typed earlier would be dropped and the test would hang.

#![allow(dead_code)]

use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

use expectrl::process::unix::WaitStatus;
use expectrl::{Eof, Expect, Session};

pub const DOWN: &str = "\x1b[B";
pub const HIDE_CURSOR: &str = "\x1b[?25l";
pub const SHOW_CURSOR: &str = "\x1b[?25h";

/// snconnect running in a pty, with everything it printed so far.
pub struct Pty {
    session: expectrl::session::OsSession,
    out: Vec<u8>,
}

impl Pty {
    /// Starts `snconnect ARGS` in a pty whose terminal begins as a person's does (echo on), with
    /// a scrubbed environment and `config_dir` as its configuration directory.
    pub fn spawn(config_dir: &Path, args: &[&str]) -> Pty {
        Pty::spawn_with_env(config_dir, args, &[])
    }

    /// As [`Pty::spawn`], then sets `env` in the child's environment (after the scrubbing, so
    /// a test can give one of the variables it removes, such as `SNCONNECT_ADMIN_TOKEN`).
    pub fn spawn_with_env(config_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Pty {
        let bin = assert_cmd::cargo::cargo_bin("snconnect");
        let mut cmd = std::process::Command::new("sh");
        cmd.arg("-c")
            .arg("stty echo cols 100 rows 50; exec \"$0\" \"$@\"")
            .arg(bin)
            .args(args);
        // The same scrub as every other run of the binary; the session bus comes back only when
        // it is scripts/test's private one with its throwaway keyring, so a developer's own
        // keyring never receives the fixture secrets.
        super::without_session_bus(&mut cmd).envs(super::private_session_bus());
        cmd.env("SNCONNECT_CONFIG_DIR", config_dir)
            .env("SNCONNECT_STATE_DIR", config_dir.join("state"))
            .env("TERM", "xterm")
            .env("NO_COLOR", "1");
        for (name, value) in env {
            cmd.env(name, value);
        }
        let mut session = Session::spawn(cmd).expect("snconnect starts in a pty");
        session.set_expect_timeout(Some(Duration::from_secs(30)));
        Pty {
            session,
            out: Vec::new(),
        }
    }

    /// Everything printed so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.out).into_owned()
    }

    /// Waits until `needle` is printed.
    pub fn expect(&mut self, needle: &str) {
        match self.session.expect(needle) {
            Ok(found) => self.out.extend_from_slice(found.as_bytes()),
            Err(e) => {
                // Whatever arrived but did not match is still buffered: show it too.
                if let Ok(rest) = self.session.expect(Eof) {
                    self.out.extend_from_slice(rest.as_bytes());
                }
                panic!(
                    "waiting for {needle:?}: {e}; the screen so far:\n{}",
                    console::strip_ansi_codes(&self.text())
                )
            }
        }
    }

    pub fn send(&mut self, keys: &str) {
        self.session.send(keys).expect("keys reach the wizard");
    }

    /// Answers a text prompt (Enter alone takes the default).
    pub fn answer(&mut self, prompt: &str, text: &str) {
        self.expect(prompt);
        self.send(&format!("{text}\r"));
    }

    /// Picks the item `down` places below the default of the select after `prompt`.
    pub fn choose(&mut self, prompt: &str, down: usize) {
        self.expect(prompt);
        self.send(&DOWN.repeat(down));
        self.send("\r");
    }

    /// Answers a yes/no question with one key.
    /// Answers a yes/no question with a line (`key`, then Enter), as the prompts read one.
    pub fn confirm(&mut self, prompt: &str, key: &str) {
        self.expect(prompt);
        self.send(&format!("{key}\r"));
    }

    /// Types a secret once the hidden prompt is really listening.
    pub fn secret(&mut self, prompt: &str, value: &str) {
        self.expect(prompt);
        self.wait_for_hidden_input();
        self.send(&format!("{value}\n"));
    }

    /// The terminal's local flags, read through the pty's master side.
    pub fn local_flags(&self) -> libc::tcflag_t {
        let handle = self
            .session
            .get_process()
            .get_raw_handle()
            .expect("the pty's handle");
        let mut t = std::mem::MaybeUninit::<libc::termios>::uninit();
        // SAFETY: tcgetattr writes the whole struct when it returns 0, checked before reading.
        unsafe {
            assert_eq!(libc::tcgetattr(handle.as_raw_fd(), t.as_mut_ptr()), 0);
            t.assume_init().c_lflag
        }
    }

    /// Hidden input is echo off with line editing on (a raw-mode key read has both off).
    pub fn wait_for_hidden_input(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let flags = self.local_flags();
            if flags & libc::ECHO == 0 && flags & libc::ICANON != 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the child never turned echo off for hidden input"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Reads to the end and returns the exit code.
    pub fn finish(&mut self) -> i32 {
        match self.session.expect(Eof) {
            Ok(found) => self.out.extend_from_slice(found.as_bytes()),
            Err(e) => panic!(
                "waiting for the end: {e}; the screen so far:\n{}",
                console::strip_ansi_codes(&self.text())
            ),
        }
        match self.session.get_process().wait().expect("the child ends") {
            WaitStatus::Exited(_, code) => code,
            other => panic!("the child did not exit normally: {other:?}"),
        }
    }

    /// Fails when any of `secrets` was printed.
    pub fn assert_absent(&self, secrets: &[&str]) {
        let text = self.text();
        for secret in secrets {
            assert!(
                !text.contains(secret),
                "a secret was on screen:\n{}",
                console::strip_ansi_codes(&text)
            );
        }
    }
}
