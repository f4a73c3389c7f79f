//! Integrated Onboarding, the pages a partner's clients sign up through: `screens` are the
//! templates of each step (shared with the Profile page's preview, which shows them inert), and
//! `pages` serves them live at `/dashboard/app/{partner_id}`.

pub mod pages;
pub mod screens;

pub use screens::*;
