//! An issue's events and tags through the web API, and issue search by
//! tag: what the event store's listings, facets and filters serve.

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::common::{TestServer, next_link};

fn event(environment: &str, browser: &str, second: u64) -> Value {
    json!({
        "platform": "python",
        "timestamp": second,
        "environment": environment,
        "tags": {"browser": browser},
        "exception": {"values": [{"type": "KeyError", "value": "'basket'", "stacktrace": {"frames": [
            {"module": "shop", "filename": "shop.py", "function": "checkout", "lineno": 9, "in_app": true}
        ]}}]},
    })
}

#[tokio::test]
async fn issue_events_tags_and_tag_search() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("tagged")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        - 600;
    let sent = [
        ("production", "Chrome", now),
        ("production", "Chrome", now + 1),
        ("production", "Firefox", now + 2),
        ("staging", "Chrome", now + 3),
        ("staging", "Safari", now + 4),
    ];
    let mut ids = Vec::new();
    for (environment, browser, second) in sent {
        ids.push(
            server
                .send_event(&init, &event(environment, browser, second))
                .await?,
        );
    }
    // Another issue, only in staging.
    server
        .send_event(
            &init,
            &json!({"message": "staging only", "environment": "staging"}),
        )
        .await?;

    let issues = server.all_issues(&init).await?;
    let issue = issues
        .iter()
        .find(|issue| issue["title"] == "KeyError: 'basket'")
        .context("the KeyError issue")?;
    let issue_id = issue["id"].as_str().context("id")?;

    // Events, newest first, two a page, following Link cursors.
    let mut url = Some(format!(
        "{}/api/0/issues/{issue_id}/events/?limit=2",
        server.url
    ));
    let mut listed = Vec::new();
    let mut pages = 0;
    while let Some(next) = url {
        let response = server
            .http
            .get(&next)
            .bearer_auth(&init.token)
            .send()
            .await?;
        assert_eq!(response.status(), 200);
        url = next_link(response.headers().get("link").and_then(|v| v.to_str().ok()));
        let page: Vec<Value> = response.json().await?;
        assert!(page.len() <= 2);
        for event in &page {
            assert_eq!(event["groupID"], issue_id);
            assert_eq!(event["event.type"], "error");
            assert!(
                event.get("entries").is_none(),
                "a summary, not the full event"
            );
        }
        listed.extend(
            page.iter()
                .map(|event| event["eventID"].as_str().unwrap_or_default().to_owned()),
        );
        pages += 1;
    }
    assert_eq!(pages, 3);
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(listed, newest_first);

    let (status, full) = server
        .get(
            &init.token,
            &format!("/api/0/issues/{issue_id}/events/?full=true&environment=staging"),
        )
        .await?;
    assert_eq!(status, 200);
    let full = full.as_array().context("array")?;
    assert_eq!(full.len(), 2, "two staging events");
    assert!(full[0]["entries"].is_array(), "full events have entries");
    let tags = full[0]["tags"].as_array().context("tags")?;
    assert!(tags.contains(&json!({"key": "environment", "value": "staging"})));
    assert!(
        tags.contains(&json!({"key": "level", "value": "error"})),
        "derived tags too: {tags:?}"
    );

    // Tags: each key with its values, by count.
    let (status, facets) = server
        .get(&init.token, &format!("/api/0/issues/{issue_id}/tags/"))
        .await?;
    assert_eq!(status, 200);
    let browser = facets
        .as_array()
        .context("array")?
        .iter()
        .find(|facet| facet["key"] == "browser")
        .context("browser facet")?;
    assert_eq!(browser["name"], "Browser");
    assert_eq!(browser["totalValues"], 5);
    assert_eq!(browser["uniqueValues"], 3);
    assert_eq!(browser["topValues"][0]["value"], "Chrome");
    assert_eq!(browser["topValues"][0]["count"], 3);
    let (status, values) = server
        .get(
            &init.token,
            &format!("/api/0/issues/{issue_id}/tags/browser/values/?environment=production"),
        )
        .await?;
    assert_eq!(status, 200);
    let values: Vec<(String, u64)> = values
        .as_array()
        .context("array")?
        .iter()
        .map(|value| {
            (
                value["value"].as_str().unwrap_or_default().to_owned(),
                value["count"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        values,
        [("Chrome".to_owned(), 2), ("Firefox".to_owned(), 1)]
    );
    let (status, _) = server
        .get(
            &init.token,
            &format!("/api/0/issues/{issue_id}/tags/nothing/"),
        )
        .await?;
    assert_eq!(status, 404);

    // Issue search by tag: the issues with a matching event.
    let search = |query: &str| {
        let path = format!(
            "/api/0/projects/{}/{}/issues/?query={}",
            init.org,
            init.project,
            query.replace(' ', "%20").replace('!', "%21")
        );
        let token = init.token.clone();
        let server = &server;
        async move {
            let (status, body) = server.get(&token, &path).await?;
            anyhow::ensure!(status == 200, "{path}: {status} {body}");
            let mut titles: Vec<String> = body
                .as_array()
                .context("array")?
                .iter()
                .map(|issue| issue["title"].as_str().unwrap_or_default().to_owned())
                .collect();
            titles.sort();
            anyhow::Ok(titles)
        }
    };
    assert_eq!(
        search("environment:production").await?,
        ["KeyError: 'basket'"]
    );
    assert_eq!(
        search("environment:staging").await?,
        ["KeyError: 'basket'", "staging only"]
    );
    assert_eq!(
        search("environment:staging !browser:Chrome").await?,
        ["KeyError: 'basket'", "staging only"]
    );
    assert_eq!(search("browser:Safari").await?, ["KeyError: 'basket'"]);
    assert!(search("browser:Opera").await?.is_empty());

    // Bad input is a 400 with a detail.
    for path in [
        format!("/api/0/issues/{issue_id}/events/?cursor=garbage"),
        format!("/api/0/issues/{issue_id}/events/?query=free%20text"),
        format!("/api/0/issues/{issue_id}/tags/?limit=many"),
    ] {
        let (status, body) = server.get(&init.token, &path).await?;
        assert_eq!(status, 400, "{path}");
        assert!(body["detail"].is_string(), "{path}: {body}");
    }
    Ok(())
}
