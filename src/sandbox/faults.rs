//! Injected faults: what an instance answers when it is asleep, behind an SSO page, throttling,
//! or failing. They live in the db so a test can flip them between two requests with `with_db`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// How a hibernating developer instance answers (sources disagree; both are seen).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hibernation {
    /// 200 with the HTML hibernation page.
    Ok200,
    /// 503 with the same page.
    Unavailable503,
}

/// Faults applied before anything else, in this order: hibernation, login page, rate limit,
/// server errors. Counters count down one per request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Faults {
    pub hibernating: Option<Hibernation>,
    /// Every request gets an HTML login/SSO page with 200, as behind a misconfigured proxy or SSO.
    pub login_page: bool,
    /// The next N requests get 429.
    pub rate_limit_next: u32,
    /// Whether those 429s carry `Retry-After` (the semaphore-exhaustion variant does not).
    pub rate_limit_retry_after: bool,
    /// The next N requests get `server_error_status`.
    pub server_errors_next: u32,
    /// 500, 502 or 503.
    pub server_error_status: u16,
    /// Tables whose next REST insert is raced: just before it, the same record is inserted by
    /// another client (`race.admin`), dated a second earlier — what a second machine running
    /// `apply` at the same moment does. Each entry is used once.
    pub raced_inserts: Vec<String>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            hibernating: None,
            login_page: false,
            rate_limit_next: 0,
            rate_limit_retry_after: true,
            server_errors_next: 0,
            server_error_status: 500,
            raced_inserts: Vec::new(),
        }
    }
}

/// The page a sleeping developer instance serves instead of any API answer.
/// The page a sleeping developer instance answers every route with, with the markers seen on real
/// ones (facts sheet, Corrections 4: the `instance-hibernating-page` class, the title, the text,
/// and one "Sign in" link to the developer portal).
pub const HIBERNATING_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Instance Hibernating page</title></head>\n<body class=\"instance-hibernating-page\"><div class=\"hibernating-content\"><h1>Your instance is hibernating</h1>\n<p>This developer instance is asleep to save resources. Sign in to the developer portal to wake it up, then try again.</p>\n<a href=\"https://developer.servicenow.com/dev.do#!/home?wu=true\">Sign in</a></div></body></html>\n";

/// A sign-in page, as served by SSO or a proxy in front of the instance.
pub const LOGIN_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Log in | ServiceNow</title></head>\n<body><form id=\"loginPage\" method=\"POST\" action=\"login.do\">\n<input name=\"user_name\" id=\"user_name\"/><input type=\"password\" name=\"user_password\" id=\"user_password\"/>\n<button type=\"submit\" name=\"not_important\" id=\"sysverb_login\">Log in</button></form></body></html>\n";

fn html(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html;charset=UTF-8"),
        )],
        body,
    )
        .into_response()
}

/// The sign-in page as a response (also what `/login.do` serves).
pub fn login_page_response() -> Response {
    html(StatusCode::OK, LOGIN_PAGE)
}

/// Takes the fault due for this request, if any, counting down the counters.
pub fn take(faults: &mut Faults, now_unix: u64) -> Option<Response> {
    if let Some(mode) = faults.hibernating {
        let status = match mode {
            Hibernation::Ok200 => StatusCode::OK,
            Hibernation::Unavailable503 => StatusCode::SERVICE_UNAVAILABLE,
        };
        return Some(html(status, HIBERNATING_PAGE));
    }
    if faults.login_page {
        return Some(login_page_response());
    }
    if faults.rate_limit_next > 0 {
        faults.rate_limit_next -= 1;
        let body = serde_json::json!({
            "error": {
                "message": "Rate limit exceeded",
                "detail": "Rate limit of 100 requests per hour for Table API exceeded"
            },
            "status": "failure"
        });
        let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
        if faults.rate_limit_retry_after {
            let headers = response.headers_mut();
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            headers.insert("X-RateLimit-Limit", HeaderValue::from_static("100"));
            headers.insert(
                "X-RateLimit-Reset",
                HeaderValue::from_str(&(now_unix + 1).to_string())
                    .unwrap_or(HeaderValue::from_static("0")),
            );
            headers.insert(
                "X-RateLimit-Rule",
                HeaderValue::from_static("5ed01b3e1b2f3010a1b2c3d4e5f60718"),
            );
        }
        return Some(response);
    }
    if faults.server_errors_next > 0 {
        faults.server_errors_next -= 1;
        let status = StatusCode::from_u16(faults.server_error_status)
            .ok()
            .filter(|s| s.is_server_error())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Some(match status {
            StatusCode::INTERNAL_SERVER_ERROR => {
                let body = serde_json::json!({
                    "error": {"message": "Internal Server Error", "detail": null},
                    "status": "failure"
                });
                (status, axum::Json(body)).into_response()
            }
            StatusCode::BAD_GATEWAY => html(
                status,
                "<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>\n",
            ),
            _ => html(
                status,
                "<html><head><title>Service Unavailable</title></head><body>The instance is temporarily unavailable.</body></html>\n",
            ),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_count_down_and_then_stop() {
        let mut f = Faults {
            rate_limit_next: 1,
            server_errors_next: 1,
            server_error_status: 502,
            ..Faults::default()
        };
        assert_eq!(take(&mut f, 0).unwrap().status(), 429);
        assert_eq!(take(&mut f, 0).unwrap().status(), 502);
        assert!(take(&mut f, 0).is_none());
    }

    #[test]
    fn rate_limit_headers_follow_the_variant() {
        let mut f = Faults {
            rate_limit_next: 2,
            ..Faults::default()
        };
        let r = take(&mut f, 100).unwrap();
        assert_eq!(r.headers()["retry-after"], "1");
        assert_eq!(r.headers()["x-ratelimit-reset"], "101");
        f.rate_limit_retry_after = false;
        let r = take(&mut f, 100).unwrap();
        assert!(r.headers().get("retry-after").is_none());
    }

    #[test]
    fn hibernation_wins_and_never_runs_out() {
        let mut f = Faults {
            hibernating: Some(Hibernation::Unavailable503),
            rate_limit_next: 1,
            ..Faults::default()
        };
        for _ in 0..3 {
            assert_eq!(take(&mut f, 0).unwrap().status(), 503);
        }
        assert_eq!(f.rate_limit_next, 1);
    }
}
