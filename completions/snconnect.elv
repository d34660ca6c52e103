
use builtin;
use str;

set edit:completion:arg-completer[snconnect] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'snconnect'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'snconnect'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand setup 'Walk through every setup step: explained, checked, fixable, re-checked'
            cand verify 'Run every check against the instance and report; exits 0, 1, 2 or 3'
            cand apply 'Create or repair what the checks found missing, using admin credentials'
            cand credentials 'Show or forget the credentials stored for a profile'
            cand demo 'Run the whole flow against the built-in simulated instance; no ServiceNow needed'
            cand sandbox 'Serve the simulated ServiceNow instance on 127.0.0.1, for rehearsal and scripts'' tests'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page (roff) to stdout, or write every page into a directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'snconnect;setup'= {
            cand --format 'Report format written to stdout; progress, prompts and logs always go to stderr'
            cand --color 'When to use colour. NO_COLOR in the environment turns it off for `auto`'
            cand --timeout 'How long to wait for each HTTP request before giving up: seconds (`30`, `2.5`) or a duration (`500ms`, `2m`), at most 10 minutes'
            cand --deadline 'How long the whole run may take: no request, retry or wait goes past it (seconds or a duration, at most a day). `setup` has no such limit, since it waits for you'
            cand --ca-cert 'An extra trusted root certificate (PEM), for TLS-inspecting proxies'
            cand --instance 'The instance: a subdomain (acme), a host (acme.service-now.com) or a URL'
            cand --profile 'Credential profile to read and write [default: the instance''s subdomain]. verify takes several (repeat the flag) to check them all in one run'
            cand --path 'Which documented setup to check [default: app]'
            cand --admin-user 'Admin user name, used only to read and change configuration; never stored unless asked'
            cand --client-id 'OAuth client id of the incident.io application registry entry'
            cand --username 'The service user incident.io logs in as [default: incident.io]'
            cand --no-input 'Never prompt. Also implied when stdin is not a terminal or the CI variable is set'
            cand -v 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted'
            cand --verbose 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted'
            cand --admin-password-stdin 'Read the admin password from stdin (or set SNCONNECT_ADMIN_PASSWORD; SSO admins can set SNCONNECT_ADMIN_TOKEN to a bearer token instead)'
            cand --client-secret-stdin 'Read the OAuth client secret from stdin (or set SNCONNECT_CLIENT_SECRET)'
            cand --password-stdin 'Read the service user''s password from stdin (or set SNCONNECT_PASSWORD)'
            cand --apply 'Without prompts: also create or repair what is missing (as `snconnect apply` would)'
            cand --yes 'Confirm changes to existing records without asking (needed with --apply under --no-input)'
            cand --insecure-storage 'Store secrets in a plain 0600 file when no OS keyring is reachable'
            cand --reveal 'Show the secrets on the final hand-off screen instead of masking them'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'snconnect;verify'= {
            cand --format 'Report format written to stdout; progress, prompts and logs always go to stderr'
            cand --color 'When to use colour. NO_COLOR in the environment turns it off for `auto`'
            cand --timeout 'How long to wait for each HTTP request before giving up: seconds (`30`, `2.5`) or a duration (`500ms`, `2m`), at most 10 minutes'
            cand --deadline 'How long the whole run may take: no request, retry or wait goes past it (seconds or a duration, at most a day). `setup` has no such limit, since it waits for you'
            cand --ca-cert 'An extra trusted root certificate (PEM), for TLS-inspecting proxies'
            cand --metrics-file 'Also write the run as Prometheus metrics to PATH (replaced atomically), for node_exporter''s textfile collector: a status per check, exit code, duration, requests, last success'
            cand --notify 'Raise an alert in incident.io when the run fails, and resolve it when a later run passes: the HTTP alert source''s URL or config id; its token in SNCONNECT_INCIDENT_IO_TOKEN'
            cand --heartbeat 'After a healthy run, GET this URL (a heartbeat monitor that alerts when pings stop)'
            cand --baseline 'Compare with this exported baseline instead of the last good run''s (a change-controlled instance); written by --save-baseline'
            cand --save-baseline 'Write this run''s baseline (the facts that matter) to FILE, for --baseline'
            cand --profiles-file 'Check the profiles listed in FILE (TOML, `[[profile]]` tables with name, instance, path, username, client_id, admin_user, notify), concurrently. Secrets come from the keyring or from SNCONNECT_<PROFILE>_ADMIN_PASSWORD, _CLIENT_SECRET, _PASSWORD (the name upper-cased, `-` as `_`)'
            cand --max-in-flight 'In a fleet run, the most requests in flight at once across all instances'
            cand --instance 'The instance: a subdomain (acme), a host (acme.service-now.com) or a URL'
            cand --profile 'Credential profile to read and write [default: the instance''s subdomain]. verify takes several (repeat the flag) to check them all in one run'
            cand --path 'Which documented setup to check [default: app]'
            cand --admin-user 'Admin user name, used only to read and change configuration; never stored unless asked'
            cand --client-id 'OAuth client id of the incident.io application registry entry'
            cand --username 'The service user incident.io logs in as [default: incident.io]'
            cand --only 'Run only these checks; the others are reported as not selected, and are not counted as unverified by --strict'
            cand --checks 'Run only these checks; the others are reported as not selected, and are not counted as unverified by --strict'
            cand --egress-ip 'incident.io''s egress addresses, to check against the instance''s IP access rules (repeat, or separate with commas). incident.io does not publish them: ask its support'
            cand --no-input 'Never prompt. Also implied when stdin is not a terminal or the CI variable is set'
            cand -v 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted'
            cand --verbose 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted'
            cand --notify-required 'Exit 4 when the alert could not be sent (otherwise that is a warning and the verdict stands). The alert source is --notify''s, or the profile''s `notify` setting'
            cand --all-profiles 'Check every saved profile, concurrently (a fleet run: one table, the worst exit code)'
            cand --admin-password-stdin 'Read the admin password from stdin (or set SNCONNECT_ADMIN_PASSWORD; SSO admins can set SNCONNECT_ADMIN_TOKEN to a bearer token instead)'
            cand --client-secret-stdin 'Read the OAuth client secret from stdin (or set SNCONNECT_CLIENT_SECRET)'
            cand --password-stdin 'Read the service user''s password from stdin (or set SNCONNECT_PASSWORD)'
            cand --strict 'Fail (exit 1) on warnings, and on checks not verified because an input was missing'
            cand --retry-refused 'Request a token even with credentials an earlier run saw refused (they are otherwise not tried again, so that a stale password cannot lock the account run after run)'
            cand --accept-lockout-risk 'Request a token even when one more failed login would lock the service user out'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'snconnect;apply'= {
            cand --format 'Report format written to stdout; progress, prompts and logs always go to stderr'
            cand --color 'When to use colour. NO_COLOR in the environment turns it off for `auto`'
            cand --timeout 'How long to wait for each HTTP request before giving up: seconds (`30`, `2.5`) or a duration (`500ms`, `2m`), at most 10 minutes'
            cand --deadline 'How long the whole run may take: no request, retry or wait goes past it (seconds or a duration, at most a day). `setup` has no such limit, since it waits for you'
            cand --ca-cert 'An extra trusted root certificate (PEM), for TLS-inspecting proxies'
            cand --instance 'The instance: a subdomain (acme), a host (acme.service-now.com) or a URL'
            cand --profile 'Credential profile to read and write [default: the instance''s subdomain]. verify takes several (repeat the flag) to check them all in one run'
            cand --path 'Which documented setup to check [default: app]'
            cand --admin-user 'Admin user name, used only to read and change configuration; never stored unless asked'
            cand --client-id 'OAuth client id of the incident.io application registry entry'
            cand --username 'The service user incident.io logs in as [default: incident.io]'
            cand --email 'Email address for a service user that apply creates [default: USER@invalid.example, a reserved name that never receives mail]'
            cand --acl-pack 'Write the missing task ACLs to FILE as an update set to import (elevated to security_admin), instead of trying them over REST, which most instances refuse. Written with --dry-run too; nothing is written when the ACLs are in place'
            cand --no-input 'Never prompt. Also implied when stdin is not a terminal or the CI variable is set'
            cand -v 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted'
            cand --verbose 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted'
            cand --admin-password-stdin 'Read the admin password from stdin (or set SNCONNECT_ADMIN_PASSWORD; SSO admins can set SNCONNECT_ADMIN_TOKEN to a bearer token instead)'
            cand --client-secret-stdin 'Read the OAuth client secret from stdin (or set SNCONNECT_CLIENT_SECRET)'
            cand --password-stdin 'Read the service user''s password from stdin (or set SNCONNECT_PASSWORD)'
            cand --dry-run 'Print the plan and change nothing'
            cand -y 'Apply without asking, including changes to existing records'
            cand --yes 'Apply without asking, including changes to existing records'
            cand --insecure-storage 'Store generated secrets in a plain 0600 file when no OS keyring is reachable'
            cand --reveal 'Print generated secrets in the final report'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'snconnect;credentials'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand show 'Show what is stored for a profile and in which backend; secrets masked unless --reveal'
            cand forget 'Remove every stored entry of a profile'
            cand set-notify-token 'Store the incident.io alert source token that `verify --notify` sends, read from stdin (one line) or a hidden prompt'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'snconnect;credentials;show'= {
            cand --format 'Output format written to stdout'
            cand --profile 'The profile [default: the instance''s subdomain]'
            cand --instance 'The instance, to derive the profile name from'
            cand --reveal 'Print the secrets, for pasting into incident.io'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'snconnect;credentials;forget'= {
            cand --format 'Output format written to stdout'
            cand --profile 'The profile [default: the instance''s subdomain]'
            cand --instance 'The instance, to derive the profile name from'
            cand -y 'Succeed when the OS keyring cannot be reached (a headless machine), after removing everything that can be: without it that is exit 3, since the keyring may still hold entries'
            cand --yes 'Succeed when the OS keyring cannot be reached (a headless machine), after removing everything that can be: without it that is exit 3, since the keyring may still hold entries'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'snconnect;credentials;set-notify-token'= {
            cand --profile 'The profile [default: the instance''s subdomain]'
            cand --instance 'The instance, to derive the profile name from'
            cand --insecure-storage 'Store the token in a plain 0600 file when no OS keyring is reachable'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'snconnect;credentials;help'= {
            cand show 'Show what is stored for a profile and in which backend; secrets masked unless --reveal'
            cand forget 'Remove every stored entry of a profile'
            cand set-notify-token 'Store the incident.io alert source token that `verify --notify` sends, read from stdin (one line) or a hidden prompt'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'snconnect;credentials;help;show'= {
        }
        &'snconnect;credentials;help;forget'= {
        }
        &'snconnect;credentials;help;set-notify-token'= {
        }
        &'snconnect;credentials;help;help'= {
        }
        &'snconnect;demo'= {
            cand --format 'Report format written to stdout; progress, prompts and logs always go to stderr'
            cand --color 'When to use colour. NO_COLOR in the environment turns it off for `auto`'
            cand --timeout 'How long to wait for each HTTP request before giving up: seconds (`30`, `2.5`) or a duration (`500ms`, `2m`), at most 10 minutes'
            cand --deadline 'How long the whole run may take: no request, retry or wait goes past it (seconds or a duration, at most a day). `setup` has no such limit, since it waits for you'
            cand --ca-cert 'An extra trusted root certificate (PEM), for TLS-inspecting proxies'
            cand --scenario 'The simulated instance''s scenario (`snconnect sandbox --list-scenarios` describes them)'
            cand --path 'Which documented setup to check'
            cand --no-input 'Never prompt. Also implied when stdin is not a terminal or the CI variable is set'
            cand -v 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted'
            cand --verbose 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'snconnect;sandbox'= {
            cand --port 'Port on 127.0.0.1 (0 picks a free one)'
            cand --scenario 'Starting state; `snconnect sandbox --list-scenarios` describes them'
            cand --lockout-threshold 'Failed logins before an account is locked out'
            cand --latency-ms 'Milliseconds of latency added to every request'
            cand --rate-limit 'Answer the first N requests with 429 and Retry-After: 1, as a throttled instance does'
            cand --server-errors 'Answer the first N requests (after any 429s) with a server error'
            cand --server-error-status 'The status those server errors carry'
            cand --list-scenarios 'Print the scenario names with a line each, then exit'
            cand --allow-acl-insert 'Let REST inserts into sys_security_acl succeed (real instances refuse them without elevation)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'snconnect;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'snconnect;man'= {
            cand --dir 'Write snconnect.1 and one page per subcommand (snconnect-verify.1, …) into DIR'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'snconnect;help'= {
            cand setup 'Walk through every setup step: explained, checked, fixable, re-checked'
            cand verify 'Run every check against the instance and report; exits 0, 1, 2 or 3'
            cand apply 'Create or repair what the checks found missing, using admin credentials'
            cand credentials 'Show or forget the credentials stored for a profile'
            cand demo 'Run the whole flow against the built-in simulated instance; no ServiceNow needed'
            cand sandbox 'Serve the simulated ServiceNow instance on 127.0.0.1, for rehearsal and scripts'' tests'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page (roff) to stdout, or write every page into a directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'snconnect;help;setup'= {
        }
        &'snconnect;help;verify'= {
        }
        &'snconnect;help;apply'= {
        }
        &'snconnect;help;credentials'= {
            cand show 'Show what is stored for a profile and in which backend; secrets masked unless --reveal'
            cand forget 'Remove every stored entry of a profile'
            cand set-notify-token 'Store the incident.io alert source token that `verify --notify` sends, read from stdin (one line) or a hidden prompt'
        }
        &'snconnect;help;credentials;show'= {
        }
        &'snconnect;help;credentials;forget'= {
        }
        &'snconnect;help;credentials;set-notify-token'= {
        }
        &'snconnect;help;demo'= {
        }
        &'snconnect;help;sandbox'= {
        }
        &'snconnect;help;completions'= {
        }
        &'snconnect;help;man'= {
        }
        &'snconnect;help;help'= {
        }
    ]
    $completions[$command]
}
