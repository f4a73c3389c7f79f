//! A Messaging API request (the WhatsApp Cloud API's body) parsed once into what the Hub needs:
//! the recipient, the kind of message, and for templates the name and language that set the
//! price. Every problem names the parameter, as Meta's error 100 does.

use crate::pricing::Category;
use serde_json::Value;

/// Meta's limit on a text message's body.
pub const TEXT_MAX_CHARS: usize = 4096;
const TEMPLATE_NAME_MAX: usize = 512;

/// An invalid parameter: Meta's code 100, with the parameter's path (`text.body`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ParamError {
    pub field: String,
    pub message: String,
}

fn param(field: impl Into<String>, message: impl Into<String>) -> ParamError {
    ParamError {
        field: field.into(),
        message: message.into(),
    }
}

/// A recipient's WhatsApp id: the E.164 digits of its number, without `+`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WaId(String);

impl WaId {
    /// Accepts the digits with an optional `+` or `00`, spaces, dashes and parentheses, as
    /// Meta does; the number must have a country code some country uses.
    pub fn parse(input: &str, field: &str) -> Result<Self, ParamError> {
        let text = input.trim();
        let rest = text
            .strip_prefix('+')
            .or_else(|| text.strip_prefix("00"))
            .unwrap_or(text);
        let mut digits = String::with_capacity(15);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' | '.' => {}
                _ => {
                    return Err(param(
                        field,
                        "is not a valid phone number: use the international format with the country code, like 4915123456789",
                    ));
                }
            }
            if digits.len() > 15 {
                break;
            }
        }
        if digits.len() < 7 || digits.len() > 15 || digits.starts_with('0') {
            return Err(param(
                field,
                "is not a valid phone number: it must have 7 to 15 digits including the country code",
            ));
        }
        if crate::pricing::destination(&digits).is_none() {
            return Err(param(
                field,
                "is not a valid phone number: no country uses its country code",
            ));
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A template's name as Meta allows it: lower-case letters, digits and underscores.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TemplateName(String);

impl TemplateName {
    pub fn parse(input: &str, field: &str) -> Result<Self, ParamError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(param(field, "is required"));
        }
        if name.len() > TEMPLATE_NAME_MAX {
            return Err(param(field, "must be at most 512 characters"));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(param(
                field,
                "may only contain lower-case letters, digits and underscores",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A template language code (`en`, `en_US`, `pt_BR`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LanguageCode(String);

impl LanguageCode {
    pub fn parse(input: &str, field: &str) -> Result<Self, ParamError> {
        let code = input.trim();
        let (lang, region) = match code.split_once('_') {
            Some((l, r)) => (l, Some(r)),
            None => (code, None),
        };
        let lang_ok = (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_lowercase());
        let region_ok = region.is_none_or(|r| {
            (2..=4).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !lang_ok || !region_ok {
            return Err(param(field, "must be a language code like en or en_US"));
        }
        Ok(Self(code.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a message is, as far as the Hub cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// A non-template message (`text`, `image`, `interactive`, …): billed as service.
    Service { kind: &'static str },
    Template {
        name: TemplateName,
        language: LanguageCode,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbound {
    pub to: WaId,
    /// `to` as the request wrote it, echoed in `contacts[].input`.
    pub input: String,
    pub content: Content,
}

const SERVICE_KINDS: [&str; 11] = [
    "text",
    "image",
    "document",
    "audio",
    "video",
    "sticker",
    "interactive",
    "location",
    "contacts",
    "reaction",
    "template",
];

fn string_at<'a>(object: &'a Value, key: &str, path: &str) -> Result<&'a str, ParamError> {
    match object.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(param(path, "must be a string")),
        None => Err(param(path, "is required")),
    }
}

fn object_at<'a>(body: &'a Value, key: &str) -> Result<&'a Value, ParamError> {
    match body.get(key) {
        Some(v @ Value::Object(_)) => Ok(v),
        Some(Value::Array(_)) if key == "contacts" => {
            body.get(key).ok_or_else(|| param(key, "is required"))
        }
        Some(_) => Err(param(key, "must be an object")),
        None => Err(param(key, format!("is required when type is {key}"))),
    }
}

impl Outbound {
    /// Parses a Cloud API send body.
    pub fn parse(body: &Value) -> Result<Self, ParamError> {
        if !body.is_object() {
            return Err(param("body", "must be a JSON object"));
        }
        match body.get("messaging_product") {
            Some(Value::String(p)) if p == "whatsapp" => {}
            Some(_) => return Err(param("messaging_product", "must be whatsapp")),
            None => return Err(param("messaging_product", "is required (whatsapp)")),
        }
        match body.get("recipient_type") {
            None => {}
            Some(Value::String(t)) if t == "individual" => {}
            Some(_) => return Err(param("recipient_type", "must be individual")),
        }
        let input = string_at(body, "to", "to")?;
        let to = WaId::parse(input, "to")?;
        let kind = match body.get("type") {
            None => "text",
            Some(Value::String(t)) => {
                SERVICE_KINDS.into_iter().find(|k| k == t).ok_or_else(|| {
                    param(
                        "type",
                        format!("{t:?} is not a message type this API sends"),
                    )
                })?
            }
            Some(_) => return Err(param("type", "must be a string")),
        };
        let part = object_at(body, kind)?;
        let content = match kind {
            "template" => {
                let name = TemplateName::parse(
                    string_at(part, "name", "template.name")?,
                    "template.name",
                )?;
                let language = match part.get("language") {
                    Some(lang @ Value::Object(_)) => {
                        string_at(lang, "code", "template.language.code")?
                    }
                    Some(_) => {
                        return Err(param("template.language", "must be an object with a code"));
                    }
                    None => return Err(param("template.language", "is required")),
                };
                let language = LanguageCode::parse(language, "template.language.code")?;
                match part.get("components") {
                    None | Some(Value::Array(_)) => {}
                    Some(_) => return Err(param("template.components", "must be an array")),
                }
                Content::Template { name, language }
            }
            "text" => {
                let text = string_at(part, "body", "text.body")?;
                if text.trim().is_empty() {
                    return Err(param("text.body", "must not be empty"));
                }
                if text.chars().count() > TEXT_MAX_CHARS {
                    return Err(param("text.body", "must be at most 4096 characters"));
                }
                Content::Service { kind }
            }
            "image" | "document" | "audio" | "video" | "sticker" => {
                let id = part.get("id").and_then(Value::as_str);
                let link = part.get("link").and_then(Value::as_str);
                match (id, link) {
                    (Some(id), _) if !id.trim().is_empty() => {}
                    (_, Some(link))
                        if link.starts_with("https://") || link.starts_with("http://") => {}
                    (_, Some(_)) => {
                        return Err(param(format!("{kind}.link"), "must be an http(s) URL"));
                    }
                    _ => return Err(param(format!("{kind}.id"), "an id or a link is required")),
                }
                Content::Service { kind }
            }
            "interactive" => {
                string_at(part, "type", "interactive.type")?;
                Content::Service { kind }
            }
            "location" => {
                for key in ["latitude", "longitude"] {
                    if !part
                        .get(key)
                        .is_some_and(|v| v.is_number() || v.is_string())
                    {
                        return Err(param(format!("location.{key}"), "is required"));
                    }
                }
                Content::Service { kind }
            }
            "reaction" => {
                string_at(part, "message_id", "reaction.message_id")?;
                Content::Service { kind }
            }
            _ => Content::Service { kind },
        };
        Ok(Self {
            to,
            input: input.to_owned(),
            content,
        })
    }
}

/// Extra headers a number's messaging webhook sends (`POST /v1/configs/webhook {"headers"}`),
/// e.g. the receiver's own authorization: at most ten, with header names that are not ours.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookHeaders(Vec<(String, String)>);

const MAX_WEBHOOK_HEADERS: usize = 10;
/// Headers every delivery sets itself.
const RESERVED_HEADERS: [&str; 8] = [
    "content-type",
    "content-length",
    "host",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-hub-signature-256",
];

impl WebhookHeaders {
    pub fn parse(value: Option<&Value>) -> Result<Self, ParamError> {
        let object = match value {
            None | Some(Value::Null) => return Ok(Self::default()),
            Some(Value::Object(o)) => o,
            Some(_) => {
                return Err(param(
                    "headers",
                    "must be an object of header names to values",
                ));
            }
        };
        if object.len() > MAX_WEBHOOK_HEADERS {
            return Err(param("headers", "may have at most 10 headers"));
        }
        let mut headers = Vec::with_capacity(object.len());
        for (name, value) in object {
            let valid_name = !name.is_empty()
                && name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid_name {
                return Err(param(
                    format!("headers.{name}"),
                    "is not a header name (letters, digits, - and _)",
                ));
            }
            if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                return Err(param(
                    format!("headers.{name}"),
                    "is set by every delivery and cannot be replaced",
                ));
            }
            let Value::String(text) = value else {
                return Err(param(format!("headers.{name}"), "must be a string"));
            };
            if text.len() > 1024 || text.chars().any(char::is_control) {
                return Err(param(
                    format!("headers.{name}"),
                    "must be at most 1024 printable characters",
                ));
            }
            headers.push((name.clone(), text.clone()));
        }
        Ok(Self(headers))
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// As stored: a JSON object.
    pub fn to_json(&self) -> String {
        let map: serde_json::Map<String, Value> = self
            .0
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        Value::Object(map).to_string()
    }

    /// From storage; a row that does not parse sends no extra headers.
    pub fn from_json(text: &str) -> Self {
        serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| Self::parse(Some(&v)).ok())
            .unwrap_or_default()
    }
}

/// A template as submitted (`POST /v1/configs/templates`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTemplate {
    pub name: TemplateName,
    pub category: Category,
    pub language: LanguageCode,
    /// The components array, kept as JSON text.
    pub components: String,
}

impl NewTemplate {
    pub fn parse(body: &Value) -> Result<Self, ParamError> {
        if !body.is_object() {
            return Err(param("body", "must be a JSON object"));
        }
        let name = TemplateName::parse(string_at(body, "name", "name")?, "name")?;
        let category = Category::parse_template(string_at(body, "category", "category")?)
            .map_err(|e| param("category", e.message))?;
        let language = LanguageCode::parse(string_at(body, "language", "language")?, "language")?;
        let components = match body.get("components") {
            Some(c @ Value::Array(items)) if !items.is_empty() => c.to_string(),
            Some(Value::Array(_)) => {
                return Err(param("components", "must have at least a BODY component"));
            }
            Some(_) => return Err(param("components", "must be an array")),
            None => return Err(param("components", "is required")),
        };
        Ok(Self {
            name,
            category,
            language,
            components,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_text_message_parses() {
        let m = Outbound::parse(
            &json!({"messaging_product": "whatsapp", "to": "+49 151 2345 6789",
            "type": "text", "text": {"body": "hi"}}),
        )
        .unwrap();
        assert_eq!(m.to.as_str(), "4915123456789");
        assert_eq!(m.input, "+49 151 2345 6789");
        assert_eq!(m.content, Content::Service { kind: "text" });
    }

    #[test]
    fn a_template_message_parses() {
        let m = Outbound::parse(
            &json!({"messaging_product": "whatsapp", "recipient_type": "individual",
            "to": "4915123456789", "type": "template",
            "template": {"name": "order_update", "language": {"code": "en_US"}, "components": []}}),
        )
        .unwrap();
        assert!(
            matches!(m.content, Content::Template { ref name, .. } if name.as_str() == "order_update")
        );
    }

    #[test]
    fn every_problem_names_its_parameter() {
        let field = |body: Value| Outbound::parse(&body).unwrap_err().field;
        let base = |extra: Value| {
            let mut b = json!({"messaging_product": "whatsapp", "to": "4915123456789", "type": "text", "text": {"body": "x"}});
            if let (Some(b), Some(e)) = (b.as_object_mut(), extra.as_object()) {
                for (k, v) in e {
                    b.insert(k.clone(), v.clone());
                }
            }
            b
        };
        assert_eq!(field(base(json!({"to": "hello"}))), "to");
        assert_eq!(field(base(json!({"to": "999123456"}))), "to");
        assert_eq!(field(base(json!({"to": 4915123456789_u64}))), "to");
        assert_eq!(
            field(base(json!({"messaging_product": "sms"}))),
            "messaging_product"
        );
        assert_eq!(field(base(json!({"type": "fax"}))), "type");
        assert_eq!(
            field(base(json!({"text": {"body": "x".repeat(4097)}}))),
            "text.body"
        );
        assert_eq!(field(base(json!({"text": "hi"}))), "text");
        assert_eq!(
            field(base(json!({"type": "image", "image": {}}))),
            "image.id"
        );
        assert_eq!(
            field(base(
                json!({"type": "template", "template": {"name": "Bad Name", "language": {"code": "en"}}})
            )),
            "template.name"
        );
        assert_eq!(
            field(base(
                json!({"type": "template", "template": {"name": "ok"}})
            )),
            "template.language"
        );
        assert_eq!(field(json!([1])), "body");
    }

    #[test]
    fn webhook_headers_refuse_our_own_and_odd_ones() {
        let ok = WebhookHeaders::parse(Some(&json!({"Authorization": "Bearer x"}))).unwrap();
        assert_eq!(WebhookHeaders::from_json(&ok.to_json()), ok);
        let field = |v: Value| WebhookHeaders::parse(Some(&v)).unwrap_err().field;
        assert_eq!(
            field(json!({"Webhook-Signature": "x"})),
            "headers.Webhook-Signature"
        );
        assert_eq!(field(json!({"bad name": "x"})), "headers.bad name");
        assert_eq!(field(json!({"X-A": 1})), "headers.X-A");
        assert_eq!(field(json!(["x"])), "headers");
    }

    #[test]
    fn templates_parse_with_their_category() {
        let t = NewTemplate::parse(
            &json!({"name": "welcome", "category": "utility", "language": "en",
            "components": [{"type": "BODY", "text": "Hello"}]}),
        )
        .unwrap();
        assert_eq!(t.category, Category::Utility);
        let err = NewTemplate::parse(
            &json!({"name": "welcome", "category": "promo", "language": "en",
            "components": [{"type": "BODY", "text": "Hello"}]}),
        )
        .unwrap_err();
        assert_eq!(err.field, "category");
        assert!(LanguageCode::parse("english", "language").is_err());
        assert!(LanguageCode::parse("pt_BR", "language").is_ok());
    }
}
