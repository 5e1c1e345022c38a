//! Sending what fired rules say: webhooks over HTTP(S) and emails through
//! an SMTP server. Each message is sent by a task of its own, tried again
//! after a failure with growing pauses until its attempts run out, so that
//! a slow or failing receiver delays nothing else, and ingest least of all.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde_json::Value;
use tokio::sync::Semaphore;

/// How messages are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryConfig {
    /// The SMTP server, as `smtp://HOST:PORT` (plain),
    /// `smtp://HOST:PORT?tls=required` (STARTTLS) or `smtps://HOST:PORT`,
    /// with `USER:PASSWORD@` when it wants a login; `None`: no email.
    pub smtp_url: Option<String>,
    /// The sender of emails.
    pub email_from: String,
    /// How many times a message is tried before it is given up.
    pub attempts: u32,
    /// The pause after the first failure; it doubles after each.
    pub retry_delay: Duration,
    /// How long one attempt may take.
    pub timeout: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            email_from: "sentry@localhost".to_owned(),
            attempts: 5,
            retry_delay: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Why delivery cannot start.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The SMTP URL does not read.
    #[error("invalid SMTP URL: {0}")]
    SmtpUrl(#[source] lettre::transport::smtp::Error),
    /// The sender is not an email address.
    #[error("invalid email sender {0:?}")]
    Sender(String),
    /// The HTTP client cannot be built.
    #[error("cannot build the HTTP client")]
    Http(#[source] reqwest::Error),
}

/// One message to send.
#[derive(Debug, Clone)]
pub enum Message {
    /// A JSON body posted to a URL.
    Webhook {
        /// Where.
        url: String,
        /// What.
        body: Value,
    },
    /// An email.
    Email {
        /// The recipients.
        to: Vec<String>,
        /// Its subject.
        subject: String,
        /// Its text.
        text: String,
    },
}

impl Message {
    fn kind(&self) -> &'static str {
        match self {
            Message::Webhook { .. } => "webhook",
            Message::Email { .. } => "email",
        }
    }
}

/// The most messages being sent or waiting for a retry at once; past it,
/// new ones are dropped (and counted) rather than held.
const MAX_IN_FLIGHT: usize = 10_000;

/// Sends messages, each in a task of its own.
pub struct Deliverer {
    http: reqwest::Client,
    mailer: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    attempts: u32,
    retry_delay: Duration,
    in_flight: Arc<Semaphore>,
}

impl Deliverer {
    /// Prepares the HTTP client and the SMTP transport.
    ///
    /// # Errors
    ///
    /// When the SMTP URL or the sender does not read.
    pub fn new(config: &DeliveryConfig) -> Result<Self, DeliveryError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("sentry-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(DeliveryError::Http)?;
        let mailer = config
            .smtp_url
            .as_deref()
            .map(|url| {
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map(|builder| builder.timeout(Some(config.timeout)).build())
                    .map_err(DeliveryError::SmtpUrl)
            })
            .transpose()?;
        let from = config
            .email_from
            .parse()
            .map_err(|_| DeliveryError::Sender(config.email_from.clone()))?;
        Ok(Self {
            http,
            mailer,
            from,
            attempts: config.attempts.max(1),
            retry_delay: config.retry_delay,
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        })
    }

    /// Whether emails can be sent.
    pub fn has_email(&self) -> bool {
        self.mailer.is_some()
    }

    /// Sends a message in the background, retrying it as configured.
    pub fn send(self: &Arc<Self>, message: Message) {
        let kind = message.kind();
        let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() else {
            tracing::warn!(kind, "too many alert messages in flight; dropping one");
            metrics::counter!("sentry_alert_deliveries_total", "kind" => kind, "result" => "dropped")
                .increment(1);
            return;
        };
        let deliverer = Arc::clone(self);
        tokio::spawn(async move {
            let _permit = permit;
            let mut pause = deliverer.retry_delay;
            for attempt in 1..=deliverer.attempts {
                match deliverer.attempt(&message).await {
                    Ok(()) => {
                        metrics::counter!("sentry_alert_deliveries_total", "kind" => kind, "result" => "sent")
                            .increment(1);
                        tracing::debug!(kind, attempt, "sent an alert");
                        return;
                    }
                    Err(error) if attempt < deliverer.attempts => {
                        tracing::info!(kind, attempt, %error, "cannot send an alert; retrying in {pause:?}");
                        metrics::counter!("sentry_alert_deliveries_total", "kind" => kind, "result" => "retried")
                            .increment(1);
                        tokio::time::sleep(pause).await;
                        pause = pause.saturating_mul(2);
                    }
                    Err(error) => {
                        tracing::warn!(kind, attempt, %error, "giving up sending an alert");
                        metrics::counter!("sentry_alert_deliveries_total", "kind" => kind, "result" => "failed")
                            .increment(1);
                    }
                }
            }
        });
    }

    async fn attempt(&self, message: &Message) -> Result<(), String> {
        match message {
            Message::Webhook { url, body } => {
                let response = self
                    .http
                    .post(url)
                    .json(body)
                    .send()
                    .await
                    .map_err(|error| error.to_string())?;
                let status = response.status();
                if status.is_success() {
                    Ok(())
                } else {
                    Err(format!("{url} answered {status}"))
                }
            }
            Message::Email { to, subject, text } => {
                let mailer = self.mailer.as_ref().ok_or("no SMTP server is configured")?;
                let mut builder = lettre::Message::builder()
                    .from(self.from.clone())
                    .subject(subject.as_str());
                for address in to {
                    let mailbox: Mailbox = address
                        .parse()
                        .map_err(|_| format!("invalid address {address:?}"))?;
                    builder = builder.to(mailbox);
                }
                let email = builder
                    .body(text.clone())
                    .map_err(|error| error.to_string())?;
                mailer
                    .send(email)
                    .await
                    .map(|_| ())
                    .map_err(|error| error.to_string())
            }
        }
    }
}
