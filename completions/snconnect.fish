# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_snconnect_global_optspecs
    string join \n h/help V/version
end

function __fish_snconnect_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_snconnect_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_snconnect_using_subcommand
    set -l cmd (__fish_snconnect_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c snconnect -n "__fish_snconnect_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c snconnect -n "__fish_snconnect_needs_command" -s V -l version -d 'Print version'
complete -c snconnect -n "__fish_snconnect_needs_command" -f -a "setup" -d 'Walk through every setup step: explained, checked, fixable, re-checked'
complete -c snconnect -n "__fish_snconnect_needs_command" -f -a "verify" -d 'Run every check against the instance and report; exits 0, 1, 2 or 3'
complete -c snconnect -n "__fish_snconnect_needs_command" -f -a "apply" -d 'Create or repair what the checks found missing, using admin credentials'
complete -c snconnect -n "__fish_snconnect_needs_command" -f -a "credentials" -d 'Show or forget the credentials stored for a profile'
complete -c snconnect -n "__fish_snconnect_needs_command" -f -a "demo" -d 'Run the whole flow against the built-in simulated instance; no ServiceNow needed'
complete -c snconnect -n "__fish_snconnect_needs_command" -f -a "sandbox" -d 'Serve the simulated ServiceNow instance on 127.0.0.1, for rehearsal and scripts\' tests'
complete -c snconnect -n "__fish_snconnect_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c snconnect -n "__fish_snconnect_needs_command" -f -a "man" -d 'Print the man page (roff) to stdout, or write every page into a directory'
complete -c snconnect -n "__fish_snconnect_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l format -d 'Report format written to stdout; progress, prompts and logs always go to stderr' -r -f -a "human\t''
json\t''
junit\t''
markdown\t'A table and the findings, for a CI job summary or a pull-request comment'"
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l color -d 'When to use colour. NO_COLOR in the environment turns it off for `auto`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l timeout -d 'How long to wait for each HTTP request before giving up: seconds (`30`, `2.5`) or a duration (`500ms`, `2m`), at most 10 minutes' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l deadline -d 'How long the whole run may take: no request, retry or wait goes past it (seconds or a duration, at most a day). `setup` has no such limit, since it waits for you' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l ca-cert -d 'An extra trusted root certificate (PEM), for TLS-inspecting proxies' -r -F
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l instance -d 'The instance: a subdomain (acme), a host (acme.service-now.com) or a URL' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l profile -d 'Credential profile to read and write [default: the instance\'s subdomain]. verify takes several (repeat the flag) to check them all in one run' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l path -d 'Which documented setup to check [default: app]' -r -f -a "app\t'The incident.io Store app, its api_user role, and three ACLs on task (recommended)'
admin\t'No app: the service user holds admin, and no ACLs are needed'"
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l admin-user -d 'Admin user name, used only to read and change configuration; never stored unless asked' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l client-id -d 'OAuth client id of the incident.io application registry entry' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l username -d 'The service user incident.io logs in as [default: incident.io]' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l no-input -d 'Never prompt. Also implied when stdin is not a terminal or the CI variable is set'
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -s v -l verbose -d 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted'
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l admin-password-stdin -d 'Read the admin password from stdin (or set SNCONNECT_ADMIN_PASSWORD; SSO admins can set SNCONNECT_ADMIN_TOKEN to a bearer token instead)'
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l client-secret-stdin -d 'Read the OAuth client secret from stdin (or set SNCONNECT_CLIENT_SECRET)'
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l password-stdin -d 'Read the service user\'s password from stdin (or set SNCONNECT_PASSWORD)'
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l apply -d 'Without prompts: also create or repair what is missing (as `snconnect apply` would)'
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l yes -d 'Confirm changes to existing records without asking (needed with --apply under --no-input)'
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l insecure-storage -d 'Store secrets in a plain 0600 file when no OS keyring is reachable'
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -l reveal -d 'Show the secrets on the final hand-off screen instead of masking them'
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c snconnect -n "__fish_snconnect_using_subcommand setup" -s V -l version -d 'Print version'
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l format -d 'Report format written to stdout; progress, prompts and logs always go to stderr' -r -f -a "human\t''
json\t''
junit\t''
markdown\t'A table and the findings, for a CI job summary or a pull-request comment'"
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l color -d 'When to use colour. NO_COLOR in the environment turns it off for `auto`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l timeout -d 'How long to wait for each HTTP request before giving up: seconds (`30`, `2.5`) or a duration (`500ms`, `2m`), at most 10 minutes' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l deadline -d 'How long the whole run may take: no request, retry or wait goes past it (seconds or a duration, at most a day). `setup` has no such limit, since it waits for you' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l ca-cert -d 'An extra trusted root certificate (PEM), for TLS-inspecting proxies' -r -F
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l metrics-file -d 'Also write the run as Prometheus metrics to PATH (replaced atomically), for node_exporter\'s textfile collector: a status per check, exit code, duration, requests, last success' -r -F
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l notify -d 'Raise an alert in incident.io when the run fails, and resolve it when a later run passes: the HTTP alert source\'s URL or config id; its token in SNCONNECT_INCIDENT_IO_TOKEN' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l heartbeat -d 'After a healthy run, GET this URL (a heartbeat monitor that alerts when pings stop)' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l baseline -d 'Compare with this exported baseline instead of the last good run\'s (a change-controlled instance); written by --save-baseline' -r -F
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l save-baseline -d 'Write this run\'s baseline (the facts that matter) to FILE, for --baseline' -r -F
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l profiles-file -d 'Check the profiles listed in FILE (TOML, `[[profile]]` tables with name, instance, path, username, client_id, admin_user, notify), concurrently. Secrets come from the keyring or from SNCONNECT_<PROFILE>_ADMIN_PASSWORD, _CLIENT_SECRET, _PASSWORD (the name upper-cased, `-` as `_`)' -r -F
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l max-in-flight -d 'In a fleet run, the most requests in flight at once across all instances' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l instance -d 'The instance: a subdomain (acme), a host (acme.service-now.com) or a URL' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l profile -d 'Credential profile to read and write [default: the instance\'s subdomain]. verify takes several (repeat the flag) to check them all in one run' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l path -d 'Which documented setup to check [default: app]' -r -f -a "app\t'The incident.io Store app, its api_user role, and three ACLs on task (recommended)'
admin\t'No app: the service user holds admin, and no ACLs are needed'"
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l admin-user -d 'Admin user name, used only to read and change configuration; never stored unless asked' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l client-id -d 'OAuth client id of the incident.io application registry entry' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l username -d 'The service user incident.io logs in as [default: incident.io]' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l only -l checks -d 'Run only these checks; the others are reported as not selected, and are not counted as unverified by --strict' -r -f -a "instance\t''
app\t''
oauth_app\t''
service_user\t''
roles\t''
task_acls\t''
posture\t''
connect\t''"
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l egress-ip -d 'incident.io\'s egress addresses, to check against the instance\'s IP access rules (repeat, or separate with commas). incident.io does not publish them: ask its support' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l no-input -d 'Never prompt. Also implied when stdin is not a terminal or the CI variable is set'
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -s v -l verbose -d 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted'
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l notify-required -d 'Exit 4 when the alert could not be sent (otherwise that is a warning and the verdict stands). The alert source is --notify\'s, or the profile\'s `notify` setting'
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l all-profiles -d 'Check every saved profile, concurrently (a fleet run: one table, the worst exit code)'
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l admin-password-stdin -d 'Read the admin password from stdin (or set SNCONNECT_ADMIN_PASSWORD; SSO admins can set SNCONNECT_ADMIN_TOKEN to a bearer token instead)'
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l client-secret-stdin -d 'Read the OAuth client secret from stdin (or set SNCONNECT_CLIENT_SECRET)'
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l password-stdin -d 'Read the service user\'s password from stdin (or set SNCONNECT_PASSWORD)'
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l strict -d 'Fail (exit 1) on warnings, and on checks not verified because an input was missing'
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l retry-refused -d 'Request a token even with credentials an earlier run saw refused (they are otherwise not tried again, so that a stale password cannot lock the account run after run)'
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -l accept-lockout-risk -d 'Request a token even when one more failed login would lock the service user out'
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c snconnect -n "__fish_snconnect_using_subcommand verify" -s V -l version -d 'Print version'
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l format -d 'Report format written to stdout; progress, prompts and logs always go to stderr' -r -f -a "human\t''
json\t''
junit\t''
markdown\t'A table and the findings, for a CI job summary or a pull-request comment'"
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l color -d 'When to use colour. NO_COLOR in the environment turns it off for `auto`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l timeout -d 'How long to wait for each HTTP request before giving up: seconds (`30`, `2.5`) or a duration (`500ms`, `2m`), at most 10 minutes' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l deadline -d 'How long the whole run may take: no request, retry or wait goes past it (seconds or a duration, at most a day). `setup` has no such limit, since it waits for you' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l ca-cert -d 'An extra trusted root certificate (PEM), for TLS-inspecting proxies' -r -F
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l instance -d 'The instance: a subdomain (acme), a host (acme.service-now.com) or a URL' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l profile -d 'Credential profile to read and write [default: the instance\'s subdomain]. verify takes several (repeat the flag) to check them all in one run' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l path -d 'Which documented setup to check [default: app]' -r -f -a "app\t'The incident.io Store app, its api_user role, and three ACLs on task (recommended)'
admin\t'No app: the service user holds admin, and no ACLs are needed'"
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l admin-user -d 'Admin user name, used only to read and change configuration; never stored unless asked' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l client-id -d 'OAuth client id of the incident.io application registry entry' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l username -d 'The service user incident.io logs in as [default: incident.io]' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l email -d 'Email address for a service user that apply creates [default: USER@invalid.example, a reserved name that never receives mail]' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l acl-pack -d 'Write the missing task ACLs to FILE as an update set to import (elevated to security_admin), instead of trying them over REST, which most instances refuse. Written with --dry-run too; nothing is written when the ACLs are in place' -r -F
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l no-input -d 'Never prompt. Also implied when stdin is not a terminal or the CI variable is set'
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -s v -l verbose -d 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted'
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l admin-password-stdin -d 'Read the admin password from stdin (or set SNCONNECT_ADMIN_PASSWORD; SSO admins can set SNCONNECT_ADMIN_TOKEN to a bearer token instead)'
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l client-secret-stdin -d 'Read the OAuth client secret from stdin (or set SNCONNECT_CLIENT_SECRET)'
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l password-stdin -d 'Read the service user\'s password from stdin (or set SNCONNECT_PASSWORD)'
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l dry-run -d 'Print the plan and change nothing'
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -s y -l yes -d 'Apply without asking, including changes to existing records'
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l insecure-storage -d 'Store generated secrets in a plain 0600 file when no OS keyring is reachable'
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -l reveal -d 'Print generated secrets in the final report'
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c snconnect -n "__fish_snconnect_using_subcommand apply" -s V -l version -d 'Print version'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and not __fish_seen_subcommand_from show forget set-notify-token help" -s h -l help -d 'Print help'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and not __fish_seen_subcommand_from show forget set-notify-token help" -s V -l version -d 'Print version'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and not __fish_seen_subcommand_from show forget set-notify-token help" -f -a "show" -d 'Show what is stored for a profile and in which backend; secrets masked unless --reveal'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and not __fish_seen_subcommand_from show forget set-notify-token help" -f -a "forget" -d 'Remove every stored entry of a profile'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and not __fish_seen_subcommand_from show forget set-notify-token help" -f -a "set-notify-token" -d 'Store the incident.io alert source token that `verify --notify` sends, read from stdin (one line) or a hidden prompt'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and not __fish_seen_subcommand_from show forget set-notify-token help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from show" -l format -d 'Output format written to stdout' -r -f -a "human\t''
json\t''
junit\t''
markdown\t'A table and the findings, for a CI job summary or a pull-request comment'"
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from show" -l profile -d 'The profile [default: the instance\'s subdomain]' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from show" -l instance -d 'The instance, to derive the profile name from' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from show" -l reveal -d 'Print the secrets, for pasting into incident.io'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from forget" -l format -d 'Output format written to stdout' -r -f -a "human\t''
json\t''
junit\t''
markdown\t'A table and the findings, for a CI job summary or a pull-request comment'"
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from forget" -l profile -d 'The profile [default: the instance\'s subdomain]' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from forget" -l instance -d 'The instance, to derive the profile name from' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from forget" -s y -l yes -d 'Succeed when the OS keyring cannot be reached (a headless machine), after removing everything that can be: without it that is exit 3, since the keyring may still hold entries'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from forget" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from forget" -s V -l version -d 'Print version'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from set-notify-token" -l profile -d 'The profile [default: the instance\'s subdomain]' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from set-notify-token" -l instance -d 'The instance, to derive the profile name from' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from set-notify-token" -l insecure-storage -d 'Store the token in a plain 0600 file when no OS keyring is reachable'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from set-notify-token" -s h -l help -d 'Print help'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from set-notify-token" -s V -l version -d 'Print version'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show what is stored for a profile and in which backend; secrets masked unless --reveal'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from help" -f -a "forget" -d 'Remove every stored entry of a profile'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from help" -f -a "set-notify-token" -d 'Store the incident.io alert source token that `verify --notify` sends, read from stdin (one line) or a hidden prompt'
complete -c snconnect -n "__fish_snconnect_using_subcommand credentials; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c snconnect -n "__fish_snconnect_using_subcommand demo" -l format -d 'Report format written to stdout; progress, prompts and logs always go to stderr' -r -f -a "human\t''
json\t''
junit\t''
markdown\t'A table and the findings, for a CI job summary or a pull-request comment'"
complete -c snconnect -n "__fish_snconnect_using_subcommand demo" -l color -d 'When to use colour. NO_COLOR in the environment turns it off for `auto`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c snconnect -n "__fish_snconnect_using_subcommand demo" -l timeout -d 'How long to wait for each HTTP request before giving up: seconds (`30`, `2.5`) or a duration (`500ms`, `2m`), at most 10 minutes' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand demo" -l deadline -d 'How long the whole run may take: no request, retry or wait goes past it (seconds or a duration, at most a day). `setup` has no such limit, since it waits for you' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand demo" -l ca-cert -d 'An extra trusted root certificate (PEM), for TLS-inspecting proxies' -r -F
complete -c snconnect -n "__fish_snconnect_using_subcommand demo" -l scenario -d 'The simulated instance\'s scenario (`snconnect sandbox --list-scenarios` describes them)' -r -f -a "healthy-app\t''
healthy-admin\t''
empty\t''
broken\t''
app-missing\t''
app-inactive\t''
app-custom-only\t''
oauth-missing\t''
oauth-inactive\t''
oauth-duplicate\t''
oauth-no-scope\t''
oauth-scope-pinned\t''
ropc-disabled\t''
oauth-disabled\t''
user-missing\t''
user-inactive\t''
user-locked\t''
user-password-reset\t''
user-not-machine\t''
user-no-identity-type\t''
user-failed-attempts\t''
roles-missing\t''
acl-missing\t''
acl-inactive\t''
acl-deny\t''
acl-no-role\t''
acl-wrong-role\t''
acl-no-admin-overrides\t''
acl-not-global\t''
acl-hidden\t''
access-policy-basic-only\t''
oauth-outbound-decoy\t''
incident-restricted-first\t''
table-denied\t''
scope-blocked\t''
mfa-admin\t''
hibernating\t''
hibernating-503\t''
login-page\t''
posture-privileged\t''
posture-ui-login\t''
posture-ip-deny\t''
posture-clone\t''"
complete -c snconnect -n "__fish_snconnect_using_subcommand demo" -l path -d 'Which documented setup to check' -r -f -a "app\t'The incident.io Store app, its api_user role, and three ACLs on task (recommended)'
admin\t'No app: the service user holds admin, and no ACLs are needed'"
complete -c snconnect -n "__fish_snconnect_using_subcommand demo" -l no-input -d 'Never prompt. Also implied when stdin is not a terminal or the CI variable is set'
complete -c snconnect -n "__fish_snconnect_using_subcommand demo" -s v -l verbose -d 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted'
complete -c snconnect -n "__fish_snconnect_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c snconnect -n "__fish_snconnect_using_subcommand demo" -s V -l version -d 'Print version'
complete -c snconnect -n "__fish_snconnect_using_subcommand sandbox" -l port -d 'Port on 127.0.0.1 (0 picks a free one)' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand sandbox" -l scenario -d 'Starting state; `snconnect sandbox --list-scenarios` describes them' -r -f -a "healthy-app\t''
healthy-admin\t''
empty\t''
broken\t''
app-missing\t''
app-inactive\t''
app-custom-only\t''
oauth-missing\t''
oauth-inactive\t''
oauth-duplicate\t''
oauth-no-scope\t''
oauth-scope-pinned\t''
ropc-disabled\t''
oauth-disabled\t''
user-missing\t''
user-inactive\t''
user-locked\t''
user-password-reset\t''
user-not-machine\t''
user-no-identity-type\t''
user-failed-attempts\t''
roles-missing\t''
acl-missing\t''
acl-inactive\t''
acl-deny\t''
acl-no-role\t''
acl-wrong-role\t''
acl-no-admin-overrides\t''
acl-not-global\t''
acl-hidden\t''
access-policy-basic-only\t''
oauth-outbound-decoy\t''
incident-restricted-first\t''
table-denied\t''
scope-blocked\t''
mfa-admin\t''
hibernating\t''
hibernating-503\t''
login-page\t''
posture-privileged\t''
posture-ui-login\t''
posture-ip-deny\t''
posture-clone\t''"
complete -c snconnect -n "__fish_snconnect_using_subcommand sandbox" -l lockout-threshold -d 'Failed logins before an account is locked out' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand sandbox" -l latency-ms -d 'Milliseconds of latency added to every request' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand sandbox" -l rate-limit -d 'Answer the first N requests with 429 and Retry-After: 1, as a throttled instance does' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand sandbox" -l server-errors -d 'Answer the first N requests (after any 429s) with a server error' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand sandbox" -l server-error-status -d 'The status those server errors carry' -r
complete -c snconnect -n "__fish_snconnect_using_subcommand sandbox" -l list-scenarios -d 'Print the scenario names with a line each, then exit'
complete -c snconnect -n "__fish_snconnect_using_subcommand sandbox" -l allow-acl-insert -d 'Let REST inserts into sys_security_acl succeed (real instances refuse them without elevation)'
complete -c snconnect -n "__fish_snconnect_using_subcommand sandbox" -s h -l help -d 'Print help'
complete -c snconnect -n "__fish_snconnect_using_subcommand sandbox" -s V -l version -d 'Print version'
complete -c snconnect -n "__fish_snconnect_using_subcommand completions" -s h -l help -d 'Print help'
complete -c snconnect -n "__fish_snconnect_using_subcommand completions" -s V -l version -d 'Print version'
complete -c snconnect -n "__fish_snconnect_using_subcommand man" -l dir -d 'Write snconnect.1 and one page per subcommand (snconnect-verify.1, …) into DIR' -r -F
complete -c snconnect -n "__fish_snconnect_using_subcommand man" -s h -l help -d 'Print help'
complete -c snconnect -n "__fish_snconnect_using_subcommand man" -s V -l version -d 'Print version'
complete -c snconnect -n "__fish_snconnect_using_subcommand help; and not __fish_seen_subcommand_from setup verify apply credentials demo sandbox completions man help" -f -a "setup" -d 'Walk through every setup step: explained, checked, fixable, re-checked'
complete -c snconnect -n "__fish_snconnect_using_subcommand help; and not __fish_seen_subcommand_from setup verify apply credentials demo sandbox completions man help" -f -a "verify" -d 'Run every check against the instance and report; exits 0, 1, 2 or 3'
complete -c snconnect -n "__fish_snconnect_using_subcommand help; and not __fish_seen_subcommand_from setup verify apply credentials demo sandbox completions man help" -f -a "apply" -d 'Create or repair what the checks found missing, using admin credentials'
complete -c snconnect -n "__fish_snconnect_using_subcommand help; and not __fish_seen_subcommand_from setup verify apply credentials demo sandbox completions man help" -f -a "credentials" -d 'Show or forget the credentials stored for a profile'
complete -c snconnect -n "__fish_snconnect_using_subcommand help; and not __fish_seen_subcommand_from setup verify apply credentials demo sandbox completions man help" -f -a "demo" -d 'Run the whole flow against the built-in simulated instance; no ServiceNow needed'
complete -c snconnect -n "__fish_snconnect_using_subcommand help; and not __fish_seen_subcommand_from setup verify apply credentials demo sandbox completions man help" -f -a "sandbox" -d 'Serve the simulated ServiceNow instance on 127.0.0.1, for rehearsal and scripts\' tests'
complete -c snconnect -n "__fish_snconnect_using_subcommand help; and not __fish_seen_subcommand_from setup verify apply credentials demo sandbox completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c snconnect -n "__fish_snconnect_using_subcommand help; and not __fish_seen_subcommand_from setup verify apply credentials demo sandbox completions man help" -f -a "man" -d 'Print the man page (roff) to stdout, or write every page into a directory'
complete -c snconnect -n "__fish_snconnect_using_subcommand help; and not __fish_seen_subcommand_from setup verify apply credentials demo sandbox completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c snconnect -n "__fish_snconnect_using_subcommand help; and __fish_seen_subcommand_from credentials" -f -a "show" -d 'Show what is stored for a profile and in which backend; secrets masked unless --reveal'
complete -c snconnect -n "__fish_snconnect_using_subcommand help; and __fish_seen_subcommand_from credentials" -f -a "forget" -d 'Remove every stored entry of a profile'
complete -c snconnect -n "__fish_snconnect_using_subcommand help; and __fish_seen_subcommand_from credentials" -f -a "set-notify-token" -d 'Store the incident.io alert source token that `verify --notify` sends, read from stdin (one line) or a hidden prompt'
