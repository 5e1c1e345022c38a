//! A project's data scrubbing settings, under Sentry's option names.

use serde_json::Value;

/// `dataScrubber`: scrub sensitive data at all (default on).
pub const DATA_SCRUBBER: &str = "dataScrubber";
/// `dataScrubberDefaults`: apply the default rules (default on).
pub const DATA_SCRUBBER_DEFAULTS: &str = "dataScrubberDefaults";
/// `sensitiveFields`: more field names whose values are scrubbed.
pub const SENSITIVE_FIELDS: &str = "sensitiveFields";
/// `safeFields`: field names never scrubbed.
pub const SAFE_FIELDS: &str = "safeFields";
/// `scrubIPAddresses`: remove client IP addresses (default off).
pub const SCRUB_IP_ADDRESSES: &str = "scrubIPAddresses";

/// Every scrubbing option, in the order Sentry lists them.
pub const OPTIONS: [&str; 5] = [
    DATA_SCRUBBER,
    DATA_SCRUBBER_DEFAULTS,
    SENSITIVE_FIELDS,
    SAFE_FIELDS,
    SCRUB_IP_ADDRESSES,
];

/// A scrubbing option that could not be set.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The option is not a scrubbing option.
    #[error("unknown scrubbing option `{0}`")]
    UnknownOption(String),
    /// A boolean option got something else.
    #[error("must be a boolean")]
    NotABoolean,
    /// A list option got something else.
    #[error("must be a list of strings")]
    NotAListOfStrings,
    /// A stored option is not JSON.
    #[error("stored value is not JSON")]
    NotJson(#[source] serde_json::Error),
}

/// How a project's events are scrubbed before they are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrubbingSettings {
    /// Scrub sensitive data at all; off turns every rule but IP scrubbing off.
    pub data_scrubber: bool,
    /// Apply the default rules (password-like keys, credit cards, auth
    /// headers, session cookies, ...); off leaves only `sensitive_fields`.
    pub data_scrubber_defaults: bool,
    /// Field names (matched case-insensitively, anywhere in a key) whose
    /// values are scrubbed too.
    pub sensitive_fields: Vec<String>,
    /// Field names (matched case-insensitively, whole key) whose values
    /// and everything below them are never scrubbed.
    pub safe_fields: Vec<String>,
    /// Remove the user's and the request's IP address and replace IP
    /// addresses found in text.
    pub scrub_ip_addresses: bool,
}

impl Default for ScrubbingSettings {
    fn default() -> Self {
        Self {
            data_scrubber: true,
            data_scrubber_defaults: true,
            sensitive_fields: Vec::new(),
            safe_fields: Vec::new(),
            scrub_ip_addresses: false,
        }
    }
}

impl ScrubbingSettings {
    /// Builds settings from stored project options: pairs of an option name
    /// and its JSON text. Options not given keep their defaults, and so do
    /// options that do not read; those come back as errors, by option.
    pub fn from_project_options<'a>(
        options: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> (Self, Vec<(&'a str, SettingsError)>) {
        let mut settings = Self::default();
        let mut errors = Vec::new();
        for (option, text) in options {
            let result = serde_json::from_str(text)
                .map_err(SettingsError::NotJson)
                .and_then(|value| settings.set(option, &value));
            if let Err(error) = result {
                errors.push((option, error));
            }
        }
        (settings, errors)
    }

    /// Sets one option from its API value; `null` restores the default.
    ///
    /// # Errors
    ///
    /// When the option is unknown or the value of the wrong type.
    pub fn set(&mut self, option: &str, value: &Value) -> Result<(), SettingsError> {
        let defaults = Self::default();
        match option {
            DATA_SCRUBBER => self.data_scrubber = boolean(value, defaults.data_scrubber)?,
            DATA_SCRUBBER_DEFAULTS => {
                self.data_scrubber_defaults = boolean(value, defaults.data_scrubber_defaults)?;
            }
            SENSITIVE_FIELDS => self.sensitive_fields = strings(value)?,
            SAFE_FIELDS => self.safe_fields = strings(value)?,
            SCRUB_IP_ADDRESSES => {
                self.scrub_ip_addresses = boolean(value, defaults.scrub_ip_addresses)?;
            }
            other => return Err(SettingsError::UnknownOption(other.to_owned())),
        }
        Ok(())
    }

    /// Returns each option with its value as the API shows it.
    pub fn options(&self) -> [(&'static str, Value); 5] {
        [
            (DATA_SCRUBBER, self.data_scrubber.into()),
            (DATA_SCRUBBER_DEFAULTS, self.data_scrubber_defaults.into()),
            (SENSITIVE_FIELDS, self.sensitive_fields.clone().into()),
            (SAFE_FIELDS, self.safe_fields.clone().into()),
            (SCRUB_IP_ADDRESSES, self.scrub_ip_addresses.into()),
        ]
    }
}

fn boolean(value: &Value, default: bool) -> Result<bool, SettingsError> {
    match value {
        Value::Null => Ok(default),
        Value::Bool(flag) => Ok(*flag),
        _ => Err(SettingsError::NotABoolean),
    }
}

fn strings(value: &Value) -> Result<Vec<String>, SettingsError> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(|text| text.trim().to_owned())
                    .ok_or(SettingsError::NotAListOfStrings)
            })
            .filter(|item| item.as_ref().map_or(true, |text| !text.is_empty()))
            .collect(),
        _ => Err(SettingsError::NotAListOfStrings),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_scrub_data_but_not_ips() {
        let (settings, errors) = ScrubbingSettings::from_project_options([]);
        assert!(errors.is_empty());
        assert!(settings.data_scrubber && settings.data_scrubber_defaults);
        assert!(!settings.scrub_ip_addresses);
    }

    #[test]
    fn reads_stored_options() {
        let (settings, errors) = ScrubbingSettings::from_project_options([
            (DATA_SCRUBBER_DEFAULTS, "false"),
            (SENSITIVE_FIELDS, r#"["card", " ", "pin "]"#),
            (SAFE_FIELDS, r#"["email"]"#),
            (SCRUB_IP_ADDRESSES, "true"),
            (DATA_SCRUBBER, "not json"),
        ]);
        assert!(matches!(
            errors.as_slice(),
            [(DATA_SCRUBBER, SettingsError::NotJson(_))]
        ));
        assert_eq!(
            settings,
            ScrubbingSettings {
                data_scrubber: true,
                data_scrubber_defaults: false,
                sensitive_fields: vec!["card".to_owned(), "pin".to_owned()],
                safe_fields: vec!["email".to_owned()],
                scrub_ip_addresses: true,
            }
        );
        assert_eq!(
            settings.options()[2],
            (SENSITIVE_FIELDS, json!(["card", "pin"]))
        );
    }

    #[test]
    fn rejects_wrong_types() {
        let mut settings = ScrubbingSettings::default();
        assert!(matches!(
            settings.set(DATA_SCRUBBER, &json!("yes")),
            Err(SettingsError::NotABoolean)
        ));
        assert!(matches!(
            settings.set(SAFE_FIELDS, &json!(["a", 1])),
            Err(SettingsError::NotAListOfStrings)
        ));
        assert!(matches!(
            settings.set("scrubData", &json!(true)),
            Err(SettingsError::UnknownOption(_))
        ));
        settings.set(DATA_SCRUBBER, &json!(false)).unwrap();
        settings.set(DATA_SCRUBBER, &Value::Null).unwrap();
        assert!(settings.data_scrubber, "null restores the default");
    }
}
