//! The rules of Sentry's data scrubber, compiled from a project's settings.
//!
//! Rule ids are Relay's, so `_meta` remarks read as Sentry's do:
//!
//! | rule | matches | becomes |
//! |---|---|---|
//! | `@password:filter` | keys, or whole values, like `password`, `secret`, `passwd`, `api_key`, `auth`, `credentials`, `mysql_pwd`, `private_key`, `token=`; keys containing `token`; `Bearer …` in text | `[Filtered]` |
//! | `@creditcard:filter` | card numbers of the major issuers, with spaces or dashes, that pass the Luhn check | `[Filtered]` |
//! | `@pemkey:filter` | the body of a PEM key | `[Filtered]` |
//! | `@urlauth:legacy` | the password in `scheme://user:password@host` | `[Filtered]` |
//! | `@usssn:filter` | US social security numbers | `[Filtered]` |
//! | `@anything:filter` | session and CSRF cookies, `Cookie` and `Set-Cookie` headers | `[Filtered]` |
//! | `strip-fields` | keys, or whole values, containing a project's `sensitiveFields` | `[Filtered]` |
//! | `@ip:replace` | IP addresses in text, with `scrubIPAddresses` | `[ip]` |

use std::net::Ipv6Addr;
use std::sync::LazyLock;

use regex::{Regex, RegexSet};

use super::chunks::Chunks;
use super::settings::ScrubbingSettings;

/// What scrubbed values become.
pub const FILTERED: &str = "[Filtered]";
/// What IP addresses in text become.
const IP_REPLACEMENT: &str = "[ip]";

pub(crate) const PASSWORD_RULE: &str = "@password:filter";
pub(crate) const SENSITIVE_FIELDS_RULE: &str = "strip-fields";
pub(crate) const ANYTHING_RULE: &str = "@anything:filter";
pub(crate) const REMOVE_RULE: &str = "@anything:remove";
const CREDITCARD_RULE: &str = "@creditcard:filter";
const PEMKEY_RULE: &str = "@pemkey:filter";
const URLAUTH_RULE: &str = "@urlauth:legacy";
const USSSN_RULE: &str = "@usssn:filter";
const IP_RULE: &str = "@ip:replace";

/// Cookies that hold sessions or CSRF tokens in common web frameworks.
const SENSITIVE_COOKIES: [&str; 23] = [
    "sentrysid",
    "sudo",
    "su",
    "session",
    "__session",
    "sessionid",
    "user_session",
    "symfony",
    "phpsessid",
    "fasthttpsessionid",
    "mysession",
    "irissessionid",
    "_vercel_jwt",
    "csrf",
    "xsrf",
    "_xsrf",
    "_csrf",
    "csrf-token",
    "csrf_token",
    "xsrf-token",
    "xsrf_token",
    "fastcsrf",
    "_iris_csrf",
];

/// Headers that carry every cookie at once.
const COOKIE_HEADERS: [&str; 2] = ["cookie", "set-cookie"];

fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).expect("invariant: the scrubbing patterns compile")
}

/// Keys (and values) that name a secret. Case-insensitive for ASCII only,
/// which keeps the pattern a small automaton.
static PASSWORD_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i-u:password|passwd|secret|api[-_]?key|auth|credentials|mysql_pwd|private[-_]?key|^otp$|^two[-_]factor$)|(?i-u:token)\S*[:=]",
    )
});

/// Keys that hold a token, whatever the value looks like.
static TOKEN_KEY: LazyLock<Regex> = LazyLock::new(|| compile(r"(?i-u)token"));

/// `Bearer <token>` in text.
static BEARER: LazyLock<Regex> = LazyLock::new(|| compile(r"(?-u:\b)(?i-u:bearer)\s+\S+"));

/// Runs of 13 to 19 digits, single spaces or dashes between them allowed.
static CARD_CANDIDATE: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?-u:\b)[0-9](?:[ -]?[0-9]){12,18}(?-u:\b)"));

/// The body of a PEM private or public key.
static PEM_KEY: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?s)-----BEGIN[A-Z ]*(?:PRIVATE|PUBLIC) KEY-----[ \t]*\r?\n?(.+?)\r?\n?-----END[A-Z ]*(?:PRIVATE|PUBLIC) KEY-----",
    )
});

/// The password of credentials in a URL.
static URL_PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?-u:\b)(?:[a-z0-9]+:)?//[a-zA-Z0-9%_.-]+:([a-zA-Z0-9%_.-]+)@"));

/// A US social security number.
static US_SSN: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?-u:\b)[0-9]{3}-[0-9]{2}-[0-9]{4}(?-u:\b)"));

/// An IPv4 address.
static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?-u:\b)(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?-u:\b)",
    )
});

/// Text that may be an IPv6 address; parsing decides.
static IPV6_CANDIDATE: LazyLock<Regex> =
    LazyLock::new(|| compile(r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f.]{0,15}){2,8}"));

/// The text patterns of the default rules.
fn default_patterns() -> [&'static Regex; 6] {
    [
        &CARD_CANDIDATE,
        &PEM_KEY,
        &URL_PASSWORD,
        &BEARER,
        &PASSWORD_WORDS,
        &US_SSN,
    ]
}

/// The default text patterns in one set, to pass over text that none of
/// them matches in a single scan.
static DEFAULT_PREFILTER: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new(default_patterns().map(Regex::as_str))
        .expect("invariant: the scrubbing patterns compile")
});

/// The rules one project's settings turn on.
#[derive(Debug)]
pub(crate) struct Rules {
    defaults: bool,
    sensitive_fields: Option<Regex>,
    safe_fields: Vec<String>,
    scrub_ip_addresses: bool,
    /// Every text pattern in use; text it does not match is left alone.
    prefilter: Option<RegexSet>,
}

impl Rules {
    /// Compiles the rules of a project's settings.
    pub(crate) fn new(settings: &ScrubbingSettings) -> Self {
        let sensitive_fields = if settings.data_scrubber {
            let words: Vec<String> = settings
                .sensitive_fields
                .iter()
                .map(|field| field.trim())
                .filter(|field| !field.is_empty())
                .map(regex::escape)
                .collect();
            // Escaped literals always compile; a failure would only drop the rule.
            (!words.is_empty())
                .then(|| Regex::new(&format!("(?i){}", words.join("|"))).ok())
                .flatten()
        } else {
            None
        };
        let defaults = settings.data_scrubber && settings.data_scrubber_defaults;
        let prefilter = prefilter(
            defaults,
            sensitive_fields.as_ref(),
            settings.scrub_ip_addresses,
        );
        Self {
            defaults,
            sensitive_fields,
            safe_fields: settings
                .safe_fields
                .iter()
                .map(|field| field.trim().to_lowercase())
                .filter(|field| !field.is_empty())
                .collect(),
            scrub_ip_addresses: settings.scrub_ip_addresses,
            prefilter,
        }
    }

    /// Whether any rule is on.
    pub(crate) fn any(&self) -> bool {
        self.defaults || self.sensitive_fields.is_some() || self.scrub_ip_addresses
    }

    /// Whether IP addresses are scrubbed.
    pub(crate) fn scrubs_ip_addresses(&self) -> bool {
        self.scrub_ip_addresses
    }

    /// Whether a key is exempt, with everything below it.
    pub(crate) fn is_safe(&self, key: &str) -> bool {
        !self.safe_fields.is_empty()
            && self
                .safe_fields
                .iter()
                .any(|field| field.eq_ignore_ascii_case(key))
    }

    /// The rule that filters the whole value of `key`, if any.
    pub(crate) fn key_rule(&self, key: &str) -> Option<&'static str> {
        if self.defaults && (PASSWORD_WORDS.is_match(key) || TOKEN_KEY.is_match(key)) {
            return Some(PASSWORD_RULE);
        }
        if self
            .sensitive_fields
            .as_ref()
            .is_some_and(|fields| fields.is_match(key))
        {
            return Some(SENSITIVE_FIELDS_RULE);
        }
        None
    }

    /// The rule that filters a cookie by its name, if any.
    pub(crate) fn cookie_rule(&self, name: &str) -> Option<&'static str> {
        self.listed_or_key_rule(&SENSITIVE_COOKIES, name)
    }

    /// The rule that filters a header by its name, if any.
    pub(crate) fn header_rule(&self, name: &str) -> Option<&'static str> {
        self.listed_or_key_rule(&COOKIE_HEADERS, name)
    }

    /// Filters names on a default list whole, others by the key rules.
    fn listed_or_key_rule(&self, listed: &[&str], name: &str) -> Option<&'static str> {
        let is_listed = listed
            .iter()
            .any(|entry| entry.eq_ignore_ascii_case(name.trim()));
        (self.defaults && is_listed)
            .then_some(ANYTHING_RULE)
            .or_else(|| self.key_rule(name))
    }

    /// Applies the text rules to a string value; `None` when no rule can
    /// match it.
    pub(crate) fn scrub_text(&self, text: &str) -> Option<Chunks> {
        if !self
            .prefilter
            .as_ref()
            .is_some_and(|prefilter| prefilter.is_match(text))
        {
            return None;
        }
        let mut chunks = Chunks::new(text);
        if self.defaults {
            chunks.redact(
                &CARD_CANDIDATE,
                0,
                is_card_number,
                FILTERED,
                CREDITCARD_RULE,
            );
            chunks.redact(&PEM_KEY, 1, |_| true, FILTERED, PEMKEY_RULE);
            chunks.redact(&URL_PASSWORD, 1, |_| true, FILTERED, URLAUTH_RULE);
            chunks.redact(&BEARER, 0, |_| true, FILTERED, PASSWORD_RULE);
            if chunks.text_matches(&PASSWORD_WORDS) {
                chunks = Chunks::replaced(FILTERED, PASSWORD_RULE);
            }
            chunks.redact(&US_SSN, 0, |_| true, FILTERED, USSSN_RULE);
        }
        if self.scrub_ip_addresses {
            chunks.redact(&IPV4, 0, |_| true, IP_REPLACEMENT, IP_RULE);
            chunks.redact(&IPV6_CANDIDATE, 0, is_ipv6, IP_REPLACEMENT, IP_RULE);
        }
        if let Some(fields) = &self.sensitive_fields {
            if chunks.text_matches(fields) {
                chunks = Chunks::replaced(FILTERED, SENSITIVE_FIELDS_RULE);
            }
        }
        Some(chunks)
    }
}

/// The set of every text pattern a project's rules use, if any.
fn prefilter(defaults: bool, sensitive_fields: Option<&Regex>, ip: bool) -> Option<RegexSet> {
    if defaults && sensitive_fields.is_none() && !ip {
        return Some(DEFAULT_PREFILTER.clone());
    }
    let mut patterns: Vec<&str> = Vec::new();
    if defaults {
        patterns.extend(default_patterns().map(Regex::as_str));
    }
    if ip {
        patterns.extend([IPV4.as_str(), IPV6_CANDIDATE.as_str()]);
    }
    patterns.extend(sensitive_fields.map(Regex::as_str));
    if patterns.is_empty() {
        return None;
    }
    // Each pattern compiled on its own, so the set does too.
    RegexSet::new(patterns).ok()
}

fn is_ipv6(text: &str) -> bool {
    text.parse::<Ipv6Addr>().is_ok()
}

/// Whether digits (with spaces or dashes) form a card number: an issuer
/// prefix of a major network, a length that network issues, and a valid
/// Luhn check digit.
pub(crate) fn is_card_number(text: &str) -> bool {
    let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
    let prefix = |length: usize| {
        digits
            .iter()
            .take(length)
            .fold(0u32, |number, digit| number * 10 + digit)
    };
    let count = digits.len();
    let issued = match prefix(1) {
        3 => matches!(prefix(2), 34 | 37) && count == 15,
        4 => matches!(count, 13 | 16 | 19),
        5 => (51..=55).contains(&prefix(2)) && count == 16,
        2 => (2221..=2720).contains(&prefix(4)) && count == 16,
        6 => {
            (prefix(4) == 6011 || prefix(2) == 65 || (644..=649).contains(&prefix(3)))
                && (16..=19).contains(&count)
        }
        _ => false,
    };
    issued && luhn_valid(&digits)
}

/// The Luhn checksum: doubling every second digit from the right, the
/// digit sum is a multiple of ten.
fn luhn_valid(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, &digit)| {
            if position % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_rules() -> Rules {
        Rules::new(&ScrubbingSettings::default())
    }

    fn scrubbed(rules: &Rules, text: &str) -> String {
        rules
            .scrub_text(text)
            .map_or_else(|| text.to_owned(), |chunks| chunks.join().0)
    }

    #[test]
    fn card_numbers_need_a_valid_luhn_digit() {
        for valid in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "5555555555554444",
            "378282246310005",
            "6011111111111117",
            "2223003122003222",
        ] {
            assert!(is_card_number(valid), "{valid}");
        }
        for invalid in [
            "4111111111111112",
            "1453843029218310",
            "1234567812345678",
            "37828224631000",
        ] {
            assert!(!is_card_number(invalid), "{invalid}");
        }
    }

    #[test]
    fn filters_card_numbers_inside_text() {
        let rules = default_rules();
        assert_eq!(
            scrubbed(&rules, "paid with 4111 1111 1111 1111 today"),
            "paid with [Filtered] today"
        );
        assert_eq!(
            scrubbed(&rules, "order 4111111111111112 shipped"),
            "order 4111111111111112 shipped"
        );
    }

    #[test]
    fn filters_whole_values_naming_a_secret() {
        let rules = default_rules();
        assert_eq!(scrubbed(&rules, "my password is hunter2"), FILTERED);
        assert_eq!(scrubbed(&rules, "token=abc"), FILTERED);
        assert_eq!(scrubbed(&rules, "nothing to see"), "nothing to see");
    }

    #[test]
    fn filters_bearer_tokens_pem_keys_url_passwords_and_ssns() {
        let rules = default_rules();
        assert_eq!(scrubbed(&rules, "Bearer abc.def"), FILTERED);
        assert_eq!(
            scrubbed(&rules, "postgres://admin:hunter2@db/app"),
            "postgres://admin:[Filtered]@db/app"
        );
        assert_eq!(scrubbed(&rules, "ssn 078-05-1120"), "ssn [Filtered]");
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----";
        assert_eq!(
            scrubbed(&rules, pem),
            "-----BEGIN PRIVATE KEY-----\n[Filtered]\n-----END PRIVATE KEY-----"
        );
    }

    #[test]
    fn key_rules() {
        let rules = default_rules();
        for key in [
            "password",
            "DB_PASSWD",
            "the_secret",
            "apiKey",
            "api-key",
            "Authorization",
            "csrftoken",
            "X-Api-Key",
            "private_key",
        ] {
            assert_eq!(rules.key_rule(key), Some(PASSWORD_RULE), "{key}");
        }
        for key in ["username", "email", "message", "id"] {
            assert_eq!(rules.key_rule(key), None, "{key}");
        }
        assert_eq!(rules.cookie_rule("sessionid"), Some(ANYTHING_RULE));
        assert_eq!(rules.cookie_rule("theme"), None);
        assert_eq!(rules.header_rule("Set-Cookie"), Some(ANYTHING_RULE));
        assert_eq!(rules.header_rule("Authorization"), Some(PASSWORD_RULE));
        assert_eq!(rules.header_rule("Accept"), None);
    }

    #[test]
    fn ip_addresses_only_when_configured() {
        let text = "from 192.0.2.10 and 2001:db8::1";
        assert_eq!(scrubbed(&default_rules(), text), text);
        let rules = Rules::new(&ScrubbingSettings {
            scrub_ip_addresses: true,
            ..ScrubbingSettings::default()
        });
        assert_eq!(scrubbed(&rules, text), "from [ip] and [ip]");
        assert_eq!(scrubbed(&rules, "version 1.2.3"), "version 1.2.3");
    }

    #[test]
    fn sensitive_fields_add_keys_and_values() {
        let rules = Rules::new(&ScrubbingSettings {
            sensitive_fields: vec!["fieldy".to_owned()],
            ..ScrubbingSettings::default()
        });
        assert_eq!(
            rules.key_rule("my_FIELDY_field"),
            Some(SENSITIVE_FIELDS_RULE)
        );
        assert_eq!(scrubbed(&rules, "a fieldy value"), FILTERED);
    }

    #[test]
    fn disabled_defaults_keep_only_sensitive_fields() {
        let rules = Rules::new(&ScrubbingSettings {
            data_scrubber_defaults: false,
            sensitive_fields: vec!["pin".to_owned()],
            ..ScrubbingSettings::default()
        });
        assert_eq!(rules.key_rule("password"), None);
        assert_eq!(rules.key_rule("pin"), Some(SENSITIVE_FIELDS_RULE));
        assert_eq!(scrubbed(&rules, "4111111111111111"), "4111111111111111");
        let off = Rules::new(&ScrubbingSettings {
            data_scrubber: false,
            sensitive_fields: vec!["pin".to_owned()],
            ..ScrubbingSettings::default()
        });
        assert!(!off.any());
    }
}
