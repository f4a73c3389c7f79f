//! Pure types and rules of Partner Hub. Nothing here performs IO: input is parsed once at the
//! edge into these types, and everything past the edge takes them instead of raw strings.
#![forbid(unsafe_code)]

pub mod account;
pub mod field;
pub mod ids;
pub mod partner;
pub mod secret;
pub mod throttle;

pub use account::{Email, NewPassword, PersonName, Role};
pub use field::FieldError;
pub use ids::{InvitationId, PartnerId, StaffId, UserId};
pub use partner::{Currency, PartnerName, PaymentModel};
pub use secret::{SecretToken, TokenHash};
