//! How long each text a person types may be: one constant per field, used by the parser that
//! refuses a longer value and by the form's `maxlength`, so the browser and the server never
//! disagree (a page that lets someone type 200 characters and then refuses 81 loses their time).

/// A partner's brand name (`BrandName`).
pub const BRAND_NAME_CHARS: usize = 80;
/// A partner's Solution ID at Meta (`SolutionId`).
pub const SOLUTION_ID_CHARS: usize = 100;
/// A client's name.
pub const CLIENT_NAME_CHARS: usize = 200;
/// A client's organisation and each contact detail.
pub const CLIENT_TEXT_CHARS: usize = 500;
/// The partner's free-form payload on a client.
pub const PARTNER_PAYLOAD_CHARS: usize = 4000;
/// A number's display name.
pub const DISPLAY_NAME_CHARS: usize = 100;
/// A partner API key's name.
pub const API_KEY_NAME_CHARS: usize = 100;
/// A webhook or redirect URL (`WebhookUrl`).
pub const URL_CHARS: usize = 2048;
/// The numbers list's search box.
pub const SEARCH_CHARS: usize = 100;
