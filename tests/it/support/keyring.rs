//! The real Secret Service, for the tests that need one: whether it must be there, names that
//! keep runs apart, and `secret-tool` as the independent witness of what is really stored.

use std::process::Command as StdCommand;

use snconnect::credentials::SERVICE;

/// Whether a test that needs a real Secret Service should run. `scripts/test` sets
/// `SNCONNECT_TEST_SECRET_SERVICE=1` on the private D-Bus session it starts, and then an
/// unusable Secret Service is a failure; under a plain `cargo test` the test says it was not run
/// and passes, so it never touches a developer's own keyring by surprise. In CI it always runs:
/// there a test that could not run fails (see [`super::not_run`]).
pub fn secret_service_required(test: &str) -> bool {
    if std::env::var("SNCONNECT_TEST_SECRET_SERVICE").as_deref() == Ok("1") {
        return true;
    }
    super::not_run(
        test,
        "needs a real Secret Service; run scripts/test (it starts a private one) to run it",
    );
    false
}

/// A profile name no other run or test uses, so runs never see each other's keyring entries.
pub fn unique_profile(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("t-{tag}-{}-{nanos}", std::process::id())
}

/// What `secret-tool` finds under the attributes keyring 3.6 writes (service, username).
pub fn secret_tool_lookup(user: &str) -> Option<String> {
    let out = StdCommand::new("secret-tool")
        .args(["lookup", "service", SERVICE, "username", user])
        .output()
        .expect("secret-tool must be installed when SNCONNECT_TEST_SECRET_SERVICE=1");
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap())
}
