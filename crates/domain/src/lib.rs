//! Pure types and rules of Partner Hub. Nothing here performs IO: input is parsed once at the
//! edge into these types, and everything past the edge takes them instead of raw strings.
#![forbid(unsafe_code)]

pub mod account;
pub mod calendar;
pub mod channel;
pub mod client_address;
pub mod cursor;
pub mod field;
pub mod ids;
pub mod ip_policy;
pub mod ledger;
pub mod limits;
pub mod listing;
pub mod logo;
pub mod message;
pub mod money;
pub mod naming;
pub mod onboarding;
pub mod partner;
pub mod permission;
pub mod phone;
pub mod pricing;
pub mod secret;
pub mod throttle;
pub mod webhook_event;
pub mod webhook_retry;
pub mod webhook_signature;
pub mod webhook_url;

pub use account::{Email, NewPassword, PersonName, Role};
pub use channel::{
    AccountMode, ChannelStatus, ClientStatus, DataStorageRegion, FbAccountStatus, HostingType,
    MessagingLimit, PartnerPermission, QualityRating, TransitionError, VerificationMethod,
};
pub use field::FieldError;
pub use ids::{
    ApiKeyId, ChannelId, ClientId, InvitationId, MalformedId, PartnerId, StaffId, UserId, WabaId,
};
pub use ip_policy::{AllowList, Cidr};
pub use listing::{FilterValue, ListQuery, ListSpec, RawList, SortKey};
pub use logo::{BrandName, LogoError, LogoFormat};
pub use money::{Micros, Money};
pub use partner::{Currency, PartnerName, PaymentModel, SolutionId};
pub use permission::partner_permission;
pub use phone::PhoneNumber;
pub use secret::{Secret, SecretToken, SecretUrl, TokenHash};
pub use webhook_event::{DeliveryState, EventId, EventType};
pub use webhook_signature::{VerifyError, WebhookSecret};
pub use webhook_url::WebhookUrl;
