//! The wizard driven by a scripted prompter against the in-process sandbox, with the real checks,
//! a memory keyring and a temporary config directory.
//!
//! Why one file of about 600 lines: each test is one scripted conversation, spelled out answer by
//! answer so that it reads like the session it pins down.

use secrecy::{ExposeSecret, SecretString};

use super::wizard::{self, Outcome, WizardEnv, WizardError, WizardOptions};
use super::LiveChecker;
use crate::cli::{ColorChoice, Format, GlobalArgs, TargetArgs};
use crate::credentials::{ConfigDir, MemoryStore, SecretKind, SecretStore};
use crate::exit::Exit;
use crate::inputs::resolve::{self as inputs, Inputs, ProfileDefaults, Secret, Sources};
use crate::model::{CheckId, SetupPath};
use crate::sandbox::{fixtures, Sandbox, SandboxConfig};
use crate::ui::prompt::{Answer, PromptError, Prompter, ScriptedPrompter, Validate};

/// One sandbox, keyring and config directory, shared by the runs of a test (for re-runs).
struct Harness {
    sandbox: Sandbox,
    store: MemoryStore,
    _tmp: tempfile::TempDir,
    dir: ConfigDir,
}

impl Harness {
    fn new(scenario: &str) -> Harness {
        let sandbox = Sandbox::start(SandboxConfig::scenario(scenario)).expect("sandbox starts");
        // Always the same length of path, whatever TMPDIR says: the screens pinned below wrap
        // the line that names it before the path is normalised.
        let tmp = tempfile::Builder::new()
            .prefix("wizard")
            .tempdir_in(std::path::Path::new("/tmp"))
            .unwrap();
        let dir = ConfigDir::at(tmp.path().to_path_buf());
        Harness {
            sandbox,
            store: MemoryStore::new(),
            _tmp: tmp,
            dir,
        }
    }

    fn target(&self) -> TargetArgs {
        TargetArgs {
            instance: Some(self.sandbox.url()),
            ..TargetArgs::default()
        }
    }

    fn profile(&self) -> String {
        crate::instance::Instance::parse(&self.sandbox.url())
            .unwrap()
            .profile_name()
    }

    fn stored(&self, kind: SecretKind) -> Option<String> {
        self.store
            .get(&self.profile(), kind)
            .unwrap()
            .map(|s| s.expose_secret().to_string())
    }

    /// Runs the wizard with `prompter`; returns its outcome.
    fn run(
        &self,
        prompter: &mut dyn Prompter,
        target: &TargetArgs,
        opts: WizardOptions,
    ) -> Result<Outcome, WizardError> {
        let global = GlobalArgs {
            format: Format::Human,
            no_input: true,
            color: ColorChoice::Never,
            verbose: false,
            timeout: std::time::Duration::from_secs(10),
            deadline: std::time::Duration::from_secs(60),
            ca_cert: None,
        };
        let options = crate::servicenow::ClientOptions {
            timeout: global.timeout,
            ..Default::default()
        };
        let mut checker = LiveChecker::new(options.clone(), false).unwrap();
        let mut fixer = LiveChecker::new(options, false).unwrap();
        let store = &self.store;
        let dir = &self.dir;
        let mut resolve = |t: &TargetArgs| -> anyhow::Result<Inputs> {
            let env = |_: &str| None;
            let mut stdin: &[u8] = b"";
            let stored = Stored(store);
            let profile = |name: &str| -> Result<Option<ProfileDefaults>, String> {
                dir.load_profile(name)
                    .map(|p| p.map(ProfileDefaults::from))
                    .map_err(|e| e.to_string())
            };
            let mut sources = Sources {
                env: &env,
                stdin: &mut stdin,
                stored: &stored,
                profile: &profile,
                prompter: None,
            };
            Ok(inputs::resolve(t, &mut sources)?)
        };
        let mut env = WizardEnv {
            prompter,
            checker: &mut checker,
            resolve: &mut resolve,
            store: &self.store,
            dir: &self.dir,
            fixer: Some(&mut fixer),
        };
        wizard::run(&mut env, target, opts)
    }
}

/// The memory keyring as the inputs' stored-secrets source.
struct Stored<'a>(&'a MemoryStore);

impl inputs::StoredSecrets for Stored<'_> {
    fn get(&self, profile: &str, secret: Secret) -> Result<Option<SecretString>, String> {
        let kind = match secret {
            Secret::AdminPassword => SecretKind::AdminPassword,
            Secret::ClientSecret => SecretKind::ClientSecret,
            Secret::Password => SecretKind::Password,
        };
        self.0.get(profile, kind).map_err(|e| e.to_string())
    }
}

fn assert_no_secret(transcript: &str) {
    for secret in [
        fixtures::ADMIN_PASSWORD,
        fixtures::CLIENT_SECRET,
        fixtures::SERVICE_PASSWORD,
    ] {
        assert!(
            !transcript.contains(secret),
            "a secret was shown:\n{transcript}"
        );
    }
}

/// Answers from the app path's admin sign-in up to the first step.
fn admin_sign_in() -> Vec<Answer> {
    vec![
        Answer::Default,  // path: app
        Answer::Yes,      // use admin credentials
        Answer::text(""), // admin user: the default, admin
        Answer::secret(fixtures::ADMIN_PASSWORD),
    ]
}

fn oauth_values() -> Vec<Answer> {
    vec![
        Answer::text(fixtures::CLIENT_ID),
        Answer::secret(fixtures::CLIENT_SECRET),
    ]
}

fn user_values() -> Vec<Answer> {
    vec![
        Answer::text(""), // user name: the default, incident.io
        Answer::secret(fixtures::SERVICE_PASSWORD),
    ]
}

/// All green with an admin: sign in, check the OAuth and user steps with their values, keep no
/// admin password.
fn happy_answers() -> Vec<Answer> {
    let mut answers = admin_sign_in();
    answers.push(Answer::pick("check now")); // OAuth step
    answers.extend(oauth_values());
    answers.push(Answer::pick("check now")); // service user step
    answers.extend(user_values());
    answers.push(Answer::No); // keep the admin password? no
    answers
}

/// The admin path without admin credentials: every step done by hand, connect checked last.
fn no_admin_answers() -> Vec<Answer> {
    let mut answers = vec![
        Answer::pick("admin:"), // the admin path
        Answer::No,             // no admin credentials
        Answer::pick("done"),   // app (optional)
        Answer::pick("done"),   // OAuth
    ];
    answers.extend(oauth_values());
    answers.push(Answer::pick("done")); // service user
    answers.extend(user_values());
    answers.push(Answer::pick("done")); // roles
    answers
}

#[test]
fn happy_path_checks_each_step_stores_the_credentials_and_hands_off() {
    let h = Harness::new("healthy-app");
    let mut p = ScriptedPrompter::new(happy_answers());
    let outcome = h
        .run(&mut p, &h.target(), WizardOptions::default())
        .unwrap();
    let t = p.transcript();
    assert_eq!(p.remaining(), 0, "{t}");
    assert_eq!(outcome.report.exit(), Exit::Ok, "{t}");
    assert!(outcome.stored.is_some());
    assert!(
        t.contains("Step 1 of 6: Install the incident.io app: already done"),
        "{t}"
    );
    assert!(t.contains("OAuth application is configured"), "{t}");
    assert!(t.contains("Service user is configured"), "{t}");
    assert!(t.contains("credentials work"), "{t}");
    assert!(
        t.contains("Settings → Integrations → ServiceNow → Connect"),
        "{t}"
    );
    assert!(
        t.contains(fixtures::CLIENT_ID),
        "the client id is shown: {t}"
    );
    assert!(
        t.contains("snconnect credentials show --reveal --profile"),
        "{t}"
    );
    assert_no_secret(t);

    assert_eq!(
        h.stored(SecretKind::ClientSecret).as_deref(),
        Some(fixtures::CLIENT_SECRET)
    );
    assert_eq!(
        h.stored(SecretKind::Password).as_deref(),
        Some(fixtures::SERVICE_PASSWORD)
    );
    assert_eq!(h.stored(SecretKind::AdminPassword), None, "not asked for");
    let profile = h.dir.load_profile(&h.profile()).unwrap().unwrap();
    assert_eq!(profile.client_id.as_deref(), Some(fixtures::CLIENT_ID));
    assert_eq!(profile.path, Some(SetupPath::App));
    assert_eq!(profile.admin_user, None);
}

/// Runs a closure the first time a text containing `trigger` is shown: a person fixing the
/// instance by hand between two checks.
struct FixingPrompter<F: FnMut()> {
    inner: ScriptedPrompter,
    trigger: &'static str,
    fix: F,
    fixed: bool,
}

impl<F: FnMut()> Prompter for FixingPrompter<F> {
    fn say(&mut self, text: &str) {
        self.inner.say(text);
        if !self.fixed && text.contains(self.trigger) {
            self.fixed = true;
            (self.fix)();
        }
    }
    fn input(
        &mut self,
        prompt: &str,
        default: Option<&str>,
        validate: Validate<'_>,
    ) -> Result<String, PromptError> {
        self.inner.input(prompt, default, validate)
    }
    fn secret(&mut self, prompt: &str) -> Result<Option<SecretString>, PromptError> {
        self.inner.secret(prompt)
    }
    fn select(&mut self, prompt: &str, items: &[String], d: usize) -> Result<usize, PromptError> {
        self.inner.select(prompt, items, d)
    }
    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool, PromptError> {
        self.inner.confirm(prompt, default)
    }
}

/// A person who unlocks the service user by hand as soon as the wizard says the step does not
/// pass yet, answering with `inner` otherwise.
fn unlocked_by_hand<'h>(
    h: &'h Harness,
    inner: ScriptedPrompter,
) -> FixingPrompter<impl FnMut() + 'h> {
    FixingPrompter {
        inner,
        trigger: "does not pass yet",
        fix: move || {
            h.sandbox.with_db(|db| {
                db.update_where(
                    "sys_user",
                    "user_name=incident.io",
                    &[("locked_out", "false"), ("failed_attempts", "0")],
                )
            });
        },
        fixed: false,
    }
}

#[test]
fn a_broken_step_shows_its_fix_and_passes_once_fixed_by_hand() {
    let h = Harness::new("user-locked");
    let mut answers = admin_sign_in();
    answers.push(Answer::pick("check now")); // OAuth
    answers.extend(oauth_values());
    answers.push(Answer::pick("check now")); // service user: fails, locked out
    answers.extend(user_values());
    answers.push(Answer::pick("instructions")); // read them again
    answers.push(Answer::pick("check now")); // after the fix
    answers.push(Answer::text("")); // user name kept
    answers.push(Answer::secret("")); // password kept
    answers.push(Answer::No); // keep admin password? no
    let mut p = unlocked_by_hand(&h, ScriptedPrompter::new(answers));
    let outcome = h
        .run(&mut p, &h.target(), WizardOptions::default())
        .unwrap();
    let t = p.inner.transcript();
    assert_eq!(p.inner.remaining(), 0, "{t}");
    assert!(t.contains("service_user.locked_out"), "{t}");
    assert!(t.contains("fix:"), "{t}");
    assert!(t.contains("Service user is configured"), "{t}");
    // Issue 14: the step opens with what the survey found, not the generic text, which is
    // shown once, when asked for.
    let step = &t[t.find("Step 3 of 6").expect("the user step")..];
    assert!(
        step.trim_start_matches(|c| c != '\n')
            .trim_start()
            .starts_with("What the check found:"),
        "{step}"
    );
    assert_eq!(
        t.matches("Open User Administration > Users and click New")
            .count(),
        1,
        "{t}"
    );
    assert_eq!(outcome.report.exit(), Exit::Ok, "{t}");
    assert!(outcome.stored.is_some());
    assert_no_secret(t);
}

#[test]
fn without_admin_credentials_every_step_is_guided_and_connect_checked_at_the_end() {
    let h = Harness::new("healthy-admin");
    let mut p = ScriptedPrompter::new(no_admin_answers());
    let outcome = h
        .run(&mut p, &h.target(), WizardOptions::default())
        .unwrap();
    let t = p.transcript();
    assert_eq!(p.remaining(), 0, "{t}");
    assert!(
        !t.contains("Task ACLs") && !t.contains("task records"),
        "{t}"
    );
    assert!(t.contains("Step 5 of 5: Connect as incident.io"), "{t}");
    assert!(t.contains("credentials work"), "{t}");
    let connect = outcome.report.check(CheckId::Connect).unwrap();
    assert_eq!(connect.status, crate::checks::Status::Pass);
    assert!(outcome.stored.is_some());
    assert_eq!(
        h.stored(SecretKind::Password).as_deref(),
        Some(fixtures::SERVICE_PASSWORD)
    );
    let profile = h.dir.load_profile(&h.profile()).unwrap().unwrap();
    assert_eq!(profile.path, Some(SetupPath::Admin));
    assert_no_secret(t);
}

#[test]
fn an_interrupt_stores_nothing() {
    let h = Harness::new("healthy-app");
    let mut answers = admin_sign_in();
    answers.push(Answer::pick("check now"));
    answers.push(Answer::text(fixtures::CLIENT_ID));
    answers.push(Answer::Interrupt); // Ctrl-C at the client secret
    let mut p = ScriptedPrompter::new(answers);
    let err = h
        .run(&mut p, &h.target(), WizardOptions::default())
        .unwrap_err();
    assert!(matches!(err, WizardError::Prompt(PromptError::Interrupted)));
    assert!(err.to_string().contains("nothing was stored"));
    assert!(h.dir.load_profile(&h.profile()).unwrap().is_none());
    for kind in SecretKind::ALL {
        assert_eq!(h.stored(kind), None);
    }
}

#[test]
fn a_rerun_offers_known_values_and_skips_what_passes() {
    let h = Harness::new("healthy-app");
    // First run, keeping the admin password this time.
    let mut answers = admin_sign_in();
    answers.push(Answer::pick("check now"));
    answers.extend(oauth_values());
    answers.push(Answer::pick("check now"));
    answers.extend(user_values());
    answers.push(Answer::Yes); // keep the admin password
    let mut p = ScriptedPrompter::new(answers);
    h.run(&mut p, &h.target(), WizardOptions::default())
        .unwrap();
    assert_eq!(
        h.stored(SecretKind::AdminPassword).as_deref(),
        Some(fixtures::ADMIN_PASSWORD)
    );

    // Second run, by profile: Enter everywhere keeps what is known.
    let target = TargetArgs {
        profile: vec![h.profile()],
        ..TargetArgs::default()
    };
    let mut p = ScriptedPrompter::new([
        Answer::Default,    // path: the stored one
        Answer::Default,    // use admin credentials: yes
        Answer::text(""),   // admin user: the stored one
        Answer::secret(""), // admin password: the stored one
        Answer::Default,    // keep the admin password: yes, as before
    ]);
    let outcome = h.run(&mut p, &target, WizardOptions::default()).unwrap();
    let t = p.transcript();
    assert_eq!(p.remaining(), 0, "{t}");
    assert!(t.contains("Admin user name [admin]"), "{t}");
    assert!(t.contains("Enter keeps the stored one"), "{t}");
    for n in 1..=5 {
        assert!(t.contains(&format!("Step {n} of 6")), "{t}");
    }
    assert_eq!(t.matches("already done").count(), 5, "{t}");
    assert!(
        t.contains("Step 6 of 6: Connect as incident.io: already works"),
        "{t}"
    );
    assert_eq!(outcome.report.exit(), Exit::Ok);
    assert_no_secret(t);
}

/// The app path, the admin's name and a wrong password, "enter them again", the name again: the
/// script up to the second password prompt.
fn refused_then_asked_again() -> Vec<Answer> {
    vec![
        Answer::Default,
        Answer::Yes,
        Answer::text("admin"),
        Answer::secret("wrong-password"),
        Answer::pick("again"),
        Answer::Yes,
        Answer::text("admin"),
    ]
}

#[test]
fn a_refused_admin_password_is_tried_once_then_asked_again() {
    let h = Harness::new("healthy-app");
    let mut answers = refused_then_asked_again();
    answers.extend([
        Answer::secret(fixtures::ADMIN_PASSWORD),
        Answer::Interrupt, // stop at the first step: sign-in is what this test is about
    ]);
    let mut p = ScriptedPrompter::new(answers);
    let err = h
        .run(&mut p, &h.target(), WizardOptions::default())
        .unwrap_err();
    assert!(matches!(err, WizardError::Prompt(PromptError::Interrupted)));
    let t = p.transcript();
    assert!(t.contains("instance.admin_rejected"), "{t}");
    assert!(t.contains("Signed in as 'admin'"), "{t}");
    let failed: Vec<_> = h
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.status == 401)
        .collect();
    // The anonymous instance check, then exactly one refused admin login.
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(!t.contains("wrong-password"));
    // Issue 14: after the refusal the prompt does not offer to keep the refused password.
    let after = &t[t.find("instance.admin_rejected").unwrap()..];
    assert!(!after.contains("Enter keeps the stored one"), "{after}");
}

/// Issue 14: Enter at the password prompt after a refusal does not reuse the refused password
/// (it would be a login whose outcome is known): it asks again.
#[test]
fn enter_after_a_refused_admin_password_asks_again_instead_of_reusing_it() {
    let h = Harness::new("healthy-app");
    let mut answers = refused_then_asked_again();
    answers.extend([
        Answer::secret(""),
        Answer::Yes,
        Answer::text("admin"),
        Answer::secret(fixtures::ADMIN_PASSWORD),
        Answer::Interrupt,
    ]);
    let mut p = ScriptedPrompter::new(answers);
    let _ = h.run(&mut p, &h.target(), WizardOptions::default());
    let t = p.transcript();
    assert!(t.contains("An admin password is needed to sign in"), "{t}");
    assert!(t.contains("Signed in as 'admin'"), "{t}");
    let refused = h
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.status == 401)
        .count();
    assert_eq!(
        refused, 2,
        "one anonymous check and one refused login, no second"
    );
}

#[test]
fn an_instance_that_cannot_be_used_can_be_left() {
    let h = Harness::new("hibernating");
    let mut p = ScriptedPrompter::new([Answer::pick("stop")]);
    let outcome = h
        .run(&mut p, &h.target(), WizardOptions::default())
        .unwrap();
    let t = p.transcript();
    assert!(t.contains("instance.hibernating"), "{t}");
    assert_eq!(outcome.report.exit(), Exit::CannotRun);
    assert!(outcome.stored.is_none());
    assert!(h.dir.load_profile(&h.profile()).unwrap().is_none());
}

#[test]
fn the_instance_is_asked_for_and_validated_as_typed() {
    let h = Harness::new("healthy-app");
    let mut p = ScriptedPrompter::new([
        Answer::text("http://example.com/x"),
        Answer::text(&h.sandbox.url()),
        Answer::Interrupt, // the path question: far enough
    ]);
    let err = h
        .run(&mut p, &TargetArgs::default(), WizardOptions::default())
        .unwrap_err();
    assert!(matches!(err, WizardError::Prompt(PromptError::Interrupted)));
    let t = p.transcript();
    assert!(t.contains("error:"), "the bad address was refused: {t}");
    assert!(t.contains("answers as a ServiceNow instance"), "{t}");
}

#[test]
fn reveal_shows_the_secrets_on_the_hand_off_only() {
    let h = Harness::new("healthy-app");
    let mut answers = admin_sign_in();
    answers.push(Answer::pick("check now"));
    answers.extend(oauth_values());
    answers.push(Answer::pick("check now"));
    answers.extend(user_values());
    answers.push(Answer::No);
    let mut p = ScriptedPrompter::new(answers);
    let opts = WizardOptions {
        reveal: true,
        ..WizardOptions::default()
    };
    h.run(&mut p, &h.target(), opts).unwrap();
    let t = p.transcript();
    let hand_off = &t[t.find("Settings → Integrations").unwrap()..];
    assert!(hand_off.contains(fixtures::CLIENT_SECRET), "{hand_off}");
    assert!(hand_off.contains(fixtures::SERVICE_PASSWORD), "{hand_off}");
    assert!(!hand_off.contains(fixtures::ADMIN_PASSWORD));
    assert_no_secret(&t[..t.find("Settings → Integrations").unwrap()]);
}

#[test]
fn with_one_saved_profile_its_instance_is_the_default() {
    let h = Harness::new("healthy-app");
    let mut answers = admin_sign_in();
    answers.push(Answer::pick("check now"));
    answers.extend(oauth_values());
    answers.push(Answer::pick("check now"));
    answers.extend(user_values());
    answers.push(Answer::No);
    let mut p = ScriptedPrompter::new(answers);
    h.run(&mut p, &h.target(), WizardOptions::default())
        .unwrap();

    let mut p = ScriptedPrompter::new([
        Answer::text(""), // Enter: the saved instance
        Answer::Interrupt,
    ]);
    let err = h
        .run(&mut p, &TargetArgs::default(), WizardOptions::default())
        .unwrap_err();
    assert!(matches!(err, WizardError::Prompt(PromptError::Interrupted)));
    let t = p.transcript();
    assert!(t.contains(&format!("[{}]", h.sandbox.url())), "{t}");
    assert!(t.contains("answers as a ServiceNow instance"), "{t}");
}

#[test]
fn flags_that_answer_a_question_skip_it() {
    let h = Harness::new("healthy-admin");
    // The admin password comes from the keyring here, as it would from the environment.
    h.store
        .set(
            &h.profile(),
            SecretKind::AdminPassword,
            &SecretString::from(fixtures::ADMIN_PASSWORD),
        )
        .unwrap();
    let target = TargetArgs {
        path: Some(SetupPath::Admin),
        admin_user: Some(fixtures::ADMIN_USER.to_string()),
        ..h.target()
    };
    let opts = WizardOptions {
        admin_given: true,
        ..WizardOptions::default()
    };
    let mut p = ScriptedPrompter::new([Answer::Interrupt]); // the first step's question
    let err = h.run(&mut p, &target, opts).unwrap_err();
    assert!(matches!(err, WizardError::Prompt(PromptError::Interrupted)));
    let t = p.transcript();
    assert!(!t.contains("Which way"), "the path was given: {t}");
    assert!(!t.contains("Use admin credentials?"), "{t}");
    assert!(
        t.contains("Using admin user 'admin' from the command line"),
        "{t}"
    );
    assert!(t.contains("Signed in as 'admin'"), "{t}");
    assert!(t.contains("Step 1 of 5"), "{t}");
}

#[test]
fn let_snconnect_do_it_creates_the_user_with_a_stored_generated_password() {
    let h = Harness::new("user-missing");
    let mut answers = admin_sign_in();
    answers.push(Answer::pick("check now")); // OAuth
    answers.extend(oauth_values());
    answers.push(Answer::pick("let snconnect do it")); // the missing user
    answers.push(Answer::Yes); // make the changes
    answers.push(Answer::pick("let snconnect do it")); // roles for the new user
    answers.push(Answer::Yes);
    answers.push(Answer::No); // keep the admin password? no
    let mut p = ScriptedPrompter::new(answers);
    let outcome = h
        .run(&mut p, &h.target(), WizardOptions::default())
        .unwrap();
    let t = p.transcript();
    assert_eq!(p.remaining(), 0, "{t}");
    assert!(t.contains("Generated a new service user password"), "{t}");
    assert!(t.contains("Service user is configured"), "{t}");
    assert!(t.contains("Roles passes"), "{t}");
    assert_eq!(outcome.report.exit(), Exit::Ok, "{t}");
    let generated = h
        .stored(SecretKind::Password)
        .expect("the generated password is stored");
    assert!(
        !t.contains(&generated),
        "the generated password was shown: {t}"
    );
    assert_no_secret(t);
}

#[test]
fn declining_the_plan_brings_the_step_menu_back_without_asking_or_checking() {
    let h = Harness::new("user-locked");
    let mut answers = admin_sign_in();
    answers.push(Answer::pick("check now")); // OAuth
    answers.extend(oauth_values());
    answers.push(Answer::pick("let snconnect do it")); // the locked user
    answers.push(Answer::No); // not now: the menu must come back, not the user's values
    answers.push(Answer::pick("let snconnect do it"));
    answers.push(Answer::Yes);
    answers.extend(user_values()); // the password is not known until now
    answers.push(Answer::No); // keep the admin password? no
    let mut p = ScriptedPrompter::new(answers);
    let outcome = h
        .run(&mut p, &h.target(), WizardOptions::default())
        .unwrap();
    let t = p.transcript();
    assert_eq!(p.remaining(), 0, "{t}");
    let declined = t.find("Nothing was changed").expect("declined");
    let next = &t[declined..];
    let menu = next.find("What next?").expect("the menu again");
    let asked = next.find("Service user name").expect("asked once, later");
    assert!(menu < asked, "{t}");
    assert_eq!(t.matches("Service user name").count(), 1, "{t}");
    assert!(t.contains("Service user is configured"), "{t}");
    assert_eq!(outcome.report.exit(), Exit::Ok, "{t}");
    let patches = h
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(patches, 1, "only the accepted plan wrote");
}

/// Issue 11: after "let snconnect do it" created the OAuth entry, Ctrl-C reports exactly what was
/// written where (never "nothing was stored"), the created entry's client id is already in the
/// profile, and the next run resumes from it.
#[test]
fn an_interrupted_run_reports_what_it_wrote_and_the_next_run_resumes_from_it() {
    let h = Harness::new("oauth-missing");
    let mut answers = admin_sign_in();
    answers.push(Answer::pick("let snconnect do it")); // the missing OAuth entry
    answers.push(Answer::Yes); // make the changes
    answers.push(Answer::Interrupt); // Ctrl-C at the next question
    let mut p = ScriptedPrompter::new(answers);
    let err = h
        .run(&mut p, &h.target(), WizardOptions::default())
        .expect_err("interrupted");
    let t = p.transcript().to_string();
    let WizardError::Interrupted { written, .. } = &err else {
        panic!("expected an interrupted run that wrote things, got {err}\n{t}");
    };
    let said = err.to_string();
    assert!(!said.contains("nothing was stored"), "{said}");
    assert!(
        written
            .iter()
            .any(|w| w.starts_with("the generated OAuth client secret in memory")),
        "{written:?}"
    );
    assert!(
        written
            .iter()
            .any(|w| w.contains("create the OAuth application registry entry")),
        "{written:?}"
    );
    let generated = h
        .stored(SecretKind::ClientSecret)
        .expect("the generated client secret is stored");
    assert!(!said.contains(&generated) && !t.contains(&generated));
    let created = h
        .sandbox
        .with_db(|db| {
            db.find("oauth_entity", "name=incident.io")
                .first()
                .and_then(|row| row.get("client_id").cloned())
        })
        .expect("the entry was created");
    assert!(
        written
            .iter()
            .any(|w| w.contains(&format!("client id {created}"))),
        "{written:?}"
    );
    let profile = h.dir.load_profile(&h.profile()).unwrap().unwrap();
    assert_eq!(profile.client_id.as_deref(), Some(created.as_str()));

    // The next run knows the entry: the OAuth step is already done, and the connection works
    // with the kept client id and the stored secret.
    let mut answers = admin_sign_in();
    // The service user's password was never given to this profile: the one step to do.
    answers.push(Answer::pick("check now"));
    answers.extend(user_values());
    answers.push(Answer::No); // keep the admin password? no
    let mut p = ScriptedPrompter::new(answers);
    let outcome = h
        .run(&mut p, &h.target(), WizardOptions::default())
        .unwrap_or_else(|e| panic!("{e}\n{}", p.transcript()));
    let t = p.transcript();
    assert!(
        t.contains("Step 2 of 6: Create the OAuth application: already done"),
        "{t}"
    );
    assert_eq!(outcome.report.exit(), Exit::Ok, "{t}");
}

/// The wizard's text as a person reads it: the sandbox's address (and the profile named after
/// it), the config directory and generated sys_ids normalised, so a snapshot holds only what a
/// change to the wizard changes.
fn screen(transcript: &str, h: &Harness) -> String {
    let text = transcript
        .replace(&h.sandbox.url(), "http://SANDBOX")
        .replace(&h.profile(), "SANDBOX-PROFILE")
        .replace(&h.dir.path().display().to_string(), "CONFIG_DIR");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex == 32 {
            out.push_str("<id>");
            rest = &rest[hex..];
        } else if hex > 0 {
            out.push_str(&rest[..hex]);
            rest = &rest[hex..];
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Issue 14: the wizard's main paths, pinned at 60, 80 and 120 columns: all green with an admin,
/// a broken step fixed by hand, and no admin on the admin path. No line said is wider than the
/// terminal unless it is one word (a link).
#[test]
fn the_main_paths_are_pinned_at_three_widths() {
    for width in [60, 80, 120] {
        let happy = {
            let h = Harness::new("healthy-app");
            let mut p = ScriptedPrompter::new(happy_answers()).with_width(width);
            h.run(&mut p, &h.target(), WizardOptions::default())
                .unwrap();
            screen(p.transcript(), &h)
        };
        let broken = {
            let h = Harness::new("user-locked");
            let mut answers = admin_sign_in();
            answers.push(Answer::pick("check now"));
            answers.extend(oauth_values());
            answers.push(Answer::pick("check now"));
            answers.extend(user_values());
            answers.push(Answer::pick("check now"));
            answers.push(Answer::text(""));
            answers.push(Answer::secret(""));
            answers.push(Answer::No);
            let mut p = unlocked_by_hand(&h, ScriptedPrompter::new(answers).with_width(width));
            h.run(&mut p, &h.target(), WizardOptions::default())
                .unwrap();
            screen(p.inner.transcript(), &h)
        };
        let no_admin = {
            let h = Harness::new("healthy-admin");
            let mut p = ScriptedPrompter::new(no_admin_answers()).with_width(width);
            h.run(&mut p, &h.target(), WizardOptions::default())
                .unwrap();
            screen(p.transcript(), &h)
        };
        for (name, text) in [
            ("happy", &happy),
            ("broken", &broken),
            ("no_admin", &no_admin),
        ] {
            for line in text.lines() {
                // A question line carries the answer typed after it: the question is the prompt
                // library's, and only its own part must fit.
                let line = match line.strip_prefix("? ") {
                    Some(q) => q.split([':', '[']).next().unwrap_or(q),
                    None => line,
                };
                let columns = console::measure_text_width(line);
                let one_word = !line.trim().trim_start_matches("link: ").contains(' ');
                assert!(
                    columns < width || one_word,
                    "{name} at {width}: a line of {columns}:\n{line}"
                );
            }
            insta::assert_snapshot!(format!("wizard_{name}_{width}"), text);
        }
    }
}

/// Issue 16: the ACL step offers the update set; the person imports it (here straight into the
/// sandbox, as an elevated admin would in the UI), and the step's check then passes.
#[test]
fn the_acl_step_writes_an_update_set_that_once_imported_passes() {
    let h = Harness::new("acl-missing");
    let pack = h._tmp.path().join("task-acls.xml");
    let mut answers = admin_sign_in();
    answers.push(Answer::pick("check now")); // OAuth
    answers.extend(oauth_values());
    answers.push(Answer::pick("check now")); // service user
    answers.extend(user_values());
    answers.push(Answer::pick("update set")); // the ACL step: write the pack
    answers.push(Answer::text(pack.to_str().unwrap()));
    answers.push(Answer::pick("check now")); // after the import
    answers.push(Answer::No); // keep the admin password? no
    let sandbox = &h.sandbox;
    let path = pack.clone();
    let mut p = FixingPrompter {
        inner: ScriptedPrompter::new(answers),
        trigger: "To import it:",
        fix: move || {
            let xml = std::fs::read_to_string(&path).expect("the pack was written");
            sandbox
                .with_db(|db| db.import_update_set(&xml, "admin"))
                .expect("the pack imports");
        },
        fixed: false,
    };
    let outcome = h
        .run(&mut p, &h.target(), WizardOptions::default())
        .unwrap();
    let t = p.inner.transcript();
    assert_eq!(p.inner.remaining(), 0, "{t}");
    assert!(p.fixed, "the pack was never offered: {t}");
    assert!(t.contains("Wrote 6 records to"), "{t}");
    assert!(t.contains("Commit Update Set"), "{t}");
    assert!(t.contains("then choose Check now"), "{t}");
    assert!(t.contains("✓ Task ACLs passes."), "{t}");
    assert_eq!(outcome.report.exit(), Exit::Ok, "{t}");
    assert_no_secret(t);
}
