//! Whether a partner may create messaging API keys for a channel. One rule, one place: the
//! onboarding flow, the Client Hub and the Partner API all ask it instead of re-deciding it.

use crate::{PartnerPermission, PaymentModel};

/// Partner-Payment numbers are paid by the partner, so the partner holds their keys by default.
/// Direct-Payment numbers belong to clients who pay the BSP themselves: the partner gets access
/// only once the client granted it (in the onboarding flow or the Client Hub).
pub fn partner_permission(model: PaymentModel, client_granted: bool) -> PartnerPermission {
    match model {
        PaymentModel::PartnerPayment => PartnerPermission::Shared,
        PaymentModel::DirectPayment if client_granted => PartnerPermission::Shared,
        PaymentModel::DirectPayment => PartnerPermission::Missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partner_payment_numbers_are_always_shared() {
        for granted in [false, true] {
            assert_eq!(
                partner_permission(PaymentModel::PartnerPayment, granted),
                PartnerPermission::Shared
            );
        }
    }

    #[test]
    fn direct_payment_numbers_need_the_clients_grant() {
        assert_eq!(
            partner_permission(PaymentModel::DirectPayment, false),
            PartnerPermission::Missing
        );
        assert_eq!(
            partner_permission(PaymentModel::DirectPayment, true),
            PartnerPermission::Shared
        );
    }
}
