//! Questions to a person, behind a trait so the wizard can be driven by a script in tests.
//!
//! [`TerminalPrompter`] asks on stderr with dialoguer (stdout stays free for a report);
//! [`ScriptedPrompter`] answers from a list and keeps a transcript of everything shown, so unit
//! tests can assert what a person would have read — including that no secret was on screen.

use std::collections::VecDeque;
use std::fmt;
use std::io;

use console::Term;
use secrecy::SecretString;

/// Why a question got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptError {
    /// Ctrl-C. The terminal prompter normally never returns this (the interrupt handler ends the
    /// process first), but a scripted run uses it to test what happens after an interrupt.
    Interrupted,
    /// The input ended (the terminal went away, or stdin reached its end).
    Closed,
    /// Any other terminal failure.
    Terminal(String),
}

impl fmt::Display for PromptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromptError::Interrupted => f.write_str("interrupted"),
            PromptError::Closed => f.write_str("the terminal input ended"),
            PromptError::Terminal(e) => write!(f, "the terminal failed: {e}"),
        }
    }
}

impl std::error::Error for PromptError {}

/// Checks a typed answer; `Err` carries the message shown before asking again.
pub type Validate<'a> = &'a dyn Fn(&str) -> Result<(), String>;

/// Accepts anything.
pub fn any(_: &str) -> Result<(), String> {
    Ok(())
}

/// Accepts anything but an empty (or all-blank) answer.
pub fn non_empty(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        Err("an answer is needed here".to_string())
    } else {
        Ok(())
    }
}

/// The questions the wizard asks. Every method may fail with [`PromptError`].
pub trait Prompter {
    /// Shows text to the person (a paragraph, a heading, findings), then a newline; a text that
    /// ends with a newline is followed by a blank line.
    fn say(&mut self, text: &str);

    /// A line of text. Enter on an empty line takes `default` when there is one. The answer is
    /// trimmed and must pass `validate`; until it does the question is asked again.
    fn input(
        &mut self,
        prompt: &str,
        default: Option<&str>,
        validate: Validate<'_>,
    ) -> Result<String, PromptError>;

    /// Hidden input. `Ok(None)` for an empty answer (which callers read as "keep what is known"
    /// or "none").
    fn secret(&mut self, prompt: &str) -> Result<Option<SecretString>, PromptError>;

    /// One of `items`, by index; the cursor starts on `default`.
    fn select(
        &mut self,
        prompt: &str,
        items: &[String],
        default: usize,
    ) -> Result<usize, PromptError>;

    /// Yes or no; Enter takes `default`.
    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool, PromptError>;
}

fn from_dialoguer(e: dialoguer::Error) -> PromptError {
    let dialoguer::Error::IO(io) = e;
    match io.kind() {
        io::ErrorKind::Interrupted => PromptError::Interrupted,
        io::ErrorKind::UnexpectedEof => PromptError::Closed,
        _ => PromptError::Terminal(io.to_string()),
    }
}

/// Asks on the terminal's stderr with dialoguer.
pub struct TerminalPrompter {
    term: Term,
    theme: Box<dyn dialoguer::theme::Theme>,
}

impl TerminalPrompter {
    /// `color` picks dialoguer's colourful theme; without it the plain one, which draws the same
    /// questions with no escape codes for colour.
    pub fn new(color: bool) -> TerminalPrompter {
        let theme: Box<dyn dialoguer::theme::Theme> = if color {
            Box::new(dialoguer::theme::ColorfulTheme::default())
        } else {
            Box::new(dialoguer::theme::SimpleTheme)
        };
        TerminalPrompter {
            term: Term::stderr(),
            theme,
        }
    }
}

impl Prompter for TerminalPrompter {
    fn say(&mut self, text: &str) {
        let width = say_width(self.term.size().1 as usize);
        // A closed stderr leaves nothing to tell; the next question will fail and say so.
        let _ = self.term.write_line(&super::wrap::wrap(text, width));
    }

    fn input(
        &mut self,
        prompt: &str,
        default: Option<&str>,
        validate: Validate<'_>,
    ) -> Result<String, PromptError> {
        let mut q = dialoguer::Input::<String>::with_theme(&*self.theme)
            .with_prompt(prompt)
            .allow_empty(true)
            .validate_with(|s: &String| -> Result<(), String> {
                // dialoguer validates the raw line, before a default is applied.
                let s = s.trim();
                if s.is_empty() && default.is_some() {
                    Ok(())
                } else {
                    validate(s)
                }
            });
        if let Some(d) = default {
            q = q.default(d.to_string());
        }
        let answer = q.interact_text_on(&self.term).map_err(from_dialoguer)?;
        let answer = answer.trim();
        Ok(match (answer.is_empty(), default) {
            (true, Some(d)) => d.to_string(),
            _ => answer.to_string(),
        })
    }

    fn secret(&mut self, prompt: &str) -> Result<Option<SecretString>, PromptError> {
        let value = dialoguer::Password::with_theme(&*self.theme)
            .with_prompt(prompt)
            .allow_empty_password(true)
            .interact_on(&self.term)
            .map_err(from_dialoguer)?;
        Ok((!value.is_empty()).then(|| SecretString::from(value)))
    }

    fn select(
        &mut self,
        prompt: &str,
        items: &[String],
        default: usize,
    ) -> Result<usize, PromptError> {
        dialoguer::Select::with_theme(&*self.theme)
            .with_prompt(prompt)
            .items(items)
            .default(default.min(items.len().saturating_sub(1)))
            .interact_on(&self.term)
            .map_err(from_dialoguer)
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool, PromptError> {
        // A line, not a key: `y` then Enter answers, Enter alone takes the default shown, and
        // no Enter is left over to fall into the next prompt.
        dialoguer::Confirm::with_theme(&*self.theme)
            .with_prompt(prompt)
            .default(default)
            .wait_for_newline(true)
            .interact_on(&self.term)
            .map_err(from_dialoguer)
    }
}

/// The width the wizard's text is wrapped to on a terminal `columns` wide: at least 40 and at
/// most 100 columns (long lines read badly), one short of the edge so nothing wraps twice.
fn say_width(columns: usize) -> usize {
    columns.clamp(40, 100) - 1
}

/// One scripted answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Typed text; empty means pressing Enter.
    Text(String),
    /// Typed hidden text; empty means pressing Enter.
    Secret(String),
    /// The first item whose label contains this text (case-insensitive).
    Pick(String),
    /// Enter on a select: the default item.
    Default,
    Yes,
    No,
    /// Ctrl-C at this question.
    Interrupt,
}

impl Answer {
    pub fn text(s: &str) -> Answer {
        Answer::Text(s.to_string())
    }
    pub fn secret(s: &str) -> Answer {
        Answer::Secret(s.to_string())
    }
    pub fn pick(s: &str) -> Answer {
        Answer::Pick(s.to_string())
    }
}

/// Answers from a script and records a transcript of everything shown and asked.
///
/// A question the script does not expect (no answer left, or the wrong kind of answer) panics
/// with the transcript so far: in a test that is the clearest failure.
#[derive(Debug, Default)]
pub struct ScriptedPrompter {
    answers: VecDeque<Answer>,
    transcript: String,
    /// Wrap what is said as a terminal this wide would show it (`None`: as given).
    width: Option<usize>,
}

impl ScriptedPrompter {
    pub fn new(answers: impl IntoIterator<Item = Answer>) -> ScriptedPrompter {
        ScriptedPrompter {
            answers: answers.into_iter().collect(),
            transcript: String::new(),
            width: None,
        }
    }

    /// Says things wrapped as [`TerminalPrompter`] would on a terminal `columns` wide.
    pub fn with_width(mut self, columns: usize) -> ScriptedPrompter {
        self.width = Some(say_width(columns));
        self
    }

    /// Everything shown and asked, with the answers as a person would see them (secrets as `*`).
    pub fn transcript(&self) -> &str {
        &self.transcript
    }

    /// Answers the script still holds; a finished test expects none.
    pub fn remaining(&self) -> usize {
        self.answers.len()
    }

    fn next(&mut self, question: &str) -> Answer {
        match self.answers.pop_front() {
            Some(a) => a,
            None => panic!(
                "the script has no answer for {question:?}; transcript so far:\n{}",
                self.transcript
            ),
        }
    }

    fn unexpected(&self, question: &str, answer: &Answer) -> ! {
        panic!(
            "the script answered {question:?} with {answer:?}; transcript so far:\n{}",
            self.transcript
        )
    }
}

impl Prompter for ScriptedPrompter {
    fn say(&mut self, text: &str) {
        match self.width {
            Some(width) => self.transcript.push_str(&super::wrap::wrap(text, width)),
            None => self.transcript.push_str(text),
        }
        self.transcript.push('\n');
    }

    fn input(
        &mut self,
        prompt: &str,
        default: Option<&str>,
        validate: Validate<'_>,
    ) -> Result<String, PromptError> {
        loop {
            let shown = match default {
                Some(d) => format!("? {prompt} [{d}]: "),
                None => format!("? {prompt}: "),
            };
            self.transcript.push_str(&shown);
            let answer = match self.next(prompt) {
                Answer::Text(t) => t,
                Answer::Interrupt => return Err(PromptError::Interrupted),
                other => self.unexpected(prompt, &other),
            };
            self.transcript.push_str(&answer);
            self.transcript.push('\n');
            let answer = answer.trim().to_string();
            if answer.is_empty() {
                if let Some(d) = default {
                    return Ok(d.to_string());
                }
            }
            match validate(&answer) {
                Ok(()) => return Ok(answer),
                Err(why) => {
                    self.transcript.push_str(&format!("  error: {why}\n"));
                }
            }
        }
    }

    fn secret(&mut self, prompt: &str) -> Result<Option<SecretString>, PromptError> {
        self.transcript.push_str(&format!("? {prompt}: "));
        let answer = match self.next(prompt) {
            Answer::Secret(s) => s,
            Answer::Interrupt => return Err(PromptError::Interrupted),
            other => self.unexpected(prompt, &other),
        };
        self.transcript
            .push_str(if answer.is_empty() { "" } else { "[hidden]" });
        self.transcript.push('\n');
        Ok((!answer.is_empty()).then(|| SecretString::from(answer)))
    }

    fn select(
        &mut self,
        prompt: &str,
        items: &[String],
        default: usize,
    ) -> Result<usize, PromptError> {
        self.transcript.push_str(&format!("? {prompt}\n"));
        for (i, item) in items.iter().enumerate() {
            let mark = if i == default { ">" } else { " " };
            self.transcript.push_str(&format!("  {mark} {item}\n"));
        }
        let chosen = match self.next(prompt) {
            Answer::Default => default,
            Answer::Pick(want) => {
                let want = want.to_lowercase();
                match items.iter().position(|i| i.to_lowercase().contains(&want)) {
                    Some(i) => i,
                    None => self.unexpected(prompt, &Answer::Pick(want)),
                }
            }
            Answer::Interrupt => return Err(PromptError::Interrupted),
            other => self.unexpected(prompt, &other),
        };
        self.transcript
            .push_str(&format!("  chose: {}\n", items[chosen]));
        Ok(chosen)
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool, PromptError> {
        let hint = if default { "Y/n" } else { "y/N" };
        self.transcript.push_str(&format!("? {prompt} [{hint}] "));
        let yes = match self.next(prompt) {
            Answer::Yes => true,
            Answer::No => false,
            Answer::Default => default,
            Answer::Interrupt => return Err(PromptError::Interrupted),
            other => self.unexpected(prompt, &other),
        };
        self.transcript.push_str(if yes { "yes\n" } else { "no\n" });
        Ok(yes)
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn input_takes_the_default_on_enter_and_asks_again_until_valid() {
        let mut p =
            ScriptedPrompter::new([Answer::text(""), Answer::text("  "), Answer::text(" acme ")]);
        let got = p.input("instance", Some("kept"), &non_empty).unwrap();
        assert_eq!(got, "kept");
        let got = p.input("instance", None, &non_empty).unwrap();
        assert_eq!(got, "acme");
        assert!(p.transcript().contains("error: an answer is needed here"));
        assert_eq!(p.remaining(), 0);
    }

    #[test]
    fn secrets_are_never_written_to_the_transcript() {
        let mut p = ScriptedPrompter::new([Answer::secret("hunter2"), Answer::secret("")]);
        let s = p.secret("password").unwrap().unwrap();
        assert_eq!(s.expose_secret(), "hunter2");
        assert!(p.secret("again").unwrap().is_none());
        assert!(!p.transcript().contains("hunter2"), "{}", p.transcript());
    }

    #[test]
    fn select_picks_by_label_or_default() {
        let items = vec!["Check now".to_string(), "Skip this step".to_string()];
        let mut p = ScriptedPrompter::new([Answer::pick("skip"), Answer::Default]);
        assert_eq!(p.select("next?", &items, 0).unwrap(), 1);
        assert_eq!(p.select("next?", &items, 0).unwrap(), 0);
    }

    #[test]
    fn an_interrupt_is_reported_to_the_caller() {
        let mut p = ScriptedPrompter::new([Answer::Interrupt]);
        assert_eq!(p.confirm("go?", true), Err(PromptError::Interrupted));
    }

    #[test]
    #[should_panic(expected = "no answer")]
    fn an_unexpected_question_fails_the_test() {
        let mut p = ScriptedPrompter::new([]);
        let _ = p.confirm("go?", true);
    }
}
