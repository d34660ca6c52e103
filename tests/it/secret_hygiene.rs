//! Secret hygiene as a tested contract. The harness runs every command in every output format
//! (`snconnect sandbox` serving is left out: it prints its fixture credentials on purpose),
//! with and without `-v`, across scenarios and ways of supplying credentials, and scans stdout,
//! stderr (the JSON and JUnit reports are stdout) and every file snconnect left in its config
//! directory besides the plain-file store itself, for every secret the test supplied and every
//! token the sandbox minted. `--help` offers no flag that takes a secret, and the Debug form of
//! every credential-bearing type is redacted.
//!
//! The secrets are random per run (the sandbox's accounts are re-keyed with them), so a leak of
//! any 12-character piece of one is caught, not only the whole value.

use std::path::Path;
use std::sync::Mutex;

use crate::support::{seed_plain, snconnect, stored_secrets, Run};
use secrecy::SecretString;
use snconnect::credentials::{ConfigDir, Profile, SecretKind};
use snconnect::instance::Instance;
use snconnect::sandbox::db::random_token;
use snconnect::sandbox::{fixtures, Sandbox, SandboxConfig};

/// The secrets of one sandbox: its accounts are re-keyed with these random values.
#[derive(Clone)]
struct Keys {
    admin_password: String,
    service_password: String,
    client_secret: String,
    /// Supplied on purpose where it does not belong (wrong-password runs).
    wrong_password: String,
}

impl Keys {
    fn random() -> Keys {
        Keys {
            admin_password: random_token(24),
            service_password: random_token(24),
            client_secret: random_token(24),
            wrong_password: random_token(24),
        }
    }

    fn all(&self) -> Vec<String> {
        vec![
            self.admin_password.clone(),
            self.service_password.clone(),
            self.client_secret.clone(),
            self.wrong_password.clone(),
        ]
    }
}

/// Starts a scenario with its accounts re-keyed (where the scenario has them) and a lockout
/// threshold high enough that the repeated wrong-password runs do not lock anyone out.
fn rekeyed_sandbox(scenario: &str, keys: &Keys) -> Sandbox {
    let sandbox = Sandbox::start(SandboxConfig {
        lockout_threshold: 10_000,
        ..SandboxConfig::scenario(scenario)
    })
    .unwrap();
    sandbox.with_db(|db| {
        for (user, password) in [
            (fixtures::ADMIN_USER, &keys.admin_password),
            (fixtures::SERVICE_USER, &keys.service_password),
        ] {
            if let Some(id) = db.id_of("sys_user", &format!("user_name={user}")) {
                db.set_password(&id, password).unwrap();
            }
        }
        db.update_where(
            "oauth_entity",
            "name=incident.io",
            &[("client_secret", &keys.client_secret)],
        );
    });
    sandbox
}

/// Everything one run left for a user or a log collector to see.
struct Seen {
    what: String,
    text: String,
}

/// Collects what runs showed, to scan once every secret (minted tokens included) is known.
#[derive(Default)]
struct Exposure(Mutex<Vec<Seen>>);

impl Exposure {
    fn add(&self, what: String, text: String) {
        self.0.lock().unwrap().push(Seen { what, text });
    }

    /// A run's stdout and stderr, and the files it left in `config_dir`.
    fn add_run(&self, what: &str, run: &Run, config_dir: &Path) {
        self.add(format!("{what}: stdout"), run.stdout.clone());
        self.add(format!("{what}: stderr"), run.stderr.clone());
        for (path, text) in neighbours(config_dir) {
            let text = if path.ends_with("refused.json") {
                fingerprints_only(&path, &text)
            } else {
                text
            };
            self.add(format!("{what}: file {path}"), text);
        }
    }

    /// (see [`fingerprints_only`] for the one file that holds token-shaped values on purpose)
    /// Fails naming the output and the secret when any piece of a random secret, or the whole of
    /// a fixed one, shows up; and when anything shaped like a token (40+ letters and digits in a
    /// row) shows up at all. Fixed secrets (the sandbox's fixtures, readable words) are matched
    /// whole: their pieces ("-admin-passw…") are ordinary words in messages.
    fn assert_clean(&self, secrets: &[String], fixed: &[&str]) {
        let seen = self.0.lock().unwrap();
        assert!(!seen.is_empty());
        for s in seen.iter() {
            for secret in secrets {
                if let Some(piece) = leaked_piece(&s.text, secret) {
                    panic!(
                        "{} shows a secret (piece {piece:?} of a {}-character secret):\n{}",
                        s.what,
                        secret.len(),
                        s.text
                    );
                }
            }
            for secret in fixed {
                assert!(
                    !s.text.contains(secret),
                    "{} shows {secret:?}:\n{}",
                    s.what,
                    s.text
                );
            }
            if let Some(run) = token_shaped(&s.text) {
                panic!(
                    "{} shows something token-shaped: {run:?}\n{}",
                    s.what, s.text
                );
            }
        }
    }
}

/// The first 12-character piece of `secret` found in `text`.
fn leaked_piece<'a>(text: &str, secret: &'a str) -> Option<&'a str> {
    const PIECE: usize = 12;
    if secret.len() <= PIECE {
        return text.contains(secret).then_some(secret);
    }
    (0..=secret.len() - PIECE)
        .map(|i| &secret[i..i + PIECE])
        .find(|piece| text.contains(piece))
}

/// A run of 40 or more ASCII letters and digits: longer than any sys_id (32 hex digits), as long
/// as no word, and what an access or refresh token looks like.
fn token_shaped(text: &str) -> Option<&str> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .find(|run| run.len() >= 40)
}

/// Every file under the config dir except the plain-file store itself, which holds secrets by
/// design (0600, opt-in): its neighbours (profiles, temporary and lock files) must not.
fn neighbours(dir: &Path) -> Vec<(String, String)> {
    let store = ConfigDir::at(dir.to_path_buf()).plain_secrets_path();
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path != store {
                let bytes = std::fs::read(&path).unwrap_or_default();
                out.push((
                    path.display().to_string(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ));
            }
        }
    }
    out
}

const FORMATS: [&str; 4] = ["human", "json", "junit", "markdown"];

/// `--format F` with and without `-v`.
fn output_modes() -> Vec<Vec<&'static str>> {
    FORMATS
        .iter()
        .flat_map(|f| [vec!["--format", *f], vec!["--format", *f, "-v"]])
        .collect()
}

/// Sets every secret variable snconnect reads, even for commands that do not use them: a command
/// that echoes its environment would be caught too.
fn secret_env(cmd: &mut assert_cmd::Command, keys: &Keys) {
    cmd.env("SNCONNECT_ADMIN_PASSWORD", &keys.admin_password)
        .env("SNCONNECT_CLIENT_SECRET", &keys.client_secret)
        .env("SNCONNECT_PASSWORD", &keys.service_password);
}

/// How a verify run gets its credentials.
#[derive(Clone, Copy, Debug)]
enum Supply {
    Environment,
    Stdin,
    /// From the plain-file store, seeded for the instance's profile.
    Stored,
    /// A wrong service password from the environment: the token request fails.
    WrongServicePassword,
    /// A wrong admin password: the admin is refused, exit 3.
    WrongAdminPassword,
    /// An OAuth bearer token for the admin (SSO admins), minted from the sandbox.
    AdminToken,
}

fn seed_store(dir: &Path, profile: &str, url: &str, keys: &Keys) {
    seed_plain(
        dir,
        &Profile {
            name: profile.to_string(),
            instance: Some(url.to_string()),
            client_id: Some(fixtures::CLIENT_ID.to_string()),
            username: Some(fixtures::SERVICE_USER.to_string()),
            admin_user: Some(fixtures::ADMIN_USER.to_string()),
            ..Profile::default()
        },
        &[
            (SecretKind::AdminPassword, &keys.admin_password),
            (SecretKind::ClientSecret, &keys.client_secret),
            (SecretKind::Password, &keys.service_password),
        ],
    );
}

/// An access token for the admin from the sandbox's token endpoint, through snconnect's client.
fn admin_token(sandbox: &Sandbox, keys: &Keys) -> Option<String> {
    use secrecy::ExposeSecret;
    use snconnect::servicenow::ClientOptions;
    let client = crate::support::client_for(&sandbox.url(), &ClientOptions::default());
    let granted = crate::support::rt().block_on(client.password_grant(
        fixtures::CLIENT_ID,
        &SecretString::from(keys.client_secret.clone()),
        fixtures::ADMIN_USER,
        &SecretString::from(keys.admin_password.clone()),
    ));
    granted
        .ok()
        .map(|t| t.access_token.expose_secret().to_string())
}

/// One verify run, recorded in `seen`. False when the supply does not apply to the scenario.
fn verify_run(
    sandbox: &Sandbox,
    keys: &Keys,
    supply: Supply,
    mode: &[&str],
    seen: &Exposure,
) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let url = sandbox.url();
    let mut cmd = snconnect(dir.path());
    cmd.args(["verify", "--no-input", "--instance", &url])
        .args(mode)
        .env("SNCONNECT_CLIENT_ID", fixtures::CLIENT_ID);
    match supply {
        Supply::Environment => {
            secret_env(&mut cmd, keys);
            cmd.env("SNCONNECT_ADMIN_USER", fixtures::ADMIN_USER);
        }
        Supply::Stdin => {
            cmd.args(["--admin-user", fixtures::ADMIN_USER])
                .args([
                    "--admin-password-stdin",
                    "--client-secret-stdin",
                    "--password-stdin",
                ])
                .write_stdin(format!(
                    "{}\n{}\n{}\n",
                    keys.admin_password, keys.client_secret, keys.service_password
                ));
        }
        Supply::Stored => {
            let profile = Instance::parse(&url).unwrap().profile_name();
            seed_store(dir.path(), &profile, &url, keys);
        }
        Supply::WrongServicePassword => {
            secret_env(&mut cmd, keys);
            cmd.env("SNCONNECT_ADMIN_USER", fixtures::ADMIN_USER)
                .env("SNCONNECT_PASSWORD", &keys.wrong_password);
        }
        Supply::WrongAdminPassword => {
            secret_env(&mut cmd, keys);
            cmd.env("SNCONNECT_ADMIN_USER", fixtures::ADMIN_USER)
                .env("SNCONNECT_ADMIN_PASSWORD", &keys.wrong_password);
        }
        Supply::AdminToken => {
            let Some(token) = admin_token(sandbox, keys) else {
                return false; // the admin cannot get a token here (OAuth off, hibernating)
            };
            cmd.env("SNCONNECT_ADMIN_TOKEN", &token)
                .env("SNCONNECT_CLIENT_SECRET", &keys.client_secret)
                .env("SNCONNECT_PASSWORD", &keys.service_password);
        }
    }
    let run = Run::of(&mut cmd);
    assert!(
        [0, 1, 3].contains(&run.code),
        "verify {supply:?} {mode:?}: exit {}\n{}",
        run.code,
        run.stderr
    );
    if matches!(supply, Supply::Stored) {
        // The stored secrets were used, not merely present: the admin signed in.
        assert!(
            !run.stdout.contains("input.admin_missing"),
            "{}",
            run.stdout
        );
    }
    seen.add_run(&format!("verify {supply:?} {mode:?}"), &run, dir.path());
    true
}

const SCENARIOS: [&str; 6] = [
    "healthy-app",
    "broken",
    "oauth-no-scope",
    "user-locked",
    "mfa-admin",
    "hibernating-503",
];

const EVERY_SUPPLY: [Supply; 6] = [
    Supply::Environment,
    Supply::Stdin,
    Supply::Stored,
    Supply::WrongServicePassword,
    Supply::WrongAdminPassword,
    Supply::AdminToken,
];

/// Which (supply, output mode) pairs a scenario runs. Every scenario runs every mode with the
/// environment; the healthy one runs every other supply with `-v` in each format (the request
/// log is where a leak is likeliest), `broken` each other supply once, the rest a wrong password.
fn plan(scenario: &str, modes: &[Vec<&'static str>]) -> Vec<(Supply, Vec<&'static str>)> {
    let mut runs: Vec<(Supply, Vec<&'static str>)> = modes
        .iter()
        .map(|m| (Supply::Environment, m.clone()))
        .collect();
    let verbose: Vec<&Vec<&str>> = modes.iter().filter(|m| m.contains(&"-v")).collect();
    match scenario {
        "healthy-app" => {
            for supply in &EVERY_SUPPLY[1..] {
                runs.extend(verbose.iter().map(|m| (*supply, (*m).clone())));
            }
        }
        "broken" => {
            for (i, supply) in EVERY_SUPPLY[1..].iter().enumerate() {
                runs.push((*supply, verbose[i % verbose.len()].clone()));
            }
        }
        _ => runs.push((Supply::WrongServicePassword, verbose[0].clone())),
    }
    runs
}

/// What the plain-file store holds for the profile of `url` in `dir`: the secrets apply generated
/// or setup stored.
fn stored(dir: &Path, url: &str) -> Vec<String> {
    stored_secrets(
        dir,
        url,
        &[
            SecretKind::AdminPassword,
            SecretKind::ClientSecret,
            SecretKind::Password,
        ],
    )
}

/// How apply or setup gets the service secrets.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Service {
    /// Not supplied: apply generates them (and stores them first).
    Generated,
    /// Supplied from the environment.
    Supplied,
}

/// One apply or setup run on a fresh, re-keyed sandbox and config dir. Returns the secrets it
/// involved (the sandbox's keys, what the store holds afterwards, every token minted) and how
/// many secrets the store holds.
fn write_run(
    command: &[&str],
    scenario: &str,
    service: Service,
    mode: &[&str],
    seen: &Exposure,
) -> (Vec<String>, usize) {
    let keys = Keys::random();
    let sandbox = rekeyed_sandbox(scenario, &keys);
    let dir = tempfile::tempdir().unwrap();
    let url = sandbox.url();
    let mut cmd = snconnect(dir.path());
    cmd.args(command)
        .args(["--no-input", "--insecure-storage", "--instance", &url])
        .args(["--admin-user", fixtures::ADMIN_USER])
        .args(mode)
        .env("SNCONNECT_ADMIN_PASSWORD", &keys.admin_password)
        .env("SNCONNECT_CLIENT_ID", fixtures::CLIENT_ID);
    if service == Service::Supplied {
        cmd.env("SNCONNECT_CLIENT_SECRET", &keys.client_secret)
            .env("SNCONNECT_PASSWORD", &keys.service_password);
    }
    let run = Run::of(&mut cmd);
    let what = format!("{command:?} {scenario} {service:?} {mode:?}");
    assert!(
        [0, 1].contains(&run.code),
        "{what}: exit {}\n{}\n{}",
        run.code,
        run.stdout,
        run.stderr
    );
    seen.add_run(&what, &run, dir.path());
    let in_store = stored(dir.path(), &url);
    let count = in_store.len();
    let mut secrets = keys.all();
    secrets.extend(in_store);
    secrets.extend(sandbox.with_db(|db| db.minted_tokens()));
    (secrets, count)
}

/// apply (plans, dry runs, generated and supplied secrets) and setup --no-input (storing what
/// worked, refusing what did not, and with --apply), in every format with and without -v.
fn apply_and_setup(seen: &Exposure, secrets: &Mutex<Vec<String>>, modes: &[Vec<&'static str>]) {
    let add = |(found, _): (Vec<String>, usize)| secrets.lock().unwrap().extend(found);
    for mode in modes {
        let mut with_yes = vec!["--yes"];
        with_yes.extend(mode.iter().copied());
        // A new user and a new OAuth entry: both secrets generated, stored, set on the instance.
        let (found, in_store) = write_run(&["apply"], "empty", Service::Generated, &with_yes, seen);
        assert_eq!(
            in_store, 2,
            "apply generated and stored both secrets ({mode:?})"
        );
        add((found, in_store));
        add(write_run(
            &["setup"],
            "healthy-app",
            Service::Supplied,
            mode,
            seen,
        ));
        if mode.contains(&"-v") {
            add(write_run(
                &["apply"],
                "oauth-missing",
                Service::Generated,
                &with_yes,
                seen,
            ));
        }
        // JUnit and Markdown report checks; a dry-run plan refuses them.
        if !mode.contains(&"junit") && !mode.contains(&"markdown") {
            let mut dry = vec!["--dry-run"];
            dry.extend(mode.iter().copied());
            add(write_run(
                &["apply"],
                "broken",
                Service::Generated,
                &dry,
                seen,
            ));
        }
    }
    let verbose_json = ["--format", "json", "-v"];
    let (found, in_store) = write_run(
        &["apply", "--yes"],
        "oauth-missing",
        Service::Supplied,
        &verbose_json,
        seen,
    );
    assert_eq!(in_store, 0, "supplied secrets are not stored by apply");
    add((found, in_store));
    add(write_run(
        &["setup"],
        "user-locked",
        Service::Supplied,
        &verbose_json,
        seen,
    ));
    add(write_run(
        &["setup", "--apply", "--yes"],
        "user-missing",
        Service::Supplied,
        &verbose_json,
        seen,
    ));
}

/// The harness: verify across scenarios, formats, verbosity and every way of supplying
/// credentials; apply and setup; demo; credentials show; sandbox --list-scenarios. Three threads
/// (two of verify, one of apply and setup).
#[test]
fn no_command_format_or_scenario_shows_a_secret() {
    let seen = Exposure::default();
    let secrets = Mutex::new(Vec::<String>::new());
    let modes = output_modes();

    std::thread::scope(|scope| {
        scope.spawn(|| apply_and_setup(&seen, &secrets, &modes));
        for half in SCENARIOS.chunks(SCENARIOS.len().div_ceil(2)) {
            let (seen, secrets, modes) = (&seen, &secrets, &modes);
            scope.spawn(move || {
                for scenario in half {
                    let keys = Keys::random();
                    let sandbox = rekeyed_sandbox(scenario, &keys);
                    for (supply, mode) in plan(scenario, modes) {
                        let ran = verify_run(&sandbox, &keys, supply, &mode, seen);
                        assert!(ran || *scenario != "healthy-app", "{supply:?} did not run");
                    }
                    let mut all = secrets.lock().unwrap();
                    all.extend(keys.all());
                    all.extend(sandbox.with_db(|db| db.minted_tokens()));
                }
            });
        }
    });

    // The runs did mint tokens (else the token scan proves nothing).
    assert!(secrets.lock().unwrap().len() > 4 * SCENARIOS.len());

    // demo: its sandbox is internal, so the known secrets are the fixtures' and the tokens are
    // caught by their shape.
    let keys = Keys::random();
    for scenario in ["broken", "healthy-app", "oauth-no-scope"] {
        for mode in &modes {
            let dir = tempfile::tempdir().unwrap();
            let mut cmd = snconnect(dir.path());
            cmd.args(["demo", "--scenario", scenario]).args(mode);
            secret_env(&mut cmd, &keys);
            let run = Run::of(&mut cmd);
            assert_eq!(run.code, 0, "demo {scenario} {mode:?}: {}", run.stderr);
            seen.add_run(&format!("demo {scenario} {mode:?}"), &run, dir.path());
        }
    }

    // credentials show (not --reveal, whose job is to print them) and sandbox --list-scenarios.
    for mode in &modes {
        let dir = tempfile::tempdir().unwrap();
        seed_store(dir.path(), "acme", "https://acme.service-now.com", &keys);
        let mut cmd = snconnect(dir.path());
        // `credentials` takes --format only: -v means nothing there.
        let format_only: Vec<&str> = mode.iter().copied().filter(|m| *m != "-v").collect();
        cmd.args(["credentials", "show", "--profile", "acme"])
            .args(&format_only);
        let run = Run::of(&mut cmd);
        // JUnit and Markdown are for check reports: credentials show refuses them as usage
        // errors.
        let junit = mode.contains(&"junit") || mode.contains(&"markdown");
        assert_eq!(
            run.code,
            if junit { 2 } else { 0 },
            "credentials show {mode:?}: {}",
            run.stderr
        );
        if !junit {
            assert!(run.stdout.contains("plain file"), "{}", run.stdout);
        }
        seen.add_run(&format!("credentials show {mode:?}"), &run, dir.path());

        let mut cmd = snconnect(dir.path());
        cmd.args(["sandbox", "--list-scenarios"]).args(mode);
        secret_env(&mut cmd, &keys);
        let run = Run::of(&mut cmd);
        assert!(
            [0, 2].contains(&run.code),
            "sandbox --list-scenarios {mode:?}: {}",
            run.stderr
        );
        seen.add_run(
            &format!("sandbox --list-scenarios {mode:?}"),
            &run,
            dir.path(),
        );
    }

    // The commands that hold no secret at all, with every secret variable set.
    for args in [&["completions", "bash"][..], &["man"], &["--version"]] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = snconnect(dir.path());
        cmd.args(args);
        secret_env(&mut cmd, &keys);
        let run = Run::of(&mut cmd);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        seen.add_run(&format!("{args:?}"), &run, dir.path());
    }

    let mut all = secrets.into_inner().unwrap();
    all.extend(keys.all());
    seen.assert_clean(
        &all,
        &[
            fixtures::ADMIN_PASSWORD,
            fixtures::SERVICE_PASSWORD,
            fixtures::CLIENT_SECRET,
        ],
    );
}

/// The scanner itself: a leak of part of a secret, or of anything token-shaped, is caught.
#[test]
fn the_scanner_catches_whole_and_partial_leaks() {
    let secret = random_token(24);
    assert!(leaked_piece(&format!("x {secret} y"), &secret).is_some());
    assert!(leaked_piece(&format!("x {}… y", &secret[..14]), &secret).is_some());
    assert!(leaked_piece(&format!("x {}", &secret[10..]), &secret).is_some());
    assert!(leaked_piece("nothing here", &secret).is_none());
    assert!(token_shaped(&format!("token={}", random_token(86))).is_some());
    assert!(token_shaped("sys_id=6816f79cc0a8016401c5a33be04be441 ok").is_none());
}

/// The secret variables set to random values while every subcommand prints its help: clap shows
/// an env-backed flag's current value unless told not to, so a secret flag would leak here.
#[test]
fn help_offers_no_flag_that_takes_a_secret() {
    fn walk(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        for arg in cmd.get_arguments() {
            let names = format!(
                "{} {} {:?}",
                arg.get_id(),
                arg.get_long().unwrap_or(""),
                arg.get_value_names()
            )
            .to_ascii_lowercase();
            let secretish = ["password", "secret", "token"]
                .iter()
                .any(|w| names.contains(w));
            assert!(
                !(secretish && arg.get_action().takes_values()),
                "{path:?}: --{} takes a secret as its value",
                arg.get_long().unwrap_or("?")
            );
            if let Some(env) = arg.get_env() {
                let env = env.to_string_lossy().to_ascii_uppercase();
                let secret_env = ["PASSWORD", "SECRET", "TOKEN"]
                    .iter()
                    .any(|w| env.contains(w));
                assert!(
                    !secret_env || arg.is_hide_env_values_set(),
                    "{path:?}: {env} would show its value in --help"
                );
            }
        }
        out.push(path.clone());
        for sub in cmd.get_subcommands() {
            let mut p = path.clone();
            p.push(sub.get_name().to_string());
            walk(sub, p, out);
        }
    }
    let mut paths = Vec::new();
    walk(&snconnect::cli::command(), Vec::new(), &mut paths);
    assert!(paths.len() >= 9, "{paths:?}");

    let keys = Keys::random();
    let token = random_token(40);
    let seen = Exposure::default();
    let dir = tempfile::tempdir().unwrap();
    for path in &paths {
        let mut cmd = snconnect(dir.path());
        cmd.args(path).arg("--help");
        secret_env(&mut cmd, &keys);
        cmd.env("SNCONNECT_ADMIN_TOKEN", &token);
        let run = Run::of(&mut cmd);
        assert_eq!(run.code, 0, "{path:?} --help: {}", run.stderr);
        for value_name in ["<PASSWORD>", "<SECRET>", "<TOKEN>", "<CLIENT_SECRET>"] {
            assert!(!run.stdout.contains(value_name), "{path:?}: {}", run.stdout);
        }
        seen.add_run(&format!("{path:?} --help"), &run, dir.path());
    }
    let mut secrets = keys.all();
    secrets.push(token);
    seen.assert_clean(&secrets, &[]);
}

/// Debug output of every type that carries a credential shows none of it: `{:?}` ends up in
/// logs, panics and error chains without anyone deciding to print a secret.
#[test]
fn debug_of_every_credential_bearing_type_is_redacted() {
    use snconnect::credentials::Lookup;
    use snconnect::inputs::resolve::{AdminAuth, Inputs};
    use snconnect::model::SetupPath;
    use snconnect::servicenow::{Auth, Client, ClientOptions, TokenResponse};

    let pw = random_token(24);
    let secret = random_token(24);
    let access = random_token(86);
    let refresh = random_token(86);
    let s = |v: &str| SecretString::from(v.to_string());
    let instance = Instance::parse("https://acme.service-now.com").unwrap();

    let basic = Auth::basic("admin", s(&pw));
    let bearer = Auth::bearer(s(&access));
    let client = Client::new(&instance, &ClientOptions::default()).unwrap();
    let session = client.session(Auth::basic("admin", s(&pw)));
    let bearer_session = client.session(Auth::bearer(s(&access)));
    let token = TokenResponse {
        access_token: s(&access),
        refresh_token: Some(s(&refresh)),
        scope: Some("useraccount".into()),
        token_type: "Bearer".into(),
        expires_in: Some(1799),
    };
    let inputs = Inputs {
        instance: instance.clone(),
        profile: "acme".into(),
        path: SetupPath::App,
        admin: AdminAuth::Basic {
            user: "admin".into(),
            password: s(&pw),
        },
        client_id: Some("cid".into()),
        client_secret: Some(s(&secret)),
        username: "incident.io".into(),
        password: Some(s(&pw)),
        store_problem: None,
    };
    let admin_bearer = AdminAuth::Bearer(s(&access));
    let found = Lookup::Found {
        value: s(&secret),
        backend: "memory",
    };
    let granted = snconnect::sandbox::auth::Granted {
        body: serde_json::json!({"access_token": access, "refresh_token": refresh}),
        user_name: "incident.io".into(),
    };

    let shown = [
        format!("{basic:?} {basic:#?}"),
        format!("{bearer:?} {bearer:#?}"),
        format!("{client:?} {client:#?}"),
        format!("{session:?} {session:#?}"),
        format!("{bearer_session:?} {bearer_session:#?}"),
        format!("{token:?} {token:#?}"),
        format!("{inputs:?} {inputs:#?}"),
        format!("{admin_bearer:?} {admin_bearer:#?}"),
        format!("{found:?} {found:#?}"),
        format!("{granted:?} {granted:#?}"),
    ];
    for text in &shown {
        for value in [&pw, &secret, &access, &refresh] {
            assert!(leaked_piece(text, value).is_none(), "{text}");
        }
        assert!(token_shaped(text).is_none(), "{text}");
    }
    // Redacted, not empty: the non-secret parts are still there to debug with.
    assert!(shown[0].contains("admin"), "{}", shown[0]);
    assert!(shown[5].contains("useraccount"), "{}", shown[5]);
    assert!(shown[6].contains("incident.io"), "{}", shown[6]);
}

/// The refusal ledger holds keyed fingerprints (HMAC-SHA256, 64 hex characters) and times, by
/// design: it must hold exactly that and nothing else. They are replaced by a placeholder, so
/// that the token-shape scan does not flag them while every secret is still searched for.
fn fingerprints_only(path: &str, text: &str) -> String {
    let ledger: std::collections::BTreeMap<String, u64> = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{path} is not a map of fingerprints to times ({e}): {text}"));
    let mut out = text.to_string();
    for key in ledger.keys() {
        assert!(
            key.len() == 64 && key.chars().all(|c| c.is_ascii_hexdigit()),
            "{path}: {key:?} is not a fingerprint"
        );
        out = out.replace(key.as_str(), "<fingerprint>");
    }
    out
}
