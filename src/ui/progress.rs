//! A spinner on stderr while requests are in flight, drawn only on a terminal.
//!
//! stdout carries the report alone, so the spinner never touches it; off a terminal (CI, pipes)
//! nothing is drawn at all, not even a final line (`verify_demo::off_a_terminal_no_spinner_is_drawn`
//! pins that on the real binary).

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Spinner {
    bar: Option<ProgressBar>,
}

impl Spinner {
    /// Starts a spinner when stderr is a terminal; otherwise a spinner that draws nothing.
    pub fn start(message: &str) -> Spinner {
        let is_terminal = console::Term::stderr().is_term()
            && std::env::var("TERM").map_or(true, |t| t != "dumb");
        Spinner::start_if(is_terminal, message)
    }

    pub fn start_if(enabled: bool, message: &str) -> Spinner {
        if !enabled {
            return Spinner { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(message.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        Spinner { bar: Some(bar) }
    }

    pub fn set_message(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_string());
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
