//! The web UI: logins, sessions and CSRF checks, the issue list and the
//! issue page over HTTP, and a real browser (headless Chromium driven by
//! playwright-core) triaging an issue the Python SDK made.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

use crate::common::{TestServer, clients_dir, header, run_python, scripts_dir};

const EMAIL: &str = "dev@example.com";
const PASSWORD: &str = "correct horse battery";

/// An answer of the server, not followed if it redirects.
struct Answer {
    status: u16,
    location: String,
    set_cookies: Vec<String>,
    content_type: String,
    body: String,
}

/// A client that keeps cookies, as a browser would, and does not follow
/// redirects, so that tests see them.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    fn new(server: &TestServer) -> Result<Self> {
        Ok(Self {
            base: server.url.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            cookies: BTreeMap::new(),
        })
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Result<Answer> {
        let cookie = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        let request = if cookie.is_empty() {
            request
        } else {
            request.header("cookie", cookie)
        };
        let response = request.send().await?;
        let location = header(&response, "location");
        let content_type = header(&response, "content-type");
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok().map(str::to_owned))
            .collect();
        for set_cookie in &set_cookies {
            let pair = set_cookie.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').context("cookie without =")?;
            if value.is_empty() || set_cookie.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Ok(Answer {
            status: response.status().as_u16(),
            location,
            set_cookies,
            content_type,
            body: response.text().await?,
        })
    }

    async fn get(&mut self, path: &str) -> Result<Answer> {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Result<Answer> {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form)?);
        self.send(request).await
    }

    /// Fills in the login form; returns the answer to the `POST`.
    async fn log_in(&mut self, email: &str, password: &str) -> Result<Answer> {
        let form = self.get("/auth/login/").await?;
        ensure!(form.status == 200, "login form answered {}", form.status);
        let csrf = csrf_of(&form.body)?;
        self.post(
            "/auth/login/",
            &[
                ("csrf", &csrf),
                ("email", email),
                ("password", password),
                ("next", "/"),
            ],
        )
        .await
    }
}

/// The CSRF token of the first form of a page.
fn csrf_of(body: &str) -> Result<String> {
    let start = body
        .find("name=\"csrf\" value=\"")
        .context("no csrf field on the page")?
        + "name=\"csrf\" value=\"".len();
    let end = body[start..].find('"').context("unterminated csrf value")?;
    Ok(body[start..start + end].to_owned())
}

/// The issue ids the rows of a list page link to, in order.
fn listed_ids(body: &str) -> Vec<String> {
    body.match_indices("data-issue-id=\"")
        .filter_map(|(at, marker)| {
            let rest = &body[at + marker.len()..];
            rest.find('"').map(|end| rest[..end].to_owned())
        })
        .collect()
}

/// A server with a project and a logged-in browser.
async fn logged_in() -> Result<(TestServer, crate::common::Init, Browser)> {
    let server = TestServer::start()?;
    let init = server.init("shop")?;
    server.create_user(EMAIL, PASSWORD, false)?;
    let mut browser = Browser::new(&server)?;
    let answer = browser.log_in(EMAIL, PASSWORD).await?;
    ensure!(
        answer.status == 303,
        "login answered {}: {}",
        answer.status,
        answer.body
    );
    Ok((server, init, browser))
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// The web API's view of one issue.
async fn api_issue(server: &TestServer, init: &crate::common::Init, id: &str) -> Result<Value> {
    let (status, issue) = server
        .get(&init.token, &format!("/api/0/issues/{id}/"))
        .await?;
    ensure!(status == 200, "issue {id} answered {status}");
    Ok(issue)
}

#[tokio::test]
async fn login_refuses_a_wrong_password_and_opens_a_session_for_the_right_one() -> Result<()> {
    let server = TestServer::start()?;
    server.init("shop")?;
    server.create_user(EMAIL, PASSWORD, false)?;
    let mut browser = Browser::new(&server)?;

    // Pages need a login, and come back after it.
    let list = browser
        .get("/organizations/sentry/issues/?query=is:resolved")
        .await?;
    assert_eq!(list.status, 303);
    assert_eq!(
        list.location,
        "/auth/login/?next=%2Forganizations%2Fsentry%2Fissues%2F%3Fquery%3Dis%3Aresolved"
    );

    let wrong = browser.log_in(EMAIL, "wrong password").await?;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("The email or password is not correct."));
    assert!(!browser.cookies.contains_key("sentry_session"));
    let unknown = browser.log_in("nobody@example.com", PASSWORD).await?;
    assert_eq!(unknown.status, 401);

    let right = browser.log_in(EMAIL, PASSWORD).await?;
    assert_eq!(right.status, 303);
    assert_eq!(right.location, "/");
    let session = right
        .set_cookies
        .iter()
        .find(|cookie| cookie.starts_with("sentry_session="))
        .context("no session cookie")?;
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );

    let home = browser.get("/").await?;
    assert_eq!(home.status, 303);
    assert_eq!(home.location, "/organizations/sentry/issues/");
    let list = browser.get("/organizations/sentry/issues/").await?;
    assert_eq!(list.status, 200);
    assert!(list.content_type.starts_with("text/html"));
    assert!(list.body.contains(EMAIL));
    Ok(())
}

#[tokio::test]
async fn repeated_logins_to_one_account_are_throttled() -> Result<()> {
    let server = TestServer::start()?;
    server.init("shop")?;
    server.create_user(EMAIL, PASSWORD, false)?;
    let mut browser = Browser::new(&server)?;
    // Ten attempts in five minutes (`max_login_attempts`), then 429, even
    // with the right password: guessing stops for a while.
    for _ in 0..10 {
        assert_eq!(browser.log_in(EMAIL, "guess").await?.status, 401);
    }
    let throttled = browser.log_in(EMAIL, PASSWORD).await?;
    assert_eq!(throttled.status, 429);
    assert!(throttled.body.contains("Too many login attempts"));
    assert!(!browser.cookies.contains_key("sentry_session"));
    // Another account from the same address is still let in.
    server.create_user("other@example.com", PASSWORD, false)?;
    let other = browser.log_in("other@example.com", PASSWORD).await?;
    assert_eq!(other.status, 303);
    Ok(())
}

#[tokio::test]
async fn forms_without_their_csrf_token_are_refused() -> Result<()> {
    let (server, init, mut browser) = logged_in().await?;
    let id = server
        .send_event(&init, &json!({"message": "guarded"}))
        .await?;
    server.settled().await?;
    let issues = server.all_issues(&init).await?;
    let issue_id = issues[0]["id"].as_str().context("id")?.to_owned();
    let _ = id;

    let no_token = browser
        .post(
            "/organizations/sentry/issues/bulk/",
            &[("action", "resolve"), ("id", &issue_id)],
        )
        .await?;
    assert_eq!(no_token.status, 403);
    assert!(no_token.content_type.starts_with("text/html"));
    assert!(no_token.body.contains("CSRF"));
    let wrong_token = browser
        .post(
            &format!("/organizations/sentry/issues/{issue_id}/status/"),
            &[("action", "resolve"), ("csrf", &"0".repeat(64))],
        )
        .await?;
    assert_eq!(wrong_token.status, 403);
    assert_eq!(
        api_issue(&server, &init, &issue_id).await?["status"],
        "unresolved"
    );

    // The login form checks its own token.
    let mut stranger = Browser::new(&server)?;
    let login = stranger
        .post("/auth/login/", &[("email", EMAIL), ("password", PASSWORD)])
        .await?;
    assert_eq!(login.status, 403);
    assert!(!stranger.cookies.contains_key("sentry_session"));
    Ok(())
}

#[tokio::test]
async fn logout_closes_the_session() -> Result<()> {
    let (_server, _init, mut browser) = logged_in().await?;
    let list = browser.get("/organizations/sentry/issues/").await?;
    let csrf = csrf_of(&list.body)?;
    let old_session = browser
        .cookies
        .get("sentry_session")
        .cloned()
        .context("session")?;

    let out = browser.post("/auth/logout/", &[("csrf", &csrf)]).await?;
    assert_eq!(out.status, 303);
    assert_eq!(out.location, "/auth/login/");
    assert!(!browser.cookies.contains_key("sentry_session"));
    // The old cookie opens nothing any more.
    browser
        .cookies
        .insert("sentry_session".to_owned(), old_session);
    let list = browser.get("/organizations/sentry/issues/").await?;
    assert_eq!(list.status, 303);
    assert!(list.location.starts_with("/auth/login/"));
    Ok(())
}

#[tokio::test]
async fn issue_list_filters_by_tab_and_query_sorts_and_pages() -> Result<()> {
    let (server, init, mut browser) = logged_in().await?;
    // Words, not numbers: grouping would take numbers for parameters.
    let word = |n: u8| {
        format!(
            "listed message {}{}",
            char::from(b'a' + n / 26),
            char::from(b'a' + n % 26)
        )
    };
    for n in 0..27 {
        server
            .send_event(&init, &json!({"message": word(n), "level": "warning"}))
            .await?;
    }
    for _ in 0..3 {
        server
            .send_event(
                &init,
                &json!({"message": "frequent needle", "level": "error"}),
            )
            .await?;
    }
    server.settled().await?;
    let issues = server.all_issues(&init).await?;
    let id_of = |title: &str| -> Result<String> {
        issues
            .iter()
            .find(|issue| issue["title"] == title)
            .and_then(|issue| issue["id"].as_str())
            .map(str::to_owned)
            .with_context(|| format!("no issue {title}"))
    };
    let frequent = id_of("frequent needle")?;
    let resolved = id_of(&word(0))?;
    let (status, _) = server
        .call(
            reqwest::Method::PUT,
            &init.token,
            &format!("/api/0/issues/{resolved}/"),
            Some(json!({"status": "resolved"})),
        )
        .await?;
    assert_eq!(status, 200);

    // Unresolved by default, 25 a page.
    let first = browser.get("/organizations/sentry/issues/").await?;
    assert_eq!(first.status, 200);
    let first_ids = listed_ids(&first.body);
    assert_eq!(first_ids.len(), 25);
    assert!(!first_ids.contains(&resolved));
    assert!(
        first
            .body
            .contains("class=\"active\" aria-current=\"page\">Unresolved")
    );
    // Each row's chart is an image of its own.
    let chart = format!("/organizations/sentry/issues/{frequent}/sparkline.svg");
    assert!(
        first
            .body
            .contains(&format!("<img class=\"sparkline\" src=\"{chart}\""))
    );
    let svg = browser.get(&chart).await?;
    assert_eq!(svg.status, 200);
    assert_eq!(svg.content_type, "image/svg+xml");
    assert_eq!(svg.body.matches("<rect").count(), 24, "one bar an hour");
    assert!(
        svg.body.contains("<title>3</title>"),
        "the hour of the 3 events"
    );
    assert!(first.body.contains("rel=\"next\""));
    let second = browser
        .get("/organizations/sentry/issues/?query=is%3Aunresolved&cursor=0%3A25%3A0")
        .await?;
    let second_ids = listed_ids(&second.body);
    assert_eq!(second_ids.len(), 2, "27 unresolved issues in all");
    assert!(second_ids.iter().all(|id| !first_ids.contains(id)));
    assert!(second.body.contains("rel=\"prev\""));

    // The resolved tab.
    let tab = browser
        .get("/organizations/sentry/issues/?query=is%3Aresolved")
        .await?;
    assert_eq!(listed_ids(&tab.body), [resolved]);
    assert!(
        tab.body
            .contains("class=\"active\" aria-current=\"page\">Resolved")
    );

    // Search text and sort by events.
    let found = browser
        .get("/organizations/sentry/issues/?query=is%3Aunresolved+needle")
        .await?;
    assert_eq!(listed_ids(&found.body), std::slice::from_ref(&frequent));
    assert!(
        found.body.contains(">3</div>"),
        "the count of the frequent issue"
    );
    let by_events = browser
        .get("/organizations/sentry/issues/?query=is%3Aunresolved&sort=freq")
        .await?;
    assert_eq!(listed_ids(&by_events.body).first(), Some(&frequent));

    // A query that does not parse is a 400 page that says why.
    let bad = browser
        .get("/organizations/sentry/issues/?query=is%3Asleeping")
        .await?;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("alert-error"), "{}", bad.body);
    let bad_sort = browser
        .get("/organizations/sentry/issues/?sort=random")
        .await?;
    assert_eq!(bad_sort.status, 400);
    assert!(bad_sort.content_type.starts_with("text/html"));
    Ok(())
}

#[tokio::test]
async fn bulk_resolve_moves_issues_to_the_resolved_tab() -> Result<()> {
    let (server, init, mut browser) = logged_in().await?;
    for message in ["bulk one", "bulk two", "bulk three"] {
        server
            .send_event(&init, &json!({"message": message}))
            .await?;
    }
    server.settled().await?;
    let list = browser.get("/organizations/sentry/issues/").await?;
    let ids = listed_ids(&list.body);
    assert_eq!(ids.len(), 3);
    let csrf = csrf_of(&list.body)?;
    let next = "/organizations/sentry/issues/?query=is%3Aunresolved";
    // Nothing checked changes nothing (the API would take every issue).
    let nothing = browser
        .post(
            "/organizations/sentry/issues/bulk/",
            &[("csrf", &csrf), ("next", next), ("action", "resolve")],
        )
        .await?;
    assert_eq!(nothing.status, 303);
    for id in &ids {
        assert_eq!(api_issue(&server, &init, id).await?["status"], "unresolved");
    }
    let done = browser
        .post(
            "/organizations/sentry/issues/bulk/",
            &[
                ("csrf", &csrf),
                ("next", next),
                ("action", "resolve"),
                ("id", &ids[0]),
                ("id", &ids[1]),
            ],
        )
        .await?;
    assert_eq!(done.status, 303);
    assert_eq!(done.location, next);
    for id in &ids[..2] {
        assert_eq!(api_issue(&server, &init, id).await?["status"], "resolved");
    }
    assert_eq!(
        api_issue(&server, &init, &ids[2]).await?["status"],
        "unresolved"
    );
    let resolved = browser
        .get("/organizations/sentry/issues/?query=is%3Aresolved")
        .await?;
    let mut shown = listed_ids(&resolved.body);
    shown.sort();
    let mut expected = ids[..2].to_vec();
    expected.sort();
    assert_eq!(shown, expected);

    // Ignore, then unresolve, from the same form.
    browser
        .post(
            "/organizations/sentry/issues/bulk/",
            &[("csrf", &csrf), ("action", "ignore"), ("id", &ids[2])],
        )
        .await?;
    assert_eq!(
        api_issue(&server, &init, &ids[2]).await?["status"],
        "ignored"
    );
    browser
        .post(
            "/organizations/sentry/issues/bulk/",
            &[("csrf", &csrf), ("action", "unresolve"), ("id", &ids[2])],
        )
        .await?;
    assert_eq!(
        api_issue(&server, &init, &ids[2]).await?["status"],
        "unresolved"
    );
    let unknown = browser
        .post(
            "/organizations/sentry/issues/bulk/",
            &[("csrf", &csrf), ("action", "explode"), ("id", &ids[2])],
        )
        .await?;
    assert_eq!(unknown.status, 400);
    Ok(())
}

fn detailed_event(second: u64, user: &str) -> Value {
    json!({
        "platform": "python",
        "timestamp": second,
        "level": "error",
        "release": "shop@2.0",
        "environment": "production",
        "tags": {"browser": "Firefox"},
        "user": {"id": user, "email": format!("{user}@example.com")},
        "request": {"method": "POST", "url": "https://shop.example/cart", "headers": {"User-Agent": "Firefox/128"}},
        "breadcrumbs": {"values": [{"category": "auth", "message": "user logged in", "timestamp": second - 5}]},
        "exception": {"values": [{
            "type": "KeyError", "value": "'basket'",
            "mechanism": {"type": "generic", "handled": false},
            "stacktrace": {"frames": [
                {"module": "threading", "filename": "threading.py", "function": "run_thread", "lineno": 870, "in_app": false},
                {"module": "shop.views", "filename": "shop/views.py", "function": "checkout", "lineno": 9, "in_app": true,
                 "pre_context": ["def checkout(request):", "    cart = load()"],
                 "context_line": "    return cart['basket']",
                 "post_context": [""],
                 "vars": {"cart_size": 0}}
            ]}
        }]}
    })
}

#[tokio::test]
async fn issue_page_shows_the_event_moves_between_events_and_changes_status() -> Result<()> {
    let (server, init, mut browser) = logged_in().await?;
    let start = now_seconds() - 600;
    let mut event_ids = Vec::new();
    for (offset, user) in [(0, "ann"), (10, "bob"), (20, "ann")] {
        event_ids.push(
            server
                .send_event(&init, &detailed_event(start + offset, user))
                .await?,
        );
    }
    // A user's feedback on the latest event.
    let report = serde_json::json!({
        "event_id": event_ids[2], "name": "Ann", "email": "ann@example.com",
        "comments": "The cart emptied itself at checkout",
    })
    .to_string();
    let envelope = format!(
        "{{\"event_id\":\"{}\"}}\n{{\"type\":\"user_report\",\"length\":{}}}\n{report}\n",
        event_ids[2],
        report.len()
    );
    let (status, _) = server
        .post(
            &format!(
                "/api/{}/envelope/?sentry_key={}",
                init.project_id,
                init.key()
            ),
            &[],
            envelope,
        )
        .await?;
    ensure!(status == 200, "the feedback envelope answered {status}");
    server.settled().await?;
    let issues = server.all_issues(&init).await?;
    ensure!(issues.len() == 1, "one issue: {issues:?}");
    let issue_id = issues[0]["id"].as_str().context("id")?.to_owned();
    let base = format!("/organizations/sentry/issues/{issue_id}/");

    let page = browser.get(&base).await?;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = &page.body;
    for expected in [
        "<span class=\"issue-type\">KeyError</span>",
        "SHOP-1",
        "shop.views in checkout",
        "<div class=\"stat-value\" id=\"issue-count\">3</div>",
        "shop@2.0",
        // The latest event, with its chain and frames.
        &event_ids[2],
        "<span class=\"frame-function\">checkout</span>",
        "<span class=\"pill pill-in-app\">In App</span>",
        "<details class=\"system-frames\">",
        "<span class=\"frame-function\">run_thread</span>",
        "<code>    return cart[&#39;basket&#39;]</code>",
        "<th>cart_size</th>",
        "unhandled",
        // Breadcrumbs, request, user, contexts, SDK, raw JSON.
        "user logged in",
        "POST https://shop.example/cart",
        "ann@example.com",
        "Raw JSON",
        // The user's feedback, linked to its event.
        "<h2>User Feedback</h2>",
        "The cart emptied itself at checkout",
        "Ann &#60;ann@example.com&#62;",
        // Tag facets, in a frame of their own.
        &format!("<iframe class=\"facets-frame\" src=\"{base}tags/\""),
        // Grouping: what contributed and why.
        "Grouping Information",
        "pill-contributes",
    ] {
        assert!(body.contains(expected), "the issue page lacks {expected:?}");
    }
    let tags = browser.get(&format!("{base}tags/")).await?;
    assert_eq!(tags.status, 200);
    assert!(
        tags.body
            .contains("<div class=\"facet-key\" title=\"browser\">Browser</div>")
    );
    assert!(tags.body.contains(
        "<span class=\"facet-label\">Firefox</span><span class=\"facet-percent\">100%</span>"
    ));
    // The in-app frame opens; the system frame is folded away.
    assert!(body.contains("<details class=\"frame in-app\" open>"));
    assert!(body.contains("<span class=\"button small disabled\">Newer</span>"));

    // Older, then newer again.
    let middle = format!("{base}events/{}/", event_ids[1]);
    assert!(
        body.contains(&format!("href=\"{middle}\" rel=\"prev\"")),
        "older link"
    );
    let page = browser.get(&middle).await?;
    assert!(page.body.contains("bob@example.com"));
    assert!(page.body.contains(&format!(
        "href=\"{base}events/{}/\" rel=\"next\"",
        event_ids[2]
    )));
    assert!(page.body.contains(&format!(
        "href=\"{base}events/{}/\" rel=\"prev\"",
        event_ids[0]
    )));
    let oldest = browser.get(&format!("{base}events/oldest/")).await?;
    assert!(oldest.body.contains(&event_ids[0]));
    assert!(
        oldest
            .body
            .contains("<span class=\"button small disabled\">Older</span>")
    );
    let missing = browser
        .get(&format!("{base}events/{}/", "0".repeat(32)))
        .await?;
    assert_eq!(missing.status, 404);
    assert!(missing.content_type.starts_with("text/html"));

    // Resolve, ignore and unresolve from the page.
    let csrf = csrf_of(&page.body)?;
    for (action, status) in [
        ("resolve", "resolved"),
        ("ignore", "ignored"),
        ("unresolve", "unresolved"),
    ] {
        let done = browser
            .post(
                &format!("{base}status/"),
                &[("csrf", &csrf), ("action", action)],
            )
            .await?;
        assert_eq!(done.status, 303);
        assert_eq!(done.location, base);
        assert_eq!(
            api_issue(&server, &init, &issue_id).await?["status"],
            status
        );
        let shown = browser.get(&base).await?;
        assert!(
            shown
                .body
                .contains(&format!("id=\"issue-status\">{status}</span>"))
        );
    }
    Ok(())
}

#[tokio::test]
async fn people_see_only_their_organizations() -> Result<()> {
    let (server, _init, mut browser) = logged_in().await?;
    let other = server.init_in("elsewhere", "secret-project")?;
    server
        .send_event(&other, &json!({"message": "not yours"}))
        .await?;
    server.settled().await?;
    let page = browser.get("/organizations/elsewhere/issues/").await?;
    assert_eq!(page.status, 404);
    let issues = server.all_issues(&other).await?;
    let id = issues[0]["id"].as_str().context("id")?;
    let page = browser
        .get(&format!("/organizations/sentry/issues/{id}/"))
        .await?;
    assert_eq!(
        page.status, 404,
        "another organization's issue through ours"
    );
    let page = browser
        .get("/organizations/sentry/issues/not-a-number/")
        .await?;
    assert_eq!(page.status, 404);
    Ok(())
}

/// Where the browser test writes its screenshots: `ui-screenshots` in the
/// build directory.
fn screenshot_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // The test binary is TARGET/debug/deps/it-...
    let target = exe.ancestors().nth(3).context("target dir")?;
    Ok(target.join("ui-screenshots"))
}

#[tokio::test]
async fn a_browser_logs_in_and_resolves_a_python_sdk_issue() -> Result<()> {
    let clients = clients_dir();
    let server = TestServer::start()?;
    let init = server.init("python")?;
    server.create_user(EMAIL, PASSWORD, false)?;
    run_python("python_scenarios.py", &[], &init.dsn)?;
    server.settled().await?;

    let shots = screenshot_dir()?;
    let output = Command::new("node")
        .arg(scripts_dir().join("browser_ui.cjs"))
        .env("NODE_PATH", clients.join("node/node_modules"))
        .env("UI_URL", &server.url)
        .env("UI_EMAIL", EMAIL)
        .env("UI_PASSWORD", PASSWORD)
        .env("UI_ISSUE", "ZeroDivisionError")
        .env("UI_SETTINGS", "/settings/sentry/projects/python/")
        .env("SCREENSHOT_DIR", &shots)
        .output()
        .context("running node")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure!(
        output.status.success(),
        "the browser script failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_str(stdout.trim()).context("the script's JSON")?;
    let texts = |key: &str| -> Vec<String> {
        seen[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|text| text.as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(seen["login_url"], "/auth/login/");
    assert_eq!(seen["list_url"], "/organizations/sentry/issues/");
    assert_eq!(texts("unresolved_before").len(), 6, "{seen}");
    assert_eq!(seen["detail_title"], "ZeroDivisionError division by zero");
    // The frames of python_scenarios.py, most recent call first.
    assert_eq!(texts("frames"), ["divide", "capture"]);
    assert_eq!(texts("in_app_frames"), ["divide", "capture"]);
    assert_eq!(texts("visible_source"), ["    return 1 / 0"]);
    assert_eq!(
        seen["status_after"]
            .as_str()
            .map(str::to_lowercase)
            .as_deref(),
        Some("resolved")
    );
    let unresolved_after = texts("unresolved_after");
    assert_eq!(unresolved_after.len(), 5);
    assert!(
        !unresolved_after
            .iter()
            .any(|title| title.starts_with("ZeroDivisionError"))
    );
    assert_eq!(texts("resolved"), ["ZeroDivisionError division by zero"]);
    assert!(
        seen["settings_error"]
            .as_str()
            .is_some_and(|error| !error.is_empty()),
        "{seen}"
    );
    for shot in texts("screenshots") {
        let size = std::fs::metadata(&shot)?.len();
        assert!(size > 10_000, "{shot} is only {size} bytes");
        #[allow(clippy::print_stderr, reason = "tell where the screenshots are")]
        {
            eprintln!("screenshot: {shot}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn settings_save_through_the_api_rules_and_show_errors_in_place() -> Result<()> {
    let (server, init, mut browser) = logged_in().await?;
    let path = "/settings/sentry/projects/shop/";
    let first = browser.get("/settings/sentry/projects/").await?;
    assert_eq!(first.status, 303);
    assert_eq!(first.location, path);
    let page = browser.get(path).await?;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&init.dsn), "the DSN is listed");
    let csrf = csrf_of(&page.body)?;
    let project_url = format!("/api/0/projects/{}/{}/", init.org, init.project);

    // Invalid rules: 400, the parser's message beside the field, the text kept.
    let broken = "error.type:Foo -> ";
    let refused = browser
        .post(
            path,
            &[
                ("csrf", &csrf),
                ("section", "grouping"),
                ("fingerprintingRules", broken),
                ("groupingEnhancements", ""),
            ],
        )
        .await?;
    assert_eq!(refused.status, 400);
    assert!(
        refused
            .body
            .contains("<p class=\"field-error\" role=\"alert\">")
    );
    assert!(refused.body.contains("error.type:Foo -&#62; </textarea>"));
    assert_eq!(
        server.get(&init.token, &project_url).await?.1["fingerprintingRules"],
        ""
    );

    let rules = "error.type:DatabaseUnavailable -> system-down";
    let saved = browser
        .post(
            path,
            &[
                ("csrf", &csrf),
                ("section", "grouping"),
                ("fingerprintingRules", rules),
                ("groupingEnhancements", "stack.module:vendor.* -app"),
            ],
        )
        .await?;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.location, format!("{path}?saved=grouping#grouping"));
    let (_, detail) = server.get(&init.token, &project_url).await?;
    assert_eq!(detail["fingerprintingRules"], rules);
    assert_eq!(detail["groupingEnhancements"], "stack.module:vendor.* -app");

    // Rate limit and data scrubbing.
    let saved = browser
        .post(
            path,
            &[
                ("csrf", &csrf),
                ("section", "rate-limit"),
                ("window", "60"),
                ("count", "100"),
            ],
        )
        .await?;
    assert_eq!(saved.status, 303);
    let refused = browser
        .post(
            path,
            &[
                ("csrf", &csrf),
                ("section", "rate-limit"),
                ("window", "0"),
                ("count", "1"),
            ],
        )
        .await?;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("field-error"));
    let saved = browser
        .post(
            path,
            &[
                ("csrf", &csrf),
                ("section", "scrubbing"),
                ("dataScrubber", "on"),
                ("sensitiveFields", "card_number\nsecret_answer"),
                ("safeFields", ""),
            ],
        )
        .await?;
    assert_eq!(saved.status, 303);
    let (_, detail) = server.get(&init.token, &project_url).await?;
    assert_eq!(detail["rateLimit"], json!({"window": 60, "count": 100}));
    assert_eq!(
        detail["sensitiveFields"],
        json!(["card_number", "secret_answer"])
    );
    assert_eq!(detail["dataScrubberDefaults"], false);

    // A new key, and the page shows what was saved.
    let saved = browser
        .post(
            path,
            &[("csrf", &csrf), ("section", "keys"), ("name", "Backend")],
        )
        .await?;
    assert_eq!(saved.status, 303);
    let page = browser.get(path).await?;
    assert!(page.body.contains("<td>Backend</td>"));
    assert!(page.body.contains("value=\"100\""));
    assert!(page.body.contains("card_number\nsecret_answer</textarea>"));
    let no_token = browser
        .post(path, &[("section", "keys"), ("name", "x")])
        .await?;
    assert_eq!(no_token.status, 403);
    Ok(())
}

#[tokio::test]
async fn releases_page_lists_releases_with_their_projects_and_last_event() -> Result<()> {
    let (server, init, mut browser) = logged_in().await?;
    let (status, _) = server
        .call(
            reqwest::Method::POST,
            &init.token,
            "/api/0/organizations/sentry/releases/",
            Some(json!({"version": "shop@3.1.4", "projects": ["shop"]})),
        )
        .await?;
    assert_eq!(status, 201);
    server
        .send_event(
            &init,
            &json!({"message": "released", "release": "shop@3.1.4"}),
        )
        .await?;
    server.settled().await?;
    let page = browser.get("/organizations/sentry/releases/").await?;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("shop@3.1.4"), "{}", page.body);
    assert!(page.body.contains("<td>shop</td>"));
    assert!(page.body.contains("just now") || page.body.contains("minute ago"));
    let none = browser
        .get("/organizations/sentry/releases/?query=nothing-like-it")
        .await?;
    assert!(!none.body.contains("shop@3.1.4"));
    assert!(none.body.contains("No releases yet"));
    Ok(())
}
