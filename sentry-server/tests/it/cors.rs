//! Browser SDKs post across origins: the preflight and the answer headers.

use anyhow::Result;
use serde_json::json;

use crate::common::{TestServer, header};

#[tokio::test]
async fn browsers_may_post_events_from_any_origin() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("browser")?;
    let path = format!("/api/{}/envelope/", init.project_id);
    let preflight = server
        .http
        .request(reqwest::Method::OPTIONS, format!("{}{path}", server.url))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, x-sentry-auth",
        )
        .send()
        .await?;
    assert_eq!(preflight.status(), 200);
    let header = |name: &str| header(&preflight, name).to_ascii_lowercase();
    assert_eq!(header("access-control-allow-origin"), "*");
    assert!(header("access-control-allow-methods").contains("post"));
    assert!(header("access-control-allow-headers").contains("x-sentry-auth"));

    let event = json!({"message": "from a browser"}).to_string();
    let response = server
        .http
        .post(format!(
            "{}/api/{}/store/?sentry_key={}",
            server.url,
            init.project_id,
            init.key()
        ))
        .header("origin", "https://app.example.com")
        .body(event)
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    let exposed = headers["access-control-expose-headers"]
        .to_str()?
        .to_ascii_lowercase();
    assert!(exposed.contains("x-sentry-rate-limits") && exposed.contains("retry-after"));

    // The web API is not opened to other origins.
    let api = server
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/api/0/", server.url))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "GET")
        .send()
        .await?;
    assert!(api.headers().get("access-control-allow-origin").is_none());
    Ok(())
}

#[tokio::test]
async fn a_project_takes_events_only_from_its_allowed_origins() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("origins")?;
    let project_url = format!(
        "{}/api/0/projects/{}/{}/",
        server.url, init.org, init.project
    );
    let put = |body: serde_json::Value| {
        server
            .http
            .put(&project_url)
            .bearer_auth(&init.token)
            .json(&body)
            .send()
    };
    let answer = put(json!({"allowedDomains": "example.com"})).await?;
    assert_eq!(answer.status(), 400, "a list is required");
    let answer = put(json!({"allowedDomains": ["*.example.com"]})).await?;
    assert_eq!(answer.status(), 200);
    let detail: serde_json::Value = answer.json().await?;
    assert_eq!(detail["allowedDomains"], json!(["*.example.com"]));

    let store = format!(
        "{}/api/{}/store/?sentry_key={}",
        server.url,
        init.project_id,
        init.key()
    );
    let send = |origin: Option<&'static str>| {
        let mut request = server
            .http
            .post(&store)
            .body(json!({"message": "from a page"}).to_string());
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    assert_eq!(send(Some("https://app.example.com")).await?.status(), 200);
    let refused = send(Some("https://evil.example.net")).await?;
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().await?;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("origin"),
        "{body}"
    );
    assert_eq!(
        send(None).await?.status(),
        200,
        "server SDKs send no origin"
    );

    // Back to the default: every origin.
    assert_eq!(put(json!({"allowedDomains": null})).await?.status(), 200);
    assert_eq!(send(Some("https://evil.example.net")).await?.status(), 200);
    Ok(())
}
