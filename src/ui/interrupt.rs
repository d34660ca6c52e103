//! Ctrl-C during an interactive command: leave the terminal as it was found, and never stop in the
//! middle of writing credentials.
//!
//! Why a handler is needed at all: dialoguer hides the cursor while a list is shown, and its
//! password prompt turns terminal echo off. The default SIGINT action would end the process with
//! the cursor hidden or with echo off, leaving the person a shell that does not show what they
//! type. The handler runs on its own thread (the `ctrlc` crate), restores the terminal settings
//! saved at [`install`], shows the cursor, says what happened, and exits with 130, the shell's
//! convention for "ended by SIGINT".
//!
//! Credentials are written at the very end, all together. While that happens a [`Critical`] guard
//! is held; an interrupt then waits until the guard is dropped, so the write is never cut in half.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// The exit code for a run ended by Ctrl-C.
pub const EXIT_INTERRUPTED: i32 = 130;

static CRITICAL: AtomicUsize = AtomicUsize::new(0);
static PENDING: AtomicBool = AtomicBool::new(false);
static INSTALLED: OnceLock<()> = OnceLock::new();
static MESSAGE: Mutex<Option<String>> = Mutex::new(None);
/// Set by the first "Interrupted" line: a Ctrl-C that a prompt read as a key (raw mode) and that
/// also raised SIGINT would otherwise be announced by both the prompt's caller and the handler.
static ANNOUNCED: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
static SAVED_TERMIOS: OnceLock<libc::termios> = OnceLock::new();

/// Saves the terminal's settings and installs the handler. Call once, before the first prompt;
/// later calls do nothing. `message` is printed on interrupt (e.g. "nothing was stored").
pub fn install(message: &str) -> Result<(), String> {
    set_message(message);
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    save_terminal();
    ctrlc::set_handler(|| {
        if CRITICAL.load(Ordering::SeqCst) > 0 {
            PENDING.store(true, Ordering::SeqCst);
        } else {
            restore_and_exit();
        }
    })
    .map_err(|e| format!("could not install the Ctrl-C handler: {e}"))?;
    let _ = INSTALLED.set(());
    Ok(())
}

/// Changes what an interrupt says from now on (e.g. once credentials are stored).
pub fn set_message(message: &str) {
    *MESSAGE.lock().unwrap_or_else(|p| p.into_inner()) = Some(message.to_string());
}

/// Held while something must not be cut short; an interrupt waits for it to be dropped.
#[must_use = "the section ends when the guard is dropped"]
pub struct Critical(());

/// Starts a section that an interrupt must not cut short.
pub fn critical() -> Critical {
    CRITICAL.fetch_add(1, Ordering::SeqCst);
    Critical(())
}

impl Drop for Critical {
    fn drop(&mut self) {
        let left = CRITICAL.fetch_sub(1, Ordering::SeqCst) - 1;
        if left == 0 && PENDING.load(Ordering::SeqCst) {
            restore_and_exit();
        }
    }
}

/// Puts the terminal back as it was at [`install`] and shows the cursor. Also useful after a
/// prompt failed for another reason.
pub fn restore_terminal() {
    #[cfg(unix)]
    if let Some(saved) = SAVED_TERMIOS.get() {
        // SAFETY: tcsetattr reads the struct we pass; fd 0 is only touched when it was a
        // terminal at install time (otherwise nothing was saved).
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, saved);
        }
    }
    let term = console::Term::stderr();
    if term.is_term() {
        let _ = term.show_cursor();
    }
}

fn restore_and_exit() -> ! {
    let message = MESSAGE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .unwrap_or_default();
    exit_interrupted(&message, &[]);
}

/// Ends the run after Ctrl-C: the terminal put back, then one "Interrupted: `message`" line (and
/// `more` lines) on a fresh line, whichever of the handler and a prompt's caller gets here first;
/// exit 130.
pub fn exit_interrupted(message: &str, more: &[&str]) -> ! {
    restore_terminal();
    if !ANNOUNCED.swap(true, Ordering::SeqCst) {
        // Start on a fresh line: the interrupt usually lands in the middle of a prompt.
        let mut text = format!(
            "\nInterrupted{}{message}",
            if message.is_empty() { "" } else { ": " }
        );
        for line in more {
            text.push('\n');
            text.push_str(line);
        }
        eprintln!("{text}");
        std::process::exit(EXIT_INTERRUPTED);
    }
    // The other path is printing and exiting: wait for it rather than race it.
    loop {
        std::thread::park();
    }
}

#[cfg(unix)]
fn save_terminal() {
    // SAFETY: isatty and tcgetattr only read; the struct is fully written by a successful call.
    unsafe {
        if libc::isatty(libc::STDIN_FILENO) != 1 {
            return;
        }
        let mut t = std::mem::MaybeUninit::<libc::termios>::uninit();
        if libc::tcgetattr(libc::STDIN_FILENO, t.as_mut_ptr()) == 0 {
            let _ = SAVED_TERMIOS.set(t.assume_init());
        }
    }
}

#[cfg(not(unix))]
fn save_terminal() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_sections_nest_and_unwind() {
        let before = CRITICAL.load(Ordering::SeqCst);
        {
            let _a = critical();
            let _b = critical();
            assert_eq!(CRITICAL.load(Ordering::SeqCst), before + 2);
        }
        assert_eq!(CRITICAL.load(Ordering::SeqCst), before);
        assert!(!PENDING.load(Ordering::SeqCst));
    }
}
