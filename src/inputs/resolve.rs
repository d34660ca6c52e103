//! Resolves every input of a run once, so nothing deeper reads the environment, stdin, the keyring
//! or the terminal.
//!
//! Order, per the contract: flag or stdin (`--*-stdin`), then the environment, then what the
//! profile stored (keyring for secrets, the profile file for the rest), then a prompt — only when
//! a person is at a terminal and did not say `--no-input`. What is still missing is not an error
//! here: verify reports the checks that need it as skipped, naming the flag and the variable.
//!
//! Every source sits behind a small trait or closure ([`Sources`]), so the order is unit-tested
//! without a terminal, a keyring or a process environment.

use std::io::BufRead;

use secrecy::{ExposeSecret, SecretString};

pub use super::{AdminAuth, Inputs, ProfileDefaults, Secret, ADMIN_TOKEN_ENV};
use crate::cli::TargetArgs;
use crate::exit::UserError;
use crate::instance::Instance;
use crate::model::SetupPath;
use crate::requirements::DEFAULT_USERNAME;

/// Reads secrets a profile stored. The seam to `crate::credentials`: the real implementation reads
/// the OS keyring (and the opt-in plain file); tests use a map.
pub trait StoredSecrets {
    /// `Ok(None)` when nothing is stored; `Err` says why the store could not be read.
    fn get(&self, profile: &str, secret: Secret) -> Result<Option<SecretString>, String>;
}

/// No stored secrets at all (tests; or a store that could not be opened, with the reason).
pub struct NoStoredSecrets(pub Option<String>);

impl StoredSecrets for NoStoredSecrets {
    fn get(&self, _: &str, _: Secret) -> Result<Option<SecretString>, String> {
        match &self.0 {
            Some(why) => Err(why.clone()),
            None => Ok(None),
        }
    }
}

/// Asks a person, on stderr. Present only when prompting is allowed.
pub trait Prompter {
    /// `None` when the answer is empty (the person chose to skip).
    fn text(&self, prompt: &str) -> Option<String>;
    fn secret(&self, prompt: &str) -> Option<SecretString>;
}

/// Where inputs come from, injected.
pub struct Sources<'a> {
    /// A process environment variable (only the secret-bearing ones are read here; clap reads the
    /// rest, so `--help` never prints a secret).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// stdin, read only when a `--*-stdin` flag asks for it.
    pub stdin: &'a mut dyn BufRead,
    pub stored: &'a dyn StoredSecrets,
    /// The profile's saved defaults, by profile name.
    pub profile: &'a dyn Fn(&str) -> Result<Option<ProfileDefaults>, String>,
    pub prompter: Option<&'a dyn Prompter>,
}

/// Reads the lines `--*-stdin` flags ask for: one secret per line, in the order admin password,
/// client secret, service user password (only those whose flag is set).
fn read_stdin_secrets(
    target: &TargetArgs,
    stdin: &mut dyn BufRead,
) -> Result<Vec<(Secret, SecretString)>, UserError> {
    let wanted: Vec<Secret> = [
        (target.admin_password_stdin, Secret::AdminPassword),
        (target.client_secret_stdin, Secret::ClientSecret),
        (target.password_stdin, Secret::Password),
    ]
    .into_iter()
    .filter_map(|(on, s)| on.then_some(s))
    .collect();
    let mut out = Vec::new();
    for secret in wanted.iter().copied() {
        let mut line = String::new();
        let read = stdin.read_line(&mut line).map_err(|e| {
            UserError::usage(format!(
                "could not read the {} from stdin: {e}",
                secret.label()
            ))
        })?;
        let value = line.trim_end_matches(['\n', '\r']);
        if read == 0 || value.is_empty() {
            let flags: Vec<&str> = wanted.iter().map(|s| s.flag()).collect();
            return Err(UserError::usage(format!(
                "{} expects the {} on line {} of stdin, but it is {}; with {} give one secret per \
                 line in the order admin password, client secret, service user password",
                secret.flag(),
                secret.label(),
                out.len() + 1,
                if read == 0 { "missing" } else { "empty" },
                flags.join(", ")
            )));
        }
        out.push((secret, SecretString::from(value.to_string())));
    }
    Ok(out)
}

/// The environment variables that carry a run's inputs. One that is set but empty is a mistake,
/// never "not given": in CI a secret whose name is mistyped expands to an empty string, and taking
/// that as absent turned a run that verified nothing into a green one.
pub const INPUT_VARIABLES: [&str; 9] = [
    "SNCONNECT_INSTANCE",
    "SNCONNECT_PROFILE",
    "SNCONNECT_ADMIN_USER",
    "SNCONNECT_ADMIN_PASSWORD",
    ADMIN_TOKEN_ENV,
    "SNCONNECT_CLIENT_ID",
    "SNCONNECT_CLIENT_SECRET",
    "SNCONNECT_USERNAME",
    "SNCONNECT_PASSWORD",
];

/// Refuses an input variable that is set but empty (or only white space), naming it.
fn no_empty_variables(env: &dyn Fn(&str) -> Option<String>) -> Result<(), UserError> {
    match INPUT_VARIABLES
        .iter()
        .find(|var| env(var).is_some_and(|v| v.trim().is_empty()))
    {
        Some(var) => Err(UserError::usage(format!(
            "{var} is set but empty (in CI, a secret or variable that does not exist expands to \
             nothing): set it to its value, or unset it"
        ))),
        None => Ok(()),
    }
}

/// `sys_user.user_name`'s length on real instances; longer values are silently truncated there.
pub const MAX_USER_NAME: usize = 40;
/// Client ids are 32 hex characters; a generous bound for other shapes.
pub const MAX_CLIENT_ID: usize = 255;
/// Passwords, client secrets and tokens.
pub const MAX_SECRET: usize = 4096;

/// An input longer than `max` characters is an input error naming it; the value is not echoed
/// (it may be a secret).
fn check_length(what: &str, value: &str, max: usize) -> Result<(), UserError> {
    let n = value.chars().count();
    if n > max {
        return Err(UserError::usage(format!(
            "{what} is {n} characters long; at most {max} are accepted"
        )));
    }
    Ok(())
}

/// Resolves the inputs of a run. Errors are usage errors (exit 2): an invalid instance, no
/// instance at all, an input variable set but empty, or unreadable stdin secrets.
pub fn resolve(target: &TargetArgs, sources: &mut Sources<'_>) -> Result<Inputs, UserError> {
    no_empty_variables(sources.env)?;
    let from_stdin = read_stdin_secrets(target, sources.stdin)?;

    // The instance decides the default profile; a named profile may supply the instance.
    let mut instance_text = target.instance.clone().filter(|s| !s.trim().is_empty());
    // Several profiles are a fleet run, which `verify` resolves one profile at a time.
    if target.profile.len() > 1 {
        return Err(UserError::usage(format!(
            "--profile was given {} times ({}): only verify checks several profiles in one run",
            target.profile.len(),
            target.profile.join(", ")
        )));
    }
    let mut profile_name = target.profile.first().cloned();
    if instance_text.is_none() && profile_name.is_none() {
        if let Some(p) = sources.prompter {
            instance_text = p.text("ServiceNow instance (e.g. acme or acme.service-now.com)");
        }
    }
    let parsed = match &instance_text {
        Some(text) => {
            let (instance, note) = Instance::parse_noting(text).map_err(|e| match e {
                // The address holds a password: it is never echoed.
                crate::instance::InstanceError::Credentials => {
                    UserError::usage(format!("invalid instance: {e}"))
                }
                _ => UserError::usage(format!("invalid instance '{text}': {e}")),
            })?;
            // A browser page's address reduced to its instance, or a punycode host: said once.
            if let Some(note) = note {
                eprintln!("note: {note}");
            }
            Some(instance)
        }
        None => None,
    };
    if profile_name.is_none() {
        profile_name = parsed.as_ref().map(Instance::profile_name);
    }
    let Some(profile_name) = profile_name else {
        return Err(UserError::usage(
            "no instance given: pass --instance (e.g. --instance acme) or set SNCONNECT_INSTANCE",
        ));
    };
    let defaults = (sources.profile)(&profile_name)
        .map_err(|e| UserError::usage(format!("could not read profile '{profile_name}': {e}")))?
        .unwrap_or_default();
    let instance = match parsed {
        Some(i) => i,
        None => {
            let text = defaults.instance.clone().ok_or_else(|| {
                UserError::usage(format!(
                    "profile '{profile_name}' names no instance: pass --instance or set \
                     SNCONNECT_INSTANCE"
                ))
            })?;
            Instance::parse(&text).map_err(|e| {
                UserError::usage(format!(
                    "profile '{profile_name}' holds an invalid instance '{text}': {e}"
                ))
            })?
        }
    };

    let path = target.path.or(defaults.path).unwrap_or(SetupPath::App);
    let username = target
        .username
        .clone()
        .or(defaults.username.clone())
        .unwrap_or_else(|| DEFAULT_USERNAME.to_string());
    let mut store_problem = None;

    // One secret through the whole order.
    let mut secret = |which: Secret, prompt_allowed: bool| -> Option<SecretString> {
        if let Some((_, v)) = from_stdin.iter().find(|(s, _)| *s == which) {
            return Some(v.clone());
        }
        if let Some(v) = (sources.env)(which.env_var()).filter(|v| !v.is_empty()) {
            return Some(SecretString::from(v));
        }
        match sources.stored.get(&profile_name, which) {
            Ok(Some(v)) => return Some(v),
            Ok(None) => {}
            Err(why) => store_problem = Some(why),
        }
        if prompt_allowed {
            if let Some(p) = sources.prompter {
                return p.secret(&format!("{} (leave empty to skip)", which.label()));
            }
        }
        None
    };

    let mut admin_user = target.admin_user.clone().or(defaults.admin_user.clone());
    let admin_token = (sources.env)(ADMIN_TOKEN_ENV).filter(|v| !v.is_empty());
    let admin = if let Some(token) = admin_token.filter(|_| !target.admin_password_stdin) {
        AdminAuth::Bearer(SecretString::from(token))
    } else {
        if admin_user.is_none() {
            if let Some(p) = sources.prompter {
                admin_user =
                    p.text("admin user name (leave empty to skip the configuration checks)");
            }
        }
        match admin_user {
            Some(user) => match secret(Secret::AdminPassword, true) {
                Some(password) => AdminAuth::Basic { user, password },
                None => AdminAuth::Missing(format!(
                    "no admin password for '{user}': give the {}",
                    Secret::AdminPassword.how()
                )),
            },
            None if target.admin_password_stdin
                || (sources.env)(Secret::AdminPassword.env_var())
                    .is_some_and(|v| !v.is_empty()) =>
            {
                AdminAuth::Missing(
                    "an admin password was given but no admin user: pass --admin-user or set \
                     SNCONNECT_ADMIN_USER"
                        .to_string(),
                )
            }
            None => AdminAuth::Missing(format!(
                "no admin credentials: give --admin-user (or SNCONNECT_ADMIN_USER) with the {}, or \
                 set {ADMIN_TOKEN_ENV}",
                Secret::AdminPassword.how()
            )),
        }
    };

    let mut client_id = target.client_id.clone().or(defaults.client_id.clone());
    if client_id.is_none() {
        if let Some(p) = sources.prompter {
            client_id = p.text("OAuth client id (leave empty to skip the connection check)");
        }
    }
    // Resolved even without a client id (only the prompt needs one): `apply` sets a supplied
    // secret on the OAuth entry it creates, whose client id the instance generates.
    let client_secret = secret(Secret::ClientSecret, client_id.is_some());
    let password = secret(Secret::Password, client_id.is_some());
    // A secret that only exists as whitespace is no secret.
    let non_blank = |s: Option<SecretString>| s.filter(|v| !v.expose_secret().trim().is_empty());

    // Lengths no real value reaches: a longer one is a mistake, and would either be cut silently
    // by the instance (user names: sys_user.user_name holds 40 characters, KB2029092) or make a
    // request header the instance refuses.
    check_length(
        "--username (or SNCONNECT_USERNAME)",
        &username,
        MAX_USER_NAME,
    )?;
    if let AdminAuth::Basic { user, password } = &admin {
        check_length(
            "--admin-user (or SNCONNECT_ADMIN_USER)",
            user,
            MAX_USER_NAME,
        )?;
        check_length(
            &Secret::AdminPassword.how(),
            password.expose_secret(),
            MAX_SECRET,
        )?;
    }
    if let Some(id) = &client_id {
        check_length("--client-id (or SNCONNECT_CLIENT_ID)", id, MAX_CLIENT_ID)?;
    }
    for (secret, value) in [
        (Secret::ClientSecret, &client_secret),
        (Secret::Password, &password),
    ] {
        if let Some(v) = value {
            check_length(&secret.how(), v.expose_secret(), MAX_SECRET)?;
        }
    }

    Ok(Inputs {
        instance,
        profile: profile_name,
        path,
        admin,
        client_id,
        client_secret: non_blank(client_secret),
        username,
        password: non_blank(password),
        store_problem,
    })
}

/// Whether prompting is allowed: a person at a terminal, no `--no-input`, no `CI`.
pub fn interactive(no_input: bool) -> bool {
    use std::io::IsTerminal;
    !no_input
        && std::env::var_os("CI").is_none_or(|v| v.is_empty())
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal()
}

/// The wizard's prompter (`crate::ui::prompt`) serves here too: one place draws questions on the
/// terminal. The `RefCell` lets this narrow, `&self` seam share it between the lookups of a run.
/// A question that fails (Ctrl-C, a closed terminal) counts as skipped.
impl<P: crate::ui::prompt::Prompter> Prompter for std::cell::RefCell<P> {
    fn text(&self, prompt: &str) -> Option<String> {
        self.borrow_mut()
            .input(prompt, None, &crate::ui::prompt::any)
            .ok()
            .filter(|s| !s.is_empty())
    }

    fn secret(&self, prompt: &str) -> Option<SecretString> {
        self.borrow_mut().secret(prompt).ok().flatten()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::*;

    struct MapStore(HashMap<(String, &'static str), String>);

    impl StoredSecrets for MapStore {
        fn get(&self, profile: &str, secret: Secret) -> Result<Option<SecretString>, String> {
            Ok(self
                .0
                .get(&(profile.to_string(), secret.env_var()))
                .map(|v| SecretString::from(v.clone())))
        }
    }

    struct Scripted {
        answers: RefCell<Vec<&'static str>>,
        asked: RefCell<Vec<String>>,
    }

    impl Prompter for Scripted {
        fn text(&self, prompt: &str) -> Option<String> {
            self.asked.borrow_mut().push(prompt.to_string());
            let a = self.answers.borrow_mut().remove(0);
            (!a.is_empty()).then(|| a.to_string())
        }
        fn secret(&self, prompt: &str) -> Option<SecretString> {
            self.text(prompt).map(SecretString::from)
        }
    }

    fn target() -> TargetArgs {
        TargetArgs {
            instance: Some("acme".into()),
            ..TargetArgs::default()
        }
    }

    fn run(
        target: &TargetArgs,
        env: &[(&str, &str)],
        stdin: &str,
        stored: &[(&str, Secret, &str)],
        prompter: Option<&dyn Prompter>,
    ) -> Result<Inputs, UserError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env_fn = move |k: &str| env.get(k).cloned();
        let store = MapStore(
            stored
                .iter()
                .map(|(p, s, v)| ((p.to_string(), s.env_var()), v.to_string()))
                .collect(),
        );
        let profile = |name: &str| -> Result<Option<ProfileDefaults>, String> {
            Ok((name == "saved").then(|| ProfileDefaults {
                instance: Some("https://saved.service-now.com".into()),
                path: Some(SetupPath::Admin),
                client_id: Some("saved-client".into()),
                username: Some("svc".into()),
                admin_user: Some("boss".into()),
            }))
        };
        let mut stdin = stdin.as_bytes();
        let mut sources = Sources {
            env: &env_fn,
            stdin: &mut stdin,
            stored: &store,
            profile: &profile,
            prompter,
        };
        resolve(target, &mut sources)
    }

    fn expose(s: &Option<SecretString>) -> Option<&str> {
        s.as_ref().map(|s| s.expose_secret())
    }

    #[test]
    fn an_overlong_input_is_an_input_error_naming_it_without_echoing_it() {
        let long_name = "u".repeat(41);
        // The user name comes from --username (clap also reads SNCONNECT_USERNAME into it).
        let mut t = target();
        t.username = Some(long_name.clone());
        let err = run(&t, &[], "", &[], None).unwrap_err();
        assert!(
            err.message.contains("--username") && err.message.contains("41 characters"),
            "{err}"
        );
        assert!(!err.message.contains(&long_name));
        let huge = "p".repeat(5000);
        let err = run(&target(), &[("SNCONNECT_PASSWORD", &huge)], "", &[], None).unwrap_err();
        assert!(
            err.message.contains("SNCONNECT_PASSWORD") && !err.message.contains(&huge),
            "{err}"
        );
        let forty: String = "u".repeat(40);
        t.username = Some(forty);
        assert!(run(&t, &[], "", &[], None).is_ok());
    }

    #[test]
    fn an_instance_holding_a_password_is_refused_without_echoing_it() {
        let mut t = target();
        t.instance = Some("https://admin:hunter2@acme.service-now.com".into());
        let err = run(&t, &[], "", &[], None).unwrap_err();
        assert_eq!(err.exit, crate::exit::Exit::Usage);
        assert!(!err.message.contains("hunter2"), "{err}");
    }

    #[test]
    fn a_variable_set_but_empty_is_an_input_error_naming_it() {
        for var in INPUT_VARIABLES {
            let err = run(&target(), &[(var, "")], "", &[], None).unwrap_err();
            assert_eq!(err.exit, crate::exit::Exit::Usage, "{var}");
            assert!(
                err.message.starts_with(&format!("{var} is set but empty")),
                "{err}"
            );
            assert!(
                run(&target(), &[(var, "  ")], "", &[], None).is_err(),
                "{var}"
            );
        }
    }

    #[test]
    fn nothing_given_means_defaults_and_missing_credentials() {
        let i = run(&target(), &[], "", &[], None).unwrap();
        assert_eq!(i.instance.as_str(), "https://acme.service-now.com");
        assert_eq!(i.profile, "acme");
        assert_eq!(i.path, SetupPath::App);
        assert_eq!(i.username, "incident.io");
        assert!(
            matches!(&i.admin, AdminAuth::Missing(why) if why.contains("--admin-user") && why.contains("SNCONNECT_ADMIN_PASSWORD"))
        );
        let missing = i.service_missing();
        assert_eq!(missing.len(), 3);
        assert!(missing[1].contains("--client-secret-stdin or SNCONNECT_CLIENT_SECRET"));
    }

    #[test]
    fn stdin_wins_over_environment_over_keyring() {
        let mut t = target();
        t.admin_user = Some("admin".into());
        t.client_id = Some("cid".into());
        t.admin_password_stdin = true;
        t.password_stdin = true;
        let env = [
            ("SNCONNECT_ADMIN_PASSWORD", "from-env"),
            ("SNCONNECT_CLIENT_SECRET", "secret-env"),
            ("SNCONNECT_PASSWORD", "pw-env"),
        ];
        let stored = [
            ("acme", Secret::ClientSecret, "secret-kr"),
            ("acme", Secret::Password, "pw-kr"),
        ];
        let i = run(&t, &env, "admin-stdin\npw-stdin\n", &stored, None).unwrap();
        match &i.admin {
            AdminAuth::Basic { user, password } => {
                assert_eq!(user, "admin");
                assert_eq!(password.expose_secret(), "admin-stdin");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(expose(&i.client_secret), Some("secret-env"));
        assert_eq!(expose(&i.password), Some("pw-stdin"));

        let i = run(&t.clone(), &[], "a\nb\n", &stored, None).unwrap();
        assert_eq!(
            expose(&i.client_secret),
            Some("secret-kr"),
            "keyring after env"
        );
    }

    #[test]
    fn stdin_lines_follow_the_documented_order_and_must_all_be_there() {
        let mut t = target();
        t.client_id = Some("cid".into());
        t.client_secret_stdin = true;
        t.password_stdin = true;
        let i = run(&t, &[], "the-secret\r\nthe-password", &[], None).unwrap();
        assert_eq!(expose(&i.client_secret), Some("the-secret"));
        assert_eq!(expose(&i.password), Some("the-password"));

        let err = run(&t, &[], "only-one\n", &[], None).unwrap_err();
        assert_eq!(err.exit, crate::exit::Exit::Usage);
        assert!(err.message.contains("--password-stdin"), "{}", err.message);
        assert!(!err.message.contains("only-one"), "never echo a secret");
    }

    #[test]
    fn an_admin_password_without_a_user_says_which_is_missing() {
        let i = run(
            &target(),
            &[("SNCONNECT_ADMIN_PASSWORD", "pw")],
            "",
            &[],
            None,
        )
        .unwrap();
        assert!(
            matches!(&i.admin, AdminAuth::Missing(why) if why.contains("no admin user")),
            "{:?}",
            i.admin
        );
    }

    #[test]
    fn admin_token_from_environment_is_used_for_sso_admins() {
        let i = run(
            &target(),
            &[("SNCONNECT_ADMIN_TOKEN", "tok")],
            "",
            &[],
            None,
        )
        .unwrap();
        assert!(matches!(i.admin, AdminAuth::Bearer(ref t) if t.expose_secret() == "tok"));
    }

    #[test]
    fn a_named_profile_supplies_instance_and_defaults() {
        let t = TargetArgs {
            profile: vec!["saved".into()],
            ..TargetArgs::default()
        };
        let stored = [("saved", Secret::AdminPassword, "kr-admin")];
        let i = run(&t, &[], "", &stored, None).unwrap();
        assert_eq!(i.instance.as_str(), "https://saved.service-now.com");
        assert_eq!(i.path, SetupPath::Admin);
        assert_eq!(i.client_id.as_deref(), Some("saved-client"));
        assert_eq!(i.username, "svc");
        assert!(matches!(i.admin, AdminAuth::Basic { ref user, .. } if user == "boss"));
    }

    #[test]
    fn flags_win_over_the_profile() {
        let t = TargetArgs {
            profile: vec!["saved".into()],
            path: Some(SetupPath::App),
            username: Some("other".into()),
            ..TargetArgs::default()
        };
        let i = run(&t, &[], "", &[], None).unwrap();
        assert_eq!(i.path, SetupPath::App);
        assert_eq!(i.username, "other");
    }

    #[test]
    fn no_instance_is_a_usage_error_naming_the_flag() {
        let err = run(&TargetArgs::default(), &[], "", &[], None).unwrap_err();
        assert_eq!(err.exit, crate::exit::Exit::Usage);
        assert!(err.message.contains("--instance"));
        assert!(err.message.contains("SNCONNECT_INSTANCE"));
    }

    #[test]
    fn an_invalid_instance_is_a_usage_error() {
        let t = TargetArgs {
            instance: Some("http://example.com/x".into()),
            ..TargetArgs::default()
        };
        let err = run(&t, &[], "", &[], None).unwrap_err();
        assert_eq!(err.exit, crate::exit::Exit::Usage);
    }

    #[test]
    fn prompts_fill_what_is_missing_and_empty_answers_skip() {
        let p = Scripted {
            answers: RefCell::new(vec!["admin", "pw", "", ""]),
            asked: RefCell::new(vec![]),
        };
        let i = run(&target(), &[], "", &[], Some(&p)).unwrap();
        assert!(matches!(i.admin, AdminAuth::Basic { ref user, .. } if user == "admin"));
        assert!(i.client_id.is_none());
        assert!(i.client_secret.is_none());
        let asked = p.asked.borrow();
        assert_eq!(
            asked.len(),
            3,
            "no client id: neither secret nor password asked beyond it: {asked:?}"
        );
    }

    #[test]
    fn a_supplied_client_secret_is_kept_without_a_client_id_but_never_prompted_for() {
        let i = run(
            &target(),
            &[("SNCONNECT_CLIENT_SECRET", "cs")],
            "",
            &[],
            None,
        )
        .unwrap();
        assert!(i.client_id.is_none());
        assert_eq!(expose(&i.client_secret), Some("cs"));
        let p = Scripted {
            answers: RefCell::new(vec!["admin", "pw", ""]),
            asked: RefCell::new(vec![]),
        };
        let i = run(&target(), &[], "", &[], Some(&p)).unwrap();
        assert!(i.client_secret.is_none());
        assert!(
            p.asked.borrow().iter().all(|q| !q.contains("secret")),
            "{:?}",
            p.asked.borrow()
        );
    }

    #[test]
    fn the_wizard_prompter_answers_here_and_empty_or_interrupted_means_skip() {
        use crate::ui::prompt::{Answer, ScriptedPrompter};
        let p = RefCell::new(ScriptedPrompter::new([
            Answer::Text("admin".into()),
            Answer::Secret("pw".into()),
            Answer::Text(String::new()),
            Answer::Interrupt,
        ]));
        assert_eq!(p.text("admin user name").as_deref(), Some("admin"));
        assert_eq!(expose(&p.secret("admin password")), Some("pw"));
        assert_eq!(p.text("client id"), None);
        assert!(p.secret("password").is_none());
        assert_eq!(p.borrow().remaining(), 0);
    }

    #[test]
    fn no_prompt_for_what_is_already_given() {
        let p = Scripted {
            answers: RefCell::new(vec![]),
            asked: RefCell::new(vec![]),
        };
        let env = [
            ("SNCONNECT_ADMIN_TOKEN", "tok"),
            ("SNCONNECT_CLIENT_SECRET", "s"),
            ("SNCONNECT_PASSWORD", "p"),
        ];
        let mut t = target();
        t.client_id = Some("cid".into());
        run(&t, &env, "", &[], Some(&p)).unwrap();
        assert!(p.asked.borrow().is_empty());
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let env = [
            ("SNCONNECT_ADMIN_TOKEN", "tok-XYZ"),
            ("SNCONNECT_PASSWORD", "pw-XYZ"),
        ];
        let i = run(&target(), &env, "", &[], None).unwrap();
        let shown = format!("{i:?}");
        assert!(!shown.contains("XYZ"), "{shown}");
    }
}
