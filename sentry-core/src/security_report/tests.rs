use serde_json::json;

use super::*;

const CONTEXT: ReportContext<'static> = ReportContext {
    user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"),
    origin: None,
    release: Some("web@1.2.3"),
    environment: Some("production"),
};

fn one(body: &Value) -> Outcome {
    let mut outcomes = convert(body.to_string().as_bytes(), &CONTEXT).unwrap();
    assert_eq!(outcomes.len(), 1);
    outcomes.remove(0)
}

fn event(body: &Value) -> Value {
    match one(body) {
        Outcome::Event(event) => event,
        Outcome::Filtered(reason) => panic!("filtered: {reason:?}"),
    }
}

/// Checks what the host reports share: type, title, culprit and tags.
fn assert_host_event(event: &Value, kind: ReportKind, title: &str, tags: Value) {
    assert_eq!(event["type"], kind.as_str());
    assert_eq!(event["logger"], "csp");
    assert_eq!(event["level"], "error");
    assert_eq!(event["logentry"]["formatted"], title);
    assert_eq!(event["culprit"], "www.example.com");
    assert_eq!(event["request"]["url"], "www.example.com");
    assert_eq!(event["tags"], tags);
}

#[test]
fn legacy_csp_report_becomes_an_event() {
    let event = event(&json!({
        "csp-report": {
            "document-uri": "https://example.com/foo/bar",
            "referrer": "https://www.google.com/",
            "violated-directive": "script-src 'self' https://example.com",
            "effective-directive": "script-src",
            "original-policy": "script-src 'self'; report-uri /api/1/security/",
            "disposition": "enforce",
            "blocked-uri": "https://evil.example.com/x.js?_=1",
            "line-number": 24,
            "column-number": "66",
            "source-file": "https://example.com/app.js",
            "status-code": 200,
            "script-sample": "",
        }
    }));
    assert_eq!(
        event,
        json!({
            "type": "csp",
            "logger": "csp",
            "level": "error",
            "logentry": {"formatted": "Blocked 'script' from 'evil.example.com'"},
            "culprit": "script-src 'self' 'self'",
            "tags": [
                ["effective-directive", "script-src"],
                ["blocked-uri", "https://evil.example.com/x.js?_=1"],
                ["blocked-host", "evil.example.com"],
            ],
            "csp": {
                "effective_directive": "script-src",
                "blocked_uri": "https://evil.example.com/x.js?_=1",
                "document_uri": "https://example.com/foo/bar",
                "original_policy": "script-src 'self'; report-uri /api/1/security/",
                "referrer": "https://www.google.com/",
                "status_code": 200,
                "violated_directive": "script-src 'self' https://example.com",
                "source_file": "https://example.com/app.js",
                "line_number": 24,
                "column_number": 66,
                "script_sample": "",
                "disposition": "enforce",
            },
            "request": {
                "url": "https://example.com/foo/bar",
                "headers": [
                    ["Referer", "https://www.google.com/"],
                    ["User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"],
                ],
            },
            "release": "web@1.2.3",
            "environment": "production",
        })
    );
}

#[test]
fn reporting_api_batch_becomes_one_event_per_violation() {
    let body = json!([
        {
            "type": "csp-violation",
            "age": 10,
            "url": "https://example.com/",
            "user_agent": "Chrome",
            "body": {
                "documentURL": "https://example.com/",
                "blockedURL": "https://cdn.evil.example/lib.js",
                "effectiveDirective": "script-src-elem",
                "originalPolicy": "script-src 'self'; report-to csp",
                "disposition": "enforce",
                "statusCode": 200,
                "sample": "",
                "lineNumber": 1,
                "columnNumber": 2,
                "sourceFile": "https://example.com/",
                "referrer": "",
            }
        },
        {"type": "deprecation", "body": {"id": "Foo"}},
    ]);
    let outcomes = convert(body.to_string().as_bytes(), &ReportContext::default()).unwrap();
    assert_eq!(outcomes.len(), 2);
    let Outcome::Event(event) = &outcomes[0] else {
        panic!("{outcomes:?}");
    };
    assert_eq!(
        event["logentry"]["formatted"],
        "Blocked 'script' from 'cdn.evil.example'"
    );
    assert_eq!(event["culprit"], "");
    assert_eq!(event["csp"]["effective_directive"], "script-src-elem");
    assert_eq!(
        event["csp"]["blocked_uri"],
        "https://cdn.evil.example/lib.js"
    );
    assert_eq!(event["csp"]["document_uri"], "https://example.com/");
    assert_eq!(event["csp"]["script_sample"], "");
    assert_eq!(event["csp"]["line_number"], 1);
    assert_eq!(event["request"], json!({"url": "https://example.com/"}));
    assert_eq!(event.get("release"), None);
    assert_eq!(
        outcomes[1],
        Outcome::Filtered(FilterReason::UnsupportedType)
    );
}

#[test]
fn missing_blocked_uri_means_the_document() {
    let event = event(&json!({"csp-report": {
        "document-uri": "http://example.com",
        "effective-directive": "script-src",
    }}));
    assert_eq!(
        event["logentry"]["formatted"],
        "Blocked unsafe (eval() or inline) 'script'"
    );
    assert_eq!(event["csp"]["blocked_uri"], "self");
    assert_eq!(event["csp"]["violated_directive"], "");
    assert_eq!(
        event["tags"],
        json!([
            ["effective-directive", "script-src"],
            ["blocked-uri", "self"]
        ])
    );
}

#[test]
fn unknown_fields_are_kept_in_the_interface() {
    let event = event(&json!({"csp-report": {
        "effective-directive": "img-src",
        "blocked-uri": "https://img.example/a.png",
        "new-field": {"x": 1},
    }}));
    assert_eq!(event["csp"]["new-field"], json!({"x": 1}));
}

#[test]
fn extension_noise_is_filtered() {
    for blocked in [
        "chrome-extension://abcdefgh/script.js",
        "moz-extension://1234/inject.js",
        "about",
        "ms-browser-extension",
        "safari-extension://x/y.js",
    ] {
        let outcome = one(&json!({"csp-report": {
            "effective-directive": "script-src",
            "blocked-uri": blocked,
        }}));
        assert_eq!(
            outcome,
            Outcome::Filtered(FilterReason::DisallowedSource),
            "{blocked}"
        );
    }
    let outcome = one(&json!({"csp-report": {
        "effective-directive": "script-src",
        "blocked-uri": "inline",
        "source-file": "chrome-extension://abcdefgh/content.js",
    }}));
    assert_eq!(outcome, Outcome::Filtered(FilterReason::DisallowedSource));
}

#[test]
fn hpkp_report_becomes_an_event() {
    let event = event(&json!({
        "date-time": "2014-04-06T13:00:50Z",
        "hostname": "www.example.com",
        "port": 443,
        "effective-expiration-date": "2014-05-01T12:40:50Z",
        "include-subdomains": false,
        "served-certificate-chain": ["-----BEGIN CERTIFICATE-----\n..."],
        "validated-certificate-chain": ["-----BEGIN CERTIFICATE-----\n..."],
        "known-pins": ["pin-sha256=\"d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM=\""],
    }));
    assert_host_event(
        &event,
        ReportKind::Hpkp,
        "Public key pinning validation failed for 'www.example.com'",
        json!([
            ["hostname", "www.example.com"],
            ["port", "443"],
            ["include-subdomains", "false"],
        ]),
    );
    assert_eq!(event["hpkp"]["date_time"], "2014-04-06T13:00:50+00:00");
    assert_eq!(
        event["hpkp"]["effective_expiration_date"],
        "2014-05-01T12:40:50+00:00"
    );
    assert_eq!(event["hpkp"]["include_subdomains"], false);
    assert_eq!(
        event["hpkp"]["known_pins"].as_array().map(Vec::len),
        Some(1)
    );
}

#[test]
fn expect_ct_report_becomes_an_event() {
    let event = event(&json!({"expect-ct-report": {
        "date-time": "2014-04-06T13:00:50Z",
        "hostname": "www.example.com",
        "port": 443,
        "scheme": "https",
        "effective-expiration-date": "2014-05-01T12:40:50Z",
        "served-certificate-chain": ["-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----"],
        "validated-certificate-chain": [],
        "scts": [{
            "version": 1,
            "status": "invalid",
            "source": "embedded",
            "serialized_sct": "ABCD==",
        }],
        "failure-mode": "enforce",
        "test-report": false,
    }}));
    assert_host_event(
        &event,
        ReportKind::ExpectCt,
        "Expect-CT failed for 'www.example.com'",
        json!([["hostname", "www.example.com"], ["port", "443"]]),
    );
    assert_eq!(
        event["expectct"],
        json!({
            "date_time": "2014-04-06T13:00:50+00:00",
            "hostname": "www.example.com",
            "port": 443,
            "scheme": "https",
            "effective_expiration_date": "2014-05-01T12:40:50+00:00",
            "served_certificate_chain": ["-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----"],
            "validated_certificate_chain": [],
            "scts": [{
                "version": 1,
                "status": "invalid",
                "source": "embedded",
                "serialized_sct": "ABCD==",
            }],
            "failure_mode": "enforce",
            "test_report": false,
        })
    );
}

#[test]
fn expect_staple_report_becomes_an_event() {
    let event = event(&json!({"expect-staple-report": {
        "date-time": "2014-04-06T13:00:50Z",
        "hostname": "www.example.com",
        "port": 443,
        "response-status": "ERROR_RESPONSE",
        "cert-status": "REVOKED",
        "effective-expiration-date": "2014-05-01T12:40:50Z",
        "served-certificate-chain": ["-----BEGIN CERTIFICATE-----"],
        "validated-certificate-chain": ["-----BEGIN CERTIFICATE-----"],
    }}));
    assert_host_event(
        &event,
        ReportKind::ExpectStaple,
        "Expect-Staple failed for 'www.example.com'",
        json!([
            ["hostname", "www.example.com"],
            ["port", "443"],
            ["response_status", "ERROR_RESPONSE"],
            ["cert_status", "REVOKED"],
        ]),
    );
    assert_eq!(event["expectstaple"]["response_status"], "ERROR_RESPONSE");
    assert_eq!(event["expectstaple"]["cert_status"], "REVOKED");
}

#[test]
fn origin_becomes_a_header() {
    let context = ReportContext {
        origin: Some("https://example.com"),
        ..ReportContext::default()
    };
    let body = json!({"expect-ct-report": {"hostname": "example.com"}});
    let outcomes = convert(body.to_string().as_bytes(), &context).unwrap();
    let Outcome::Event(event) = &outcomes[0] else {
        panic!("{outcomes:?}");
    };
    assert_eq!(
        event["request"]["headers"],
        json!([["Origin", "https://example.com"]])
    );
}

#[test]
fn malformed_bodies_are_errors() {
    let error = |body: &str| convert(body.as_bytes(), &CONTEXT).unwrap_err();
    assert!(matches!(error(""), SecurityReportError::Empty));
    assert!(matches!(error("  \n"), SecurityReportError::Empty));
    assert!(matches!(
        error("{oops"),
        SecurityReportError::InvalidJson(_)
    ));
    assert!(matches!(error("{}"), SecurityReportError::UnknownType));
    assert!(matches!(error("42"), SecurityReportError::UnknownType));
    assert!(matches!(error("[1]"), SecurityReportError::UnknownType));
    assert!(matches!(
        error(r#"{"hello": "world"}"#),
        SecurityReportError::UnknownType
    ));
    assert!(matches!(
        error(r#"{"csp-report": {"effective-directive": "bogus-src"}}"#),
        SecurityReportError::UnknownDirective
    ));
    assert!(matches!(
        error(r#"{"csp-report": "text"}"#),
        SecurityReportError::Invalid {
            kind: ReportKind::Csp,
            ..
        }
    ));
    assert!(matches!(
        error(r#"{"csp-report": {"effective-directive": "img-src", "line-number": "x"}}"#),
        SecurityReportError::Invalid { .. }
    ));
    assert!(matches!(
        error(r#"{"expect-ct-report": {"port": 443}}"#),
        SecurityReportError::Invalid {
            kind: ReportKind::ExpectCt,
            ..
        }
    ));
    assert!(matches!(
        error(r#"{"hostname": "a.example", "known-pins": "x"}"#),
        SecurityReportError::Invalid {
            kind: ReportKind::Hpkp,
            ..
        }
    ));
    assert!(matches!(
        error(r#"{"expect-ct-report": {"hostname": "a", "date-time": "yesterday"}}"#),
        SecurityReportError::Invalid { .. }
    ));
    assert!(matches!(
        error(r#"{"expect-staple-report": {"hostname": "a", "cert-status": "FINE"}}"#),
        SecurityReportError::Invalid { .. }
    ));
}

#[test]
fn empty_batch_has_no_events() {
    assert_eq!(convert(b"[]", &CONTEXT).unwrap(), Vec::new());
}
