
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'snconnect' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'snconnect'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'snconnect' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Walk through every setup step: explained, checked, fixable, re-checked')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Run every check against the instance and report; exits 0, 1, 2 or 3')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Create or repair what the checks found missing, using admin credentials')
            [CompletionResult]::new('credentials', 'credentials', [CompletionResultType]::ParameterValue, 'Show or forget the credentials stored for a profile')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run the whole flow against the built-in simulated instance; no ServiceNow needed')
            [CompletionResult]::new('sandbox', 'sandbox', [CompletionResultType]::ParameterValue, 'Serve the simulated ServiceNow instance on 127.0.0.1, for rehearsal and scripts'' tests')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff) to stdout, or write every page into a directory')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'snconnect;setup' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Report format written to stdout; progress, prompts and logs always go to stderr')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour. NO_COLOR in the environment turns it off for `auto`')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for each HTTP request before giving up: seconds (`30`, `2.5`) or a duration (`500ms`, `2m`), at most 10 minutes')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'How long the whole run may take: no request, retry or wait goes past it (seconds or a duration, at most a day). `setup` has no such limit, since it waits for you')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'An extra trusted root certificate (PEM), for TLS-inspecting proxies')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'The instance: a subdomain (acme), a host (acme.service-now.com) or a URL')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Credential profile to read and write [default: the instance''s subdomain]. verify takes several (repeat the flag) to check them all in one run')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Which documented setup to check [default: app]')
            [CompletionResult]::new('--admin-user', '--admin-user', [CompletionResultType]::ParameterName, 'Admin user name, used only to read and change configuration; never stored unless asked')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'OAuth client id of the incident.io application registry entry')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'The service user incident.io logs in as [default: incident.io]')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt. Also implied when stdin is not a terminal or the CI variable is set')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted')
            [CompletionResult]::new('--admin-password-stdin', '--admin-password-stdin', [CompletionResultType]::ParameterName, 'Read the admin password from stdin (or set SNCONNECT_ADMIN_PASSWORD; SSO admins can set SNCONNECT_ADMIN_TOKEN to a bearer token instead)')
            [CompletionResult]::new('--client-secret-stdin', '--client-secret-stdin', [CompletionResultType]::ParameterName, 'Read the OAuth client secret from stdin (or set SNCONNECT_CLIENT_SECRET)')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the service user''s password from stdin (or set SNCONNECT_PASSWORD)')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Without prompts: also create or repair what is missing (as `snconnect apply` would)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Confirm changes to existing records without asking (needed with --apply under --no-input)')
            [CompletionResult]::new('--insecure-storage', '--insecure-storage', [CompletionResultType]::ParameterName, 'Store secrets in a plain 0600 file when no OS keyring is reachable')
            [CompletionResult]::new('--reveal', '--reveal', [CompletionResultType]::ParameterName, 'Show the secrets on the final hand-off screen instead of masking them')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'snconnect;verify' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Report format written to stdout; progress, prompts and logs always go to stderr')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour. NO_COLOR in the environment turns it off for `auto`')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for each HTTP request before giving up: seconds (`30`, `2.5`) or a duration (`500ms`, `2m`), at most 10 minutes')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'How long the whole run may take: no request, retry or wait goes past it (seconds or a duration, at most a day). `setup` has no such limit, since it waits for you')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'An extra trusted root certificate (PEM), for TLS-inspecting proxies')
            [CompletionResult]::new('--metrics-file', '--metrics-file', [CompletionResultType]::ParameterName, 'Also write the run as Prometheus metrics to PATH (replaced atomically), for node_exporter''s textfile collector: a status per check, exit code, duration, requests, last success')
            [CompletionResult]::new('--notify', '--notify', [CompletionResultType]::ParameterName, 'Raise an alert in incident.io when the run fails, and resolve it when a later run passes: the HTTP alert source''s URL or config id; its token in SNCONNECT_INCIDENT_IO_TOKEN')
            [CompletionResult]::new('--heartbeat', '--heartbeat', [CompletionResultType]::ParameterName, 'After a healthy run, GET this URL (a heartbeat monitor that alerts when pings stop)')
            [CompletionResult]::new('--baseline', '--baseline', [CompletionResultType]::ParameterName, 'Compare with this exported baseline instead of the last good run''s (a change-controlled instance); written by --save-baseline')
            [CompletionResult]::new('--save-baseline', '--save-baseline', [CompletionResultType]::ParameterName, 'Write this run''s baseline (the facts that matter) to FILE, for --baseline')
            [CompletionResult]::new('--profiles-file', '--profiles-file', [CompletionResultType]::ParameterName, 'Check the profiles listed in FILE (TOML, `[[profile]]` tables with name, instance, path, username, client_id, admin_user, notify), concurrently. Secrets come from the keyring or from SNCONNECT_<PROFILE>_ADMIN_PASSWORD, _CLIENT_SECRET, _PASSWORD (the name upper-cased, `-` as `_`)')
            [CompletionResult]::new('--max-in-flight', '--max-in-flight', [CompletionResultType]::ParameterName, 'In a fleet run, the most requests in flight at once across all instances')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'The instance: a subdomain (acme), a host (acme.service-now.com) or a URL')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Credential profile to read and write [default: the instance''s subdomain]. verify takes several (repeat the flag) to check them all in one run')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Which documented setup to check [default: app]')
            [CompletionResult]::new('--admin-user', '--admin-user', [CompletionResultType]::ParameterName, 'Admin user name, used only to read and change configuration; never stored unless asked')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'OAuth client id of the incident.io application registry entry')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'The service user incident.io logs in as [default: incident.io]')
            [CompletionResult]::new('--only', '--only', [CompletionResultType]::ParameterName, 'Run only these checks; the others are reported as not selected, and are not counted as unverified by --strict')
            [CompletionResult]::new('--checks', '--checks', [CompletionResultType]::ParameterName, 'Run only these checks; the others are reported as not selected, and are not counted as unverified by --strict')
            [CompletionResult]::new('--egress-ip', '--egress-ip', [CompletionResultType]::ParameterName, 'incident.io''s egress addresses, to check against the instance''s IP access rules (repeat, or separate with commas). incident.io does not publish them: ask its support')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt. Also implied when stdin is not a terminal or the CI variable is set')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted')
            [CompletionResult]::new('--notify-required', '--notify-required', [CompletionResultType]::ParameterName, 'Exit 4 when the alert could not be sent (otherwise that is a warning and the verdict stands). The alert source is --notify''s, or the profile''s `notify` setting')
            [CompletionResult]::new('--all-profiles', '--all-profiles', [CompletionResultType]::ParameterName, 'Check every saved profile, concurrently (a fleet run: one table, the worst exit code)')
            [CompletionResult]::new('--admin-password-stdin', '--admin-password-stdin', [CompletionResultType]::ParameterName, 'Read the admin password from stdin (or set SNCONNECT_ADMIN_PASSWORD; SSO admins can set SNCONNECT_ADMIN_TOKEN to a bearer token instead)')
            [CompletionResult]::new('--client-secret-stdin', '--client-secret-stdin', [CompletionResultType]::ParameterName, 'Read the OAuth client secret from stdin (or set SNCONNECT_CLIENT_SECRET)')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the service user''s password from stdin (or set SNCONNECT_PASSWORD)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Fail (exit 1) on warnings, and on checks not verified because an input was missing')
            [CompletionResult]::new('--retry-refused', '--retry-refused', [CompletionResultType]::ParameterName, 'Request a token even with credentials an earlier run saw refused (they are otherwise not tried again, so that a stale password cannot lock the account run after run)')
            [CompletionResult]::new('--accept-lockout-risk', '--accept-lockout-risk', [CompletionResultType]::ParameterName, 'Request a token even when one more failed login would lock the service user out')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'snconnect;apply' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Report format written to stdout; progress, prompts and logs always go to stderr')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour. NO_COLOR in the environment turns it off for `auto`')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for each HTTP request before giving up: seconds (`30`, `2.5`) or a duration (`500ms`, `2m`), at most 10 minutes')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'How long the whole run may take: no request, retry or wait goes past it (seconds or a duration, at most a day). `setup` has no such limit, since it waits for you')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'An extra trusted root certificate (PEM), for TLS-inspecting proxies')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'The instance: a subdomain (acme), a host (acme.service-now.com) or a URL')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Credential profile to read and write [default: the instance''s subdomain]. verify takes several (repeat the flag) to check them all in one run')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Which documented setup to check [default: app]')
            [CompletionResult]::new('--admin-user', '--admin-user', [CompletionResultType]::ParameterName, 'Admin user name, used only to read and change configuration; never stored unless asked')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'OAuth client id of the incident.io application registry entry')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'The service user incident.io logs in as [default: incident.io]')
            [CompletionResult]::new('--email', '--email', [CompletionResultType]::ParameterName, 'Email address for a service user that apply creates [default: USER@invalid.example, a reserved name that never receives mail]')
            [CompletionResult]::new('--acl-pack', '--acl-pack', [CompletionResultType]::ParameterName, 'Write the missing task ACLs to FILE as an update set to import (elevated to security_admin), instead of trying them over REST, which most instances refuse. Written with --dry-run too; nothing is written when the ACLs are in place')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt. Also implied when stdin is not a terminal or the CI variable is set')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted')
            [CompletionResult]::new('--admin-password-stdin', '--admin-password-stdin', [CompletionResultType]::ParameterName, 'Read the admin password from stdin (or set SNCONNECT_ADMIN_PASSWORD; SSO admins can set SNCONNECT_ADMIN_TOKEN to a bearer token instead)')
            [CompletionResult]::new('--client-secret-stdin', '--client-secret-stdin', [CompletionResultType]::ParameterName, 'Read the OAuth client secret from stdin (or set SNCONNECT_CLIENT_SECRET)')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the service user''s password from stdin (or set SNCONNECT_PASSWORD)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and change nothing')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply without asking, including changes to existing records')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply without asking, including changes to existing records')
            [CompletionResult]::new('--insecure-storage', '--insecure-storage', [CompletionResultType]::ParameterName, 'Store generated secrets in a plain 0600 file when no OS keyring is reachable')
            [CompletionResult]::new('--reveal', '--reveal', [CompletionResultType]::ParameterName, 'Print generated secrets in the final report')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'snconnect;credentials' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show what is stored for a profile and in which backend; secrets masked unless --reveal')
            [CompletionResult]::new('forget', 'forget', [CompletionResultType]::ParameterValue, 'Remove every stored entry of a profile')
            [CompletionResult]::new('set-notify-token', 'set-notify-token', [CompletionResultType]::ParameterValue, 'Store the incident.io alert source token that `verify --notify` sends, read from stdin (one line) or a hidden prompt')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'snconnect;credentials;show' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format written to stdout')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'The profile [default: the instance''s subdomain]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'The instance, to derive the profile name from')
            [CompletionResult]::new('--reveal', '--reveal', [CompletionResultType]::ParameterName, 'Print the secrets, for pasting into incident.io')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'snconnect;credentials;forget' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format written to stdout')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'The profile [default: the instance''s subdomain]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'The instance, to derive the profile name from')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Succeed when the OS keyring cannot be reached (a headless machine), after removing everything that can be: without it that is exit 3, since the keyring may still hold entries')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Succeed when the OS keyring cannot be reached (a headless machine), after removing everything that can be: without it that is exit 3, since the keyring may still hold entries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'snconnect;credentials;set-notify-token' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'The profile [default: the instance''s subdomain]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'The instance, to derive the profile name from')
            [CompletionResult]::new('--insecure-storage', '--insecure-storage', [CompletionResultType]::ParameterName, 'Store the token in a plain 0600 file when no OS keyring is reachable')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'snconnect;credentials;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show what is stored for a profile and in which backend; secrets masked unless --reveal')
            [CompletionResult]::new('forget', 'forget', [CompletionResultType]::ParameterValue, 'Remove every stored entry of a profile')
            [CompletionResult]::new('set-notify-token', 'set-notify-token', [CompletionResultType]::ParameterValue, 'Store the incident.io alert source token that `verify --notify` sends, read from stdin (one line) or a hidden prompt')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'snconnect;credentials;help;show' {
            break
        }
        'snconnect;credentials;help;forget' {
            break
        }
        'snconnect;credentials;help;set-notify-token' {
            break
        }
        'snconnect;credentials;help;help' {
            break
        }
        'snconnect;demo' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Report format written to stdout; progress, prompts and logs always go to stderr')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour. NO_COLOR in the environment turns it off for `auto`')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for each HTTP request before giving up: seconds (`30`, `2.5`) or a duration (`500ms`, `2m`), at most 10 minutes')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'How long the whole run may take: no request, retry or wait goes past it (seconds or a duration, at most a day). `setup` has no such limit, since it waits for you')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'An extra trusted root certificate (PEM), for TLS-inspecting proxies')
            [CompletionResult]::new('--scenario', '--scenario', [CompletionResultType]::ParameterName, 'The simulated instance''s scenario (`snconnect sandbox --list-scenarios` describes them)')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Which documented setup to check')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt. Also implied when stdin is not a terminal or the CI variable is set')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'snconnect;sandbox' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port on 127.0.0.1 (0 picks a free one)')
            [CompletionResult]::new('--scenario', '--scenario', [CompletionResultType]::ParameterName, 'Starting state; `snconnect sandbox --list-scenarios` describes them')
            [CompletionResult]::new('--lockout-threshold', '--lockout-threshold', [CompletionResultType]::ParameterName, 'Failed logins before an account is locked out')
            [CompletionResult]::new('--latency-ms', '--latency-ms', [CompletionResultType]::ParameterName, 'Milliseconds of latency added to every request')
            [CompletionResult]::new('--rate-limit', '--rate-limit', [CompletionResultType]::ParameterName, 'Answer the first N requests with 429 and Retry-After: 1, as a throttled instance does')
            [CompletionResult]::new('--server-errors', '--server-errors', [CompletionResultType]::ParameterName, 'Answer the first N requests (after any 429s) with a server error')
            [CompletionResult]::new('--server-error-status', '--server-error-status', [CompletionResultType]::ParameterName, 'The status those server errors carry')
            [CompletionResult]::new('--list-scenarios', '--list-scenarios', [CompletionResultType]::ParameterName, 'Print the scenario names with a line each, then exit')
            [CompletionResult]::new('--allow-acl-insert', '--allow-acl-insert', [CompletionResultType]::ParameterName, 'Let REST inserts into sys_security_acl succeed (real instances refuse them without elevation)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'snconnect;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'snconnect;man' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Write snconnect.1 and one page per subcommand (snconnect-verify.1, …) into DIR')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'snconnect;help' {
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Walk through every setup step: explained, checked, fixable, re-checked')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Run every check against the instance and report; exits 0, 1, 2 or 3')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Create or repair what the checks found missing, using admin credentials')
            [CompletionResult]::new('credentials', 'credentials', [CompletionResultType]::ParameterValue, 'Show or forget the credentials stored for a profile')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run the whole flow against the built-in simulated instance; no ServiceNow needed')
            [CompletionResult]::new('sandbox', 'sandbox', [CompletionResultType]::ParameterValue, 'Serve the simulated ServiceNow instance on 127.0.0.1, for rehearsal and scripts'' tests')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff) to stdout, or write every page into a directory')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'snconnect;help;setup' {
            break
        }
        'snconnect;help;verify' {
            break
        }
        'snconnect;help;apply' {
            break
        }
        'snconnect;help;credentials' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show what is stored for a profile and in which backend; secrets masked unless --reveal')
            [CompletionResult]::new('forget', 'forget', [CompletionResultType]::ParameterValue, 'Remove every stored entry of a profile')
            [CompletionResult]::new('set-notify-token', 'set-notify-token', [CompletionResultType]::ParameterValue, 'Store the incident.io alert source token that `verify --notify` sends, read from stdin (one line) or a hidden prompt')
            break
        }
        'snconnect;help;credentials;show' {
            break
        }
        'snconnect;help;credentials;forget' {
            break
        }
        'snconnect;help;credentials;set-notify-token' {
            break
        }
        'snconnect;help;demo' {
            break
        }
        'snconnect;help;sandbox' {
            break
        }
        'snconnect;help;completions' {
            break
        }
        'snconnect;help;man' {
            break
        }
        'snconnect;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
