//! Client for OpenAI-compatible chat servers (llama-server first) and the
//! lifecycle of a llama-server that CineCut starts itself. Every answer is asked
//! for under a JSON schema, through [`crate::net`]'s client: read with a size
//! cap, and retried with backoff only when the failure can be transient.

mod server;

pub use server::{ManagedServer, ServerOptions};

use std::time::Duration;

use serde::Serialize;

use crate::net::{HttpClient, HttpConfig, NetError, Patience, Request};

/// Everything that can go wrong talking to a model server. Each message names
/// the server address so the user knows which `--llm`/`--vision` was meant.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("cannot connect to the LLM server at {url}: {detail}")]
    Connect { url: String, detail: String },
    #[error("the LLM server at {url} did not answer within {secs:.1} s")]
    Timeout { url: String, secs: f64 },
    #[error("network error talking to the LLM server at {url}: {detail}")]
    Transport { url: String, detail: String },
    #[error("the LLM server at {url} answered HTTP {status}: {body}")]
    Http {
        url: String,
        status: u16,
        body: String,
    },
    #[error("the server at {url} does not accept images (started without a vision projector / --mmproj?): {body}")]
    ImagesUnsupported { url: String, body: String },
    #[error("the answer from {url} is larger than the {limit}-byte cap")]
    TooLarge { url: String, limit: usize },
    #[error("the answer from {url} is not an OpenAI chat completion: {detail}")]
    BadResponse { url: String, detail: String },
    #[error("the model behind {url} did not return JSON matching the schema: {detail}")]
    BadJson { url: String, detail: String },
    #[error("the model's answer failed validation: {0}")]
    Invalid(String),
    #[error("cannot start llama-server: {0}")]
    Start(String),
    #[error("cannot encode the request: {0}")]
    Encode(String),
}

impl LlmError {
    /// Whether trying the same request again could succeed (server busy,
    /// loading, network hiccup). Model-content and protocol errors are not.
    pub fn is_transient(&self) -> bool {
        match self {
            LlmError::Connect { .. } | LlmError::Timeout { .. } | LlmError::Transport { .. } => {
                true
            }
            LlmError::Http { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

/// One chat message. Content is plain text, or a list of parts (text and images)
/// as the OpenAI vision format has it.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub role: String,
    pub content: Content,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type")]
pub enum Part {
    #[serde(rename = "text")]
    Text { text: String },
    #[serde(rename = "image_url")]
    ImageUrl { image_url: ImageUrl },
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageUrl {
    pub url: String,
}

impl Message {
    pub fn system(text: impl Into<String>) -> Self {
        Message {
            role: "system".into(),
            content: Content::Text(text.into()),
        }
    }
    pub fn user(text: impl Into<String>) -> Self {
        Message {
            role: "user".into(),
            content: Content::Text(text.into()),
        }
    }
    /// A user turn holding a question and one JPEG, sent inline as a base64 data URL.
    pub fn user_with_jpeg(text: impl Into<String>, jpeg: &[u8]) -> Self {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(jpeg);
        Message {
            role: "user".into(),
            content: Content::Parts(vec![
                Part::Text { text: text.into() },
                Part::ImageUrl {
                    image_url: ImageUrl {
                        url: format!("data:image/jpeg;base64,{b64}"),
                    },
                },
            ]),
        }
    }
}

/// A parsed JSON answer and the model name the server reported for it.
#[derive(Debug, Clone)]
pub struct ChatAnswer {
    pub value: serde_json::Value,
    pub model: Option<String>,
}

/// Client for `/v1/chat/completions` of an OpenAI-compatible server.
#[derive(Debug, Clone)]
pub struct LlmClient {
    pub base_url: String,
    /// Sent as `model`; llama-server ignores it, hosted servers need it.
    pub model: Option<String>,
    pub timeout: Duration,
    /// Extra attempts after the first, for transient failures only.
    pub retries: u32,
    /// First backoff pause; doubled after each failed attempt (capped at 8x),
    /// plus up to a quarter at random.
    pub backoff: Duration,
    pub max_response_bytes: usize,
}

impl LlmClient {
    /// A client with defaults fit for a local llama-server on a CPU: long
    /// timeout (a 100-cue chunk can take a minute on two cores), 2 retries.
    pub fn new(base_url: impl Into<String>) -> Self {
        LlmClient {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            model: None,
            timeout: Duration::from_secs(300),
            retries: 2,
            backoff: Duration::from_millis(500),
            max_response_bytes: 4 << 20,
        }
    }
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    pub fn with_retries(mut self, retries: u32, backoff: Duration) -> Self {
        self.retries = retries;
        self.backoff = backoff;
        self
    }
    pub fn with_max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// The name used in `source` fields: the configured model, else the base URL
    /// (known without asking the server, so cache keys never cost a request).
    pub fn label(&self) -> String {
        self.model.clone().unwrap_or_else(|| self.base_url.clone())
    }

    /// The HTTP client for one call, configured from this client's fields
    /// (public, so they may have changed since `new`).
    fn http(&self) -> HttpClient {
        HttpClient::new(HttpConfig {
            connect_timeout: self.timeout.min(Duration::from_secs(10)),
            patience: Patience::WholeRequest(self.timeout),
            retries: self.retries,
            backoff: self.backoff,
            max_body_bytes: self.max_response_bytes as u64,
        })
    }

    /// Ok when the server is up and its model loaded. llama-server answers
    /// `/health` with 503 while loading; servers without `/health` are probed
    /// through `/v1/models`. Never retried: the caller polls.
    pub fn health(&self) -> Result<(), LlmError> {
        let http = self.http();
        let url = format!("{}/health", self.base_url);
        match http.send_once(&Request::get(&url)) {
            Ok(_) => Ok(()),
            Err(NetError::Status { status: 404, .. }) => {
                let url = format!("{}/v1/models", self.base_url);
                http.send_once(&Request::get(&url))
                    .map(|_| ())
                    .map_err(|e| self.llm_error(&url, e))
            }
            Err(e) => Err(self.llm_error(&url, e)),
        }
    }

    /// Ask for a JSON object that follows `schema`; returns the parsed object.
    pub fn chat_json(
        &self,
        messages: &[Message],
        schema: &serde_json::Value,
        max_tokens: u32,
    ) -> Result<serde_json::Value, LlmError> {
        self.chat_json_full(messages, schema, max_tokens)
            .map(|a| a.value)
    }

    /// As [`chat_json`](Self::chat_json), also returning the model name the server reported.
    pub fn chat_json_full(
        &self,
        messages: &[Message],
        schema: &serde_json::Value,
        max_tokens: u32,
    ) -> Result<ChatAnswer, LlmError> {
        let mut body = serde_json::json!({
            "messages": messages,
            "max_tokens": max_tokens,
            // Deterministic answers: reruns and tests see the same anchors.
            "temperature": 0.0,
            // Greedy decoding makes small models loop on a phrase ("eerie,
            // eerie, eerie"); a frequency penalty (standard OpenAI field,
            // honoured by llama-server) breaks the loop.
            "frequency_penalty": 0.8,
            "stream": false,
            "response_format": {
                "type": "json_schema",
                "json_schema": { "name": "answer", "strict": true, "schema": schema }
            }
        });
        if let Some(m) = &self.model {
            body["model"] = serde_json::Value::String(m.clone());
        }
        let body = serde_json::to_string(&body).map_err(|e| LlmError::Encode(e.to_string()))?;
        let url = format!("{}/v1/chat/completions", self.base_url);
        // No retry will give images to a server without a projector.
        let answer = self
            .http()
            .send_with(&Request::post_json(&url, &body), |e| {
                matches!(e, NetError::Status { body, .. } if refuses_images(&shorten(body, 400)))
            })
            .map_err(|e| self.llm_error(&url, e))?;
        self.parse_completion(&String::from_utf8_lossy(&answer))
    }

    /// What a failed exchange with `url` means for a model server.
    fn llm_error(&self, url: &str, e: NetError) -> LlmError {
        let url = url.to_string();
        match e {
            NetError::Connect { detail, .. } => LlmError::Connect { url, detail },
            NetError::Timeout { .. } => LlmError::Timeout {
                url,
                secs: self.timeout.as_secs_f64(),
            },
            NetError::CutOff { detail, .. } => LlmError::Transport {
                url,
                detail: format!("answer cut off: {detail}"),
            },
            NetError::Transport { detail, .. } | NetError::Request { detail, .. } => {
                LlmError::Transport { url, detail }
            }
            NetError::Status { status, body, .. } => {
                let body = shorten(&body, 400);
                if refuses_images(&body) {
                    LlmError::ImagesUnsupported { url, body }
                } else {
                    LlmError::Http { url, status, body }
                }
            }
            NetError::TooLarge { limit, .. } => LlmError::TooLarge {
                url,
                limit: limit as usize,
            },
        }
    }

    fn parse_completion(&self, text: &str) -> Result<ChatAnswer, LlmError> {
        let url = &self.base_url;
        let bad = |detail: String| LlmError::BadResponse {
            url: url.clone(),
            detail,
        };
        let envelope: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| bad(format!("{e} in {:?}", shorten(text, 120))))?;
        let choice = envelope
            .get("choices")
            .and_then(|c| c.get(0))
            .ok_or_else(|| bad("no choices[0]".into()))?;
        let content = choice
            .get("message")
            .and_then(|m| m.get("content"))
            .and_then(|c| c.as_str())
            .ok_or_else(|| bad("no choices[0].message.content string".into()))?;
        let finish = choice
            .get("finish_reason")
            .and_then(|f| f.as_str())
            .unwrap_or("");
        let value = parse_json_object(content).map_err(|detail| LlmError::BadJson {
            url: url.clone(),
            detail: if finish == "length" {
                format!("{detail} (the answer hit max_tokens)")
            } else {
                detail
            },
        })?;
        let model = envelope
            .get("model")
            .and_then(|m| m.as_str())
            .map(str::to_string);
        Ok(ChatAnswer { value, model })
    }
}

/// Parse a model's content as one JSON object. Servers that ignore
/// `response_format` often wrap it in a Markdown fence, which is peeled off.
fn parse_json_object(content: &str) -> Result<serde_json::Value, String> {
    let mut s = content.trim();
    if let Some(rest) = s.strip_prefix("```") {
        s = rest.trim_start_matches("json").trim();
        s = s.strip_suffix("```").unwrap_or(s).trim();
    }
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(format!("not a JSON object: {:?}", shorten(s, 120))),
        Err(e) => Err(format!("{e} in {:?}", shorten(s, 120))),
    }
}

/// llama-server without a projector answers images with a 500 saying so.
fn refuses_images(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    lower.contains("image input is not supported")
        || lower.contains("mmproj")
        || lower.contains("multimodal")
}

/// Cut text to about `max` bytes on a char boundary, for error messages.
pub(crate) fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fenced_json_is_accepted() {
        let v = parse_json_object("```json\n{\"a\": 1}\n```").unwrap();
        assert_eq!(v["a"], 1);
        assert!(parse_json_object("[1,2]").is_err());
        assert!(parse_json_object("{\"a\": ").is_err());
    }

    #[test]
    fn image_message_is_openai_shaped() {
        let m = Message::user_with_jpeg("what is shown?", &[0xff, 0xd8, 0xff]);
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["content"][0]["type"], "text");
        assert_eq!(v["content"][1]["type"], "image_url");
        assert_eq!(
            v["content"][1]["image_url"]["url"],
            "data:image/jpeg;base64,/9j/"
        );
        let t = serde_json::to_value(Message::user("hi")).unwrap();
        assert_eq!(t["content"], "hi");
    }

    #[test]
    fn transient_classification() {
        let http = |status| LlmError::Http {
            url: "u".into(),
            status,
            body: String::new(),
        };
        assert!(http(500).is_transient());
        assert!(http(429).is_transient());
        assert!(!http(400).is_transient());
        assert!(!LlmError::Invalid("x".into()).is_transient());
        assert!(!LlmError::ImagesUnsupported {
            url: "u".into(),
            body: String::new()
        }
        .is_transient());
    }
}
