use serde_json::{Value, json};

use super::*;

fn scrubbed_with(settings: &ScrubbingSettings, event: Value) -> Value {
    let mut event: Event = serde_json::from_value(event).unwrap();
    scrub(&mut event, settings);
    serde_json::to_value(&event).unwrap()
}

fn scrubbed(event: Value) -> Value {
    scrubbed_with(&ScrubbingSettings::default(), event)
}

#[test]
fn filters_password_like_keys_in_extra() {
    let event = scrubbed(json!({"extra": {
        "foo": "bar",
        "password": "hello",
        "the_secret": "hello",
        "apiKey": "secret_key",
        "a_password_number": 42,
        "a_password_list": [1, 2],
    }}));
    assert_eq!(
        event["extra"],
        json!({
            "foo": "bar",
            "password": "[Filtered]",
            "the_secret": "[Filtered]",
            "apiKey": "[Filtered]",
            "a_password_number": null,
            "a_password_list": null,
        })
    );
    assert_eq!(
        event["_meta"]["extra"]["password"],
        json!({"": {"rem": [["@password:filter", "s", 0, 10]], "len": 5}})
    );
    assert_eq!(
        event["_meta"]["extra"]["a_password_list"],
        json!({"": {"rem": [["@password:filter", "x"]]}})
    );
}

#[test]
fn filters_nested_values_in_contexts_and_frame_vars() {
    let event = scrubbed(json!({
        "contexts": {"app": {"config": {"db_password": "x", "name": "shop"}}},
        "exception": {"values": [{"type": "E", "value": "password wrong", "stacktrace": {"frames": [
            {"function": "login", "vars": {"password": "hunter2", "user": "bob"}}
        ]}}]},
    }));
    assert_eq!(
        event["contexts"]["app"]["config"],
        json!({"db_password": "[Filtered]", "name": "shop"})
    );
    let frame = &event["exception"]["values"][0]["stacktrace"]["frames"][0];
    assert_eq!(
        frame["vars"],
        json!({"password": "[Filtered]", "user": "bob"})
    );
    assert_eq!(
        event["exception"]["values"][0]["value"], "password wrong",
        "exception values are not scrubbed"
    );
    assert!(
        event["_meta"]["exception"]["values"]["0"]["stacktrace"]["frames"]["0"]["vars"]["password"]
            .is_object()
    );
}

#[test]
fn filters_credit_cards_in_breadcrumbs() {
    let event = scrubbed(json!({"breadcrumbs": [
        {"message": "charged 4242 4242 4242 4242 ok"},
        {"message": "order 4242424242424241"},
        {"data": {"card": "5555-5555-5555-4444"}},
    ]}));
    let crumbs = &event["breadcrumbs"]["values"];
    assert_eq!(crumbs[0]["message"], "charged [Filtered] ok");
    assert_eq!(
        crumbs[1]["message"], "order 4242424242424241",
        "fails the Luhn check"
    );
    assert_eq!(crumbs[2]["data"]["card"], "[Filtered]");
    assert_eq!(
        event["_meta"]["breadcrumbs"]["values"]["0"]["message"],
        json!({"": {"rem": [["@creditcard:filter", "s", 8, 18]], "len": 30}})
    );
}

#[test]
fn filters_auth_headers_cookies_and_query_values() {
    let event = scrubbed(json!({"request": {
        "url": "https://example.com/login",
        "headers": [
            ["Authorization", "Bearer abc"],
            ["Cookie", "sessionid=abc"],
            ["X-Api-Key", "k"],
            ["User-Agent", "auth-client/1.0"],
            ["Accept", "text/html"],
        ],
        "cookies": [["sessionid", "abc"], ["csrftoken", "def"], ["theme", "dark"]],
        "query_string": [["q", "shoes"], ["password", "x"]],
        "data": {"username": "bob", "credentials": {"pin": 1234}},
        "env": {"SECRET_KEY": "s", "PATH": "/bin"},
    }}));
    let request = &event["request"];
    assert_eq!(
        request["headers"],
        json!([
            ["Authorization", "[Filtered]"],
            ["Cookie", "[Filtered]"],
            ["X-Api-Key", "[Filtered]"],
            ["User-Agent", "auth-client/1.0"],
            ["Accept", "text/html"],
        ])
    );
    assert_eq!(
        request["cookies"],
        json!([
            ["sessionid", "[Filtered]"],
            ["csrftoken", "[Filtered]"],
            ["theme", "dark"]
        ])
    );
    assert_eq!(
        request["query_string"],
        json!([["q", "shoes"], ["password", "[Filtered]"]])
    );
    assert_eq!(
        request["data"],
        json!({"username": "bob", "credentials": null})
    );
    assert_eq!(
        request["env"],
        json!({"SECRET_KEY": "[Filtered]", "PATH": "/bin"})
    );
    assert_eq!(
        event["_meta"]["request"]["cookies"]["0"]["1"][""]["rem"],
        json!([["@anything:filter", "s", 0, 10]])
    );
}

#[test]
fn leaves_messages_and_unrelated_fields_alone() {
    let input = json!({
        "logentry": {"formatted": "card 4111111111111111, password x"},
        "exception": {"values": [{"type": "AuthError", "value": "bad token"}]},
        "tags": [["auth", "yes"]],
        "extra": {"note": "fine"},
    });
    let event = scrubbed(input.clone());
    assert_eq!(event, input);
}

#[test]
fn safe_fields_exempt_keys_and_what_is_below() {
    let settings = ScrubbingSettings {
        safe_fields: vec!["Password".to_owned(), "settings".to_owned()],
        ..ScrubbingSettings::default()
    };
    let event = scrubbed_with(
        &settings,
        json!({"extra": {
            "password": "kept",
            "settings": {"api_key": "kept too"},
            "secret": "gone",
        }}),
    );
    assert_eq!(
        event["extra"],
        json!({"password": "kept", "settings": {"api_key": "kept too"}, "secret": "[Filtered]"})
    );
}

#[test]
fn sensitive_fields_add_to_the_defaults() {
    let settings = ScrubbingSettings {
        sensitive_fields: vec!["iban".to_owned()],
        ..ScrubbingSettings::default()
    };
    let event = scrubbed_with(
        &settings,
        json!({"extra": {"customer_IBAN": "DE89", "password": "x", "note": "iban attached"}}),
    );
    assert_eq!(
        event["extra"],
        json!({"customer_IBAN": "[Filtered]", "password": "[Filtered]", "note": "[Filtered]"})
    );
    assert_eq!(
        event["_meta"]["extra"]["customer_IBAN"][""]["rem"],
        json!([["strip-fields", "s", 0, 10]])
    );
}

#[test]
fn ip_addresses_are_scrubbed_only_when_configured() {
    let input = json!({
        "user": {"id": "1", "ip_address": "192.0.2.1"},
        "request": {"env": {"REMOTE_ADDR": "192.0.2.1"}},
        "extra": {"peer": "connected from 198.51.100.7"},
    });
    assert_eq!(scrubbed(input.clone()), input);
    let settings = ScrubbingSettings {
        scrub_ip_addresses: true,
        ..ScrubbingSettings::default()
    };
    let event = scrubbed_with(&settings, input);
    assert_eq!(event["user"], json!({"id": "1"}));
    assert_eq!(event["request"]["env"], json!({}));
    assert_eq!(event["extra"]["peer"], "connected from [ip]");
    assert_eq!(
        event["_meta"]["user"]["ip_address"],
        json!({"": {"rem": [["@anything:remove", "x"]]}})
    );
}

#[test]
fn nothing_is_scrubbed_when_the_data_scrubber_is_off() {
    let settings = ScrubbingSettings {
        data_scrubber: false,
        sensitive_fields: vec!["note".to_owned()],
        ..ScrubbingSettings::default()
    };
    let input = json!({
        "extra": {"password": "hello", "note": "x"},
        "breadcrumbs": {"values": [{"message": "4111111111111111"}]},
        "request": {"headers": {"Authorization": "Bearer abc"}},
    });
    assert_eq!(scrubbed_with(&settings, input.clone()), input);
}

#[test]
fn defaults_off_keeps_only_sensitive_fields() {
    let settings = ScrubbingSettings {
        data_scrubber_defaults: false,
        sensitive_fields: vec!["note".to_owned()],
        ..ScrubbingSettings::default()
    };
    let event = scrubbed_with(
        &settings,
        json!({"extra": {"password": "hello", "note": "x"}}),
    );
    assert_eq!(
        event["extra"],
        json!({"password": "hello", "note": "[Filtered]"})
    );
}

#[test]
fn unknown_top_level_fields_are_scrubbed_too() {
    let event = scrubbed(json!({"custom": {"token": "abc", "ok": 1}}));
    assert_eq!(event["custom"], json!({"token": "[Filtered]", "ok": 1}));
}
