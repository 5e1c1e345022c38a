//! The issue workflow through the web API: regressions, resolving in the
//! next release, ignores that run out, deletion, and the issue lists'
//! search, sort, stats and bad input.

use anyhow::Result;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Backend, Init, TestServer};

/// Seconds since the Unix epoch, now.
fn now_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_secs_f64())
}

fn message(text: &str) -> Value {
    json!({ "message": text })
}

/// The id of the issue with a title.
async fn issue_id(server: &TestServer, init: &Init, title: &str) -> Result<String> {
    let issues = server.all_issues(init).await?;
    let issue = issues
        .iter()
        .find(|issue| issue["title"] == title)
        .ok_or_else(|| anyhow::anyhow!("no issue {title}"))?;
    Ok(issue["id"].as_str().unwrap_or_default().to_owned())
}

async fn update(server: &TestServer, init: &Init, id: &str, body: Value) -> Result<Value> {
    let path = format!("/api/0/issues/{id}/");
    let (status, issue) = server
        .call(Method::PUT, &init.token, &path, Some(body))
        .await?;
    anyhow::ensure!(status == 200, "update answered {status}: {issue}");
    Ok(issue)
}

async fn detail(server: &TestServer, init: &Init, id: &str) -> Result<Value> {
    let (status, issue) = server
        .get(&init.token, &format!("/api/0/issues/{id}/"))
        .await?;
    anyhow::ensure!(status == 200, "detail answered {status}: {issue}");
    Ok(issue)
}

#[tokio::test]
async fn resolved_issues_regress_and_ignores_run_out() -> Result<()> {
    triage(Backend::Embedded).await
}

#[cfg(all(feature = "postgres", feature = "clickhouse"))]
#[tokio::test]
async fn resolved_issues_regress_and_ignores_run_out_on_postgres_and_clickhouse() -> Result<()> {
    triage(Backend::ScaleOut).await
}

async fn triage(backend: Backend) -> Result<()> {
    let server = TestServer::start_on(backend)?;
    let init = server.init("workflow")?;

    // Resolved, then a new event: unresolved again, as a regression.
    server.send_event(&init, &message("regresses")).await?;
    let id = issue_id(&server, &init, "regresses").await?;
    let resolved = update(&server, &init, &id, json!({"status": "resolved"})).await?;
    assert_eq!(resolved["status"], "resolved");
    server.send_event(&init, &message("regresses")).await?;
    let regressed = detail(&server, &init, &id).await?;
    assert_eq!(regressed["status"], "unresolved");
    assert_eq!(regressed["substatus"], "regressed");

    // Resolved in the next release: events of the current release do not
    // reopen it, those of another do.
    let of_release = |release: &str| json!({"message": "next release", "release": release});
    server.send_event(&init, &of_release("app@1.0")).await?;
    let id = issue_id(&server, &init, "next release").await?;
    let resolved = update(
        &server,
        &init,
        &id,
        json!({"status": "resolved", "statusDetails": {"inNextRelease": true}}),
    )
    .await?;
    assert_eq!(resolved["statusDetails"]["inNextRelease"], true);
    server.send_event(&init, &of_release("app@1.0")).await?;
    let still = detail(&server, &init, &id).await?;
    assert_eq!(
        (&still["status"], &still["count"]),
        (&json!("resolved"), &json!("2"))
    );
    server.send_event(&init, &of_release("app@1.1")).await?;
    assert_eq!(detail(&server, &init, &id).await?["substatus"], "regressed");

    // Ignored until two more events.
    server.send_event(&init, &message("counted")).await?;
    let id = issue_id(&server, &init, "counted").await?;
    let ignored = update(
        &server,
        &init,
        &id,
        json!({"status": "ignored", "statusDetails": {"ignoreCount": 2}}),
    )
    .await?;
    assert_eq!(ignored["status"], "ignored");
    assert_eq!(ignored["substatus"], "archived_until_condition_met");
    assert_eq!(ignored["statusDetails"]["ignoreCount"], 2);
    server.send_event(&init, &message("counted")).await?;
    let once = detail(&server, &init, &id).await?;
    assert_eq!(once["status"], "ignored");
    assert_eq!(once["statusDetails"]["ignoreCount"], 1);
    server.send_event(&init, &message("counted")).await?;
    let back = detail(&server, &init, &id).await?;
    assert_eq!(back["status"], "unresolved");
    assert_eq!(back["substatus"], "escalating");

    // Ignored for 30 minutes, in Sentry's older form: until then events
    // leave it ignored (the store's tests cover the end).
    let ignored = update(
        &server,
        &init,
        &id,
        json!({"status": "ignored", "ignoreDuration": 30}),
    )
    .await?;
    let until = ignored["statusDetails"]["ignoreUntil"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let until = sentry_core::protocol::Timestamp::parse_rfc3339(&until)
        .map(|at| at.as_unix_seconds())
        .unwrap_or_default();
    assert!((until - now_seconds() - 1800.0).abs() < 60.0, "{ignored}");
    server.send_event(&init, &message("counted")).await?;
    assert_eq!(detail(&server, &init, &id).await?["status"], "ignored");
    let unresolved = update(&server, &init, &id, json!({"status": "unresolved"})).await?;
    assert_eq!(unresolved["statusDetails"], json!({}));
    assert_eq!(unresolved["substatus"], "ongoing");

    // Updates that do not fit are refused.
    for body in [
        json!({"status": "resolved", "statusDetails": {"ignoreCount": 2}}),
        json!({"status": "sleeping"}),
        json!({"status": "ignored", "statusDetails": {"ignoreDuration": -5}}),
    ] {
        let (status, answer) = server
            .call(
                Method::PUT,
                &init.token,
                &format!("/api/0/issues/{id}/"),
                Some(body),
            )
            .await?;
        assert_eq!(status, 400, "{answer}");
        assert!(answer["detail"].is_string(), "{answer}");
    }
    Ok(())
}

#[tokio::test]
async fn issues_are_deleted_one_by_one_or_in_bulk() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("deletes")?;
    for text in ["first to go", "second to go", "stays"] {
        server.send_event(&init, &message(text)).await?;
    }
    let first = issue_id(&server, &init, "first to go").await?;
    let second = issue_id(&server, &init, "second to go").await?;
    let (status, _) = server
        .call(
            Method::DELETE,
            &init.token,
            &format!("/api/0/issues/{first}/"),
            None,
        )
        .await?;
    assert_eq!(status, 202);
    let bulk = format!(
        "/api/0/projects/{}/{}/issues/?id={second}",
        init.org, init.project
    );
    let (status, _) = server
        .call(Method::DELETE, &init.token, &bulk, None)
        .await?;
    assert_eq!(status, 204);
    for id in [&first, &second] {
        let (status, _) = server
            .get(&init.token, &format!("/api/0/issues/{id}/"))
            .await?;
        assert_eq!(status, 404);
    }
    let left: Vec<Value> = server.all_issues(&init).await?;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["title"], "stays");
    // A new event of a deleted issue makes a new one.
    server.send_event(&init, &message("first to go")).await?;
    let again = issue_id(&server, &init, "first to go").await?;
    assert_ne!(again, first);
    Ok(())
}

/// Titles of an issue list, in its order.
async fn titles_of(server: &TestServer, init: &Init, query: &str) -> Result<Vec<String>> {
    let path = format!(
        "/api/0/projects/{}/{}/issues/?{query}",
        init.org, init.project
    );
    let (status, issues) = server.get(&init.token, &path).await?;
    anyhow::ensure!(status == 200, "{path} answered {status}: {issues}");
    Ok(issues
        .as_array()
        .into_iter()
        .flatten()
        .map(|issue| issue["title"].as_str().unwrap_or_default().to_owned())
        .collect())
}

#[tokio::test]
async fn issue_lists_search_sort_and_count() -> Result<()> {
    search(Backend::Embedded).await
}

#[cfg(all(feature = "postgres", feature = "clickhouse"))]
#[tokio::test]
async fn issue_lists_search_sort_and_count_on_postgres_and_clickhouse() -> Result<()> {
    search(Backend::ScaleOut).await
}

async fn search(backend: Backend) -> Result<()> {
    let server = TestServer::start_on(backend)?;
    let init = server.init("search")?;
    let now = now_seconds();
    let day = 86_400.0;
    // "old" was first seen 3 days ago; "busy" has three events, two users
    // and a tag; "warned" is a warning seen just now.
    server
        .send_event(
            &init,
            &json!({"message": "old", "timestamp": now - 3.0 * day}),
        )
        .await?;
    for user in ["u1", "u2", "u2"] {
        let event = json!({
            "message": "busy",
            "timestamp": now - 3600.0,
            "user": {"id": user},
            "tags": {"custom": "yes"},
        });
        server.send_event(&init, &event).await?;
    }
    server
        .send_event(
            &init,
            &json!({"message": "warned", "level": "warning", "timestamp": now}),
        )
        .await?;

    assert_eq!(
        titles_of(&server, &init, "query=").await?,
        ["warned", "busy", "old"]
    );
    assert_eq!(
        titles_of(&server, &init, "query=&sort=freq").await?[0],
        "busy"
    );
    assert_eq!(
        titles_of(&server, &init, "query=&sort=user").await?[0],
        "busy"
    );
    assert_eq!(
        titles_of(&server, &init, "query=&sort=new").await?[2],
        "old"
    );
    assert_eq!(
        titles_of(&server, &init, "query=level:warning").await?,
        ["warned"]
    );
    assert_eq!(
        titles_of(&server, &init, "query=has:custom").await?,
        ["busy"]
    );
    assert_eq!(
        titles_of(&server, &init, "query=!has:custom").await?,
        ["warned", "old"]
    );
    assert_eq!(
        titles_of(&server, &init, "query=times_seen:>1").await?,
        ["busy"]
    );
    assert_eq!(
        titles_of(&server, &init, "query=firstSeen:-1d").await?,
        ["warned", "busy"]
    );
    assert_eq!(
        titles_of(&server, &init, "query=lastSeen:%2B1d").await?,
        ["old"]
    );
    assert_eq!(
        titles_of(&server, &init, "query=is:unresolved%20!custom:yes%20b").await?,
        Vec::<String>::new(),
        "every term holds at once"
    );

    // Per-issue stats: hourly over a day, daily over two weeks.
    let path = format!(
        "/api/0/projects/{}/{}/issues/?query=busy&statsPeriod=24h",
        init.org, init.project
    );
    let (_, issues) = server.get(&init.token, &path).await?;
    let hours = issues[0]["stats"]["24h"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(hours.len(), 24);
    let total: u64 = hours.iter().filter_map(|point| point[1].as_u64()).sum();
    assert_eq!(total, 3);
    let (_, issues) = server.get(&init.token, &path.replace("24h", "14d")).await?;
    assert_eq!(issues[0]["stats"]["14d"].as_array().map(Vec::len), Some(14));
    let (_, issues) = server
        .get(
            &init.token,
            &path.replace("statsPeriod=24h", "statsPeriod="),
        )
        .await?;
    assert_eq!(issues[0].get("stats"), None);

    // The organization's list: all its projects, or the ones named.
    let other = server.init("search-other")?;
    server.send_event(&other, &message("elsewhere")).await?;
    let org_path = format!("/api/0/organizations/{}/issues/?query=", init.org);
    let (status, all) = server.get(&init.token, &org_path).await?;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all.as_array().map(Vec::len), Some(4));
    let (_, named) = server
        .get(
            &init.token,
            &format!("{org_path}&project={}", other.project_id),
        )
        .await?;
    assert_eq!(named.as_array().map(Vec::len), Some(1));
    assert_eq!(named[0]["title"], "elsewhere");
    Ok(())
}

#[tokio::test]
async fn bad_searches_are_refused_and_hostile_text_matches_literally() -> Result<()> {
    hostile_search(Backend::Embedded).await
}

#[cfg(all(feature = "postgres", feature = "clickhouse"))]
#[tokio::test]
async fn bad_searches_are_refused_and_hostile_text_matches_literally_on_postgres_and_clickhouse()
-> Result<()> {
    hostile_search(Backend::ScaleOut).await
}

async fn hostile_search(backend: Backend) -> Result<()> {
    let server = TestServer::start_on(backend)?;
    let init = server.init("hostile")?;
    server
        .send_event(&init, &message("plain 100% match_here"))
        .await?;
    let base = format!("/api/0/projects/{}/{}/issues/", init.org, init.project);
    for (query, column) in [
        ("is%3Abogus", "column 4"),
        ("level%3Aerror%20%22open", "column 13"),
        ("firstSeen%3A-3y", "column 11"),
        ("times_seen%3A%3Eten", "column 12"),
    ] {
        let (status, answer) = server
            .get(&init.token, &format!("{base}?query={query}"))
            .await?;
        assert_eq!(status, 400, "{query}: {answer}");
        let detail = answer["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(column), "{query}: {detail}");
    }
    for bad in [
        "sort=priority",
        "statsPeriod=1y",
        "cursor=nonsense",
        "limit=many",
    ] {
        let (status, answer) = server.get(&init.token, &format!("{base}?{bad}")).await?;
        assert_eq!(status, 400, "{bad}: {answer}");
    }
    // Hostile text is bound, never spliced: it matches only itself.
    let hostile = [
        "'; DROP TABLE issues; --",
        "\" OR 1=1 --",
        "%z%",
        "p_ain",
        "\\",
        "release:'); DELETE FROM events; --",
        "has:x'--",
        "Robert'); DROP TABLE projects;--",
        "\u{0}",
    ];
    for text in hostile {
        let query = serde_urlencoded::to_string([("query", text)])?;
        let (status, answer) = server.get(&init.token, &format!("{base}?{query}")).await?;
        assert!(
            status == 200 || status == 400,
            "{text:?}: {status} {answer}"
        );
        if status == 200 {
            assert_eq!(answer, json!([]), "{text:?} matched");
        }
    }
    for literal in ["100%", "match_here"] {
        let query = serde_urlencoded::to_string([("query", literal)])?;
        let (_, found) = server.get(&init.token, &format!("{base}?{query}")).await?;
        assert_eq!(found.as_array().map(Vec::len), Some(1), "{literal}");
    }
    assert_eq!(
        server.all_issues(&init).await?.len(),
        1,
        "nothing was dropped"
    );
    Ok(())
}
