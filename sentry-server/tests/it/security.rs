//! Browser security reports at `/api/<id>/security/`: CSP (legacy and
//! Reporting API), Expect-CT, the noise filter, and bad requests.

use anyhow::Result;
use serde_json::{Value, json};

use crate::common::{Init, TestServer, issue_titled, titles};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

fn security_path(init: &Init) -> String {
    format!(
        "/api/{}/security/?sentry_key={}&sentry_release=web%401.0.0&sentry_environment=production",
        init.project_id,
        init.key()
    )
}

/// Posts a report as a browser does; returns the status and the raw answer.
async fn post_report(
    server: &TestServer,
    path: &str,
    content_type: &str,
    body: &Value,
) -> Result<(u16, String)> {
    let response = server
        .http
        .post(format!("{}{path}", server.url))
        .header("content-type", content_type)
        .header("user-agent", FIREFOX)
        .body(body.to_string())
        .send()
        .await?;
    Ok((response.status().as_u16(), response.text().await?))
}

fn legacy_csp(directive: &str, blocked: &str) -> Value {
    json!({"csp-report": {
        "document-uri": "https://shop.example.com/checkout",
        "referrer": "https://shop.example.com/",
        "violated-directive": format!("{directive} 'self'"),
        "effective-directive": directive,
        "original-policy": format!("{directive} 'self'; report-uri /api/1/security/"),
        "disposition": "enforce",
        "blocked-uri": blocked,
        "status-code": 200,
    }})
}

fn reporting_api_csp(directive: &str, blocked: &str) -> Value {
    json!([{
        "type": "csp-violation",
        "age": 53531,
        "url": "https://shop.example.com/cart",
        "user_agent": FIREFOX,
        "body": {
            "documentURL": "https://shop.example.com/cart",
            "blockedURL": blocked,
            "effectiveDirective": directive,
            "originalPolicy": format!("{directive} 'self'; report-to csp"),
            "disposition": "enforce",
            "statusCode": 200,
            "referrer": "",
            "sample": "",
        },
    }])
}

fn tag<'a>(event: &'a Value, key: &str) -> Option<&'a str> {
    event["tags"]
        .as_array()?
        .iter()
        .find(|tag| tag["key"] == key)
        .and_then(|tag| tag["value"].as_str())
}

#[tokio::test]
async fn security_reports_become_grouped_issues() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("security")?;
    let path = security_path(&init);

    // Reporting API bodies carry no violated directive, so their culprit
    // is empty (as Relay leaves it); the legacy report after it names one.
    let script = reporting_api_csp("script-src", "https://evil.example.com/other.js");
    let (status, answer) = post_report(&server, &path, "application/reports+json", &script).await?;
    assert_eq!((status, answer.as_str()), (200, ""));

    // The same directive and blocked host, as a legacy report.
    let script_again = legacy_csp("script-src", "https://evil.example.com/steal.js?v=1");
    let (status, answer) =
        post_report(&server, &path, "application/csp-report", &script_again).await?;
    assert_eq!((status, answer.as_str()), (200, ""));

    let image = legacy_csp("img-src", "https://pixels.example.net/p.gif");
    let (status, _) = post_report(&server, &path, "application/json", &image).await?;
    assert_eq!(status, 200);

    let expect_ct = json!({"expect-ct-report": {
        "date-time": "2024-04-06T13:00:50Z",
        "hostname": "www.example.com",
        "port": 443,
        "effective-expiration-date": "2024-05-01T12:40:50Z",
        "served-certificate-chain": [],
        "validated-certificate-chain": [],
        "scts": [],
    }});
    let (status, _) = post_report(
        &server,
        &path,
        "application/expect-ct-report+json",
        &expect_ct,
    )
    .await?;
    assert_eq!(status, 200);

    // Noise from a browser extension is accepted and dropped.
    let extension = legacy_csp("script-src", "chrome-extension://abcdefghijkl/content.js");
    let (status, answer) =
        post_report(&server, &path, "application/csp-report", &extension).await?;
    assert_eq!((status, answer.as_str()), (200, ""));

    let issues = server.all_issues(&init).await?;
    assert_eq!(issues.len(), 3, "{:?}", titles(&issues));

    let script_issue = issue_titled(&issues, "Blocked 'script' from 'evil.example.com'");
    assert_eq!(script_issue["culprit"], "script-src 'self'");
    assert_eq!(script_issue["count"], "2");
    assert_eq!(script_issue["type"], "csp");

    let image_issue = issue_titled(&issues, "Blocked 'image' from 'pixels.example.net'");
    assert_eq!(image_issue["culprit"], "img-src 'self'");
    assert_eq!(image_issue["count"], "1");

    let ct_issue = issue_titled(&issues, "Expect-CT failed for 'www.example.com'");
    assert_eq!(ct_issue["culprit"], "www.example.com");

    let first_id = script_issue["id"].as_str().unwrap_or_default();
    let event = server.latest_event(&init, first_id).await?;
    assert_eq!(event["type"], "csp");
    assert_eq!(event["logger"], "csp");
    assert_eq!(event["level"], "error");
    assert_eq!(event["release"]["version"], "web@1.0.0");
    assert_eq!(event["environment"], "production");
    assert_eq!(tag(&event, "effective-directive"), Some("script-src"));
    assert_eq!(tag(&event, "blocked-host"), Some("evil.example.com"));
    let request = event["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|entry| entry["type"] == "request")
        .map(|entry| entry["data"].clone())
        .unwrap_or_default();
    assert!(
        request["url"]
            .as_str()
            .is_some_and(|url| url.starts_with("https://shop.example.com/")),
        "{request}"
    );
    assert!(
        request["headers"].to_string().contains(FIREFOX),
        "{request}"
    );

    let ct_event = server
        .latest_event(&init, ct_issue["id"].as_str().unwrap_or_default())
        .await?;
    assert_eq!(tag(&ct_event, "hostname"), Some("www.example.com"));
    assert_eq!(tag(&ct_event, "port"), Some("443"));
    Ok(())
}

#[tokio::test]
async fn bad_security_reports_are_rejected() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("security-bad")?;
    let path = security_path(&init);
    let csp = "application/csp-report";

    for body in ["{not json", r#"{"hello": "world"}"#, ""] {
        let (status, answer) = server
            .post(&path, &[("content-type", csp)], body.to_owned())
            .await?;
        assert_eq!(status, 400, "{body:?}: {answer}");
        let detail = answer["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("security report"), "{detail}");
    }

    let report = legacy_csp("script-src", "https://evil.example.com/a.js").to_string();
    let (status, answer) = server
        .post(&path, &[("content-type", "text/plain")], report.clone())
        .await?;
    assert_eq!(status, 415, "{answer}");

    let no_key = format!("/api/{}/security/", init.project_id);
    let (status, answer) = server
        .post(&no_key, &[("content-type", csp)], report.clone())
        .await?;
    assert_eq!(status, 401, "{answer}");
    assert!(answer["detail"].is_string(), "{answer}");

    let wrong_key = format!(
        "/api/{}/security?sentry_key=0123456789abcdef0123456789abcdef",
        init.project_id
    );
    let (status, _) = server
        .post(&wrong_key, &[("content-type", csp)], report.clone())
        .await?;
    assert_eq!(status, 401);

    let other = server.init("security-other")?;
    let other_project = format!(
        "/api/{}/security/?sentry_key={}",
        other.project_id,
        init.key()
    );
    let (status, _) = server
        .post(&other_project, &[("content-type", csp)], report)
        .await?;
    assert_eq!(status, 403);

    assert!(server.all_issues(&init).await?.is_empty());
    Ok(())
}
