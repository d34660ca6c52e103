//! The one question interactive `apply` asks, answered by a scripted prompter: "no" writes
//! nothing and generates nothing; the question names the number of writes and the instance.

use std::cell::RefCell;

use snconnect::cli::{ApplyArgs, ColorChoice, Format, GlobalArgs, TargetArgs};
use snconnect::commands::apply::{apply, Confirm};
use snconnect::commands::demo::fixture_inputs;
use snconnect::exit::Exit;
use snconnect::model::SetupPath;
use snconnect::sandbox::{Sandbox, SandboxConfig};

struct Scripted {
    answer: bool,
    asked: RefCell<Vec<String>>,
}

impl Confirm for Scripted {
    fn confirm(&self, question: &str) -> bool {
        self.asked.borrow_mut().push(question.to_string());
        self.answer
    }
}

fn global() -> GlobalArgs {
    GlobalArgs {
        format: Format::Human,
        no_input: false,
        color: ColorChoice::Never,
        verbose: false,
        timeout: std::time::Duration::from_secs(10),
        deadline: std::time::Duration::from_secs(60),
        ca_cert: None,
    }
}

fn args() -> ApplyArgs {
    ApplyArgs {
        global: global(),
        target: TargetArgs::default(),
        dry_run: false,
        yes: false,
        email: None,
        insecure_storage: false,
        reveal: false,
        acl_pack: None,
    }
}

#[test]
fn answering_no_changes_nothing() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("broken")).unwrap();
    let inputs = fixture_inputs(&sandbox.url(), SetupPath::App).unwrap();
    let no = Scripted {
        answer: false,
        asked: RefCell::new(vec![]),
    };
    let exit = apply(&global(), &args(), inputs, Some(&no)).unwrap();
    assert_eq!(exit, Exit::Failed);
    let asked = no.asked.borrow();
    assert_eq!(asked.len(), 1, "asked once: {asked:?}");
    assert!(
        asked[0].starts_with("Apply ") && asked[0].contains(&sandbox.url()),
        "{}",
        asked[0]
    );
    let writes: Vec<String> = sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

#[test]
fn nothing_to_do_asks_nothing() {
    // apply saves the profile when it is done: keep it out of the real config directory. The
    // other test here returns before it reads any configuration.
    let dir = tempfile::tempdir().unwrap();
    // The only test in this binary that runs apply in-process and so reads the variable; the lock
    // keeps the change apart from the tests that set proxy variables.
    {
        let _env = crate::support::env_lock();
        std::env::set_var("SNCONNECT_CONFIG_DIR", dir.path());
    }
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let inputs = fixture_inputs(&sandbox.url(), SetupPath::App).unwrap();
    let asker = Scripted {
        answer: false,
        asked: RefCell::new(vec![]),
    };
    let exit = apply(&global(), &args(), inputs, Some(&asker)).unwrap();
    assert_eq!(exit, Exit::Ok);
    assert!(asker.asked.borrow().is_empty());
    assert!(
        dir.path().join("profiles").exists(),
        "the profile went to the temp dir"
    );
}

#[test]
fn the_wizard_prompter_confirms_for_apply_and_a_failed_question_is_no() {
    use snconnect::ui::prompt::{Answer, ScriptedPrompter};
    use std::cell::RefCell;
    let p = RefCell::new(ScriptedPrompter::new([
        Answer::Yes,
        Answer::No,
        Answer::Interrupt,
    ]));
    assert!(p.confirm("Apply 1 write?"));
    assert!(!p.confirm("Apply 1 write?"));
    assert!(
        !p.confirm("Apply 1 write?"),
        "Ctrl-C at the question is a no"
    );
}
