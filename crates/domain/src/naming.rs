//! How clients, their accounts and counts are named in sentences. One rule for the whole Hub: a
//! client or partner is shown by the name people know it by (the client's name, the partner's
//! brand name), never by a legal name, which belongs only where a contract or an invoice needs
//! it. A WhatsApp Business Account usually carries its client's name, so naming both reads
//! twice ("Acme Shoes of Acme Shoes"): the account is then named through its client.

/// "the WhatsApp Business Account of Acme Shoes", or "Acme EU (the WhatsApp Business Account of
/// Acme Shoes)" when the account has a name of its own.
pub fn account_of(account_name: &str, client_name: &str) -> String {
    let (account, client) = (account_name.trim(), client_name.trim());
    if account.is_empty() || account.eq_ignore_ascii_case(client) {
        format!("the WhatsApp Business Account of {client}")
    } else {
        format!("{account} (the WhatsApp Business Account of {client})")
    }
}

/// The same account told to its own client: "your WhatsApp Business Account", with its name
/// only when it differs from the client's.
pub fn your_account(account_name: &str, client_name: &str) -> String {
    let account = account_name.trim();
    if account.is_empty() || account.eq_ignore_ascii_case(client_name.trim()) {
        "your WhatsApp Business Account".to_owned()
    } else {
        format!("your WhatsApp Business Account {account}")
    }
}

/// "1 number", "2 numbers".
pub fn numbers(count: i64) -> String {
    if count == 1 {
        "1 number".to_owned()
    } else {
        format!("{count} numbers")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_named_after_its_client_is_named_once() {
        assert_eq!(
            account_of("Acme Shoes", "Acme Shoes"),
            "the WhatsApp Business Account of Acme Shoes"
        );
        assert_eq!(
            account_of(" acme shoes", "Acme Shoes"),
            "the WhatsApp Business Account of Acme Shoes"
        );
        assert_eq!(
            account_of("Acme EU", "Acme Shoes"),
            "Acme EU (the WhatsApp Business Account of Acme Shoes)"
        );
        assert_eq!(
            your_account("Acme Shoes", "Acme Shoes"),
            "your WhatsApp Business Account"
        );
        assert_eq!(
            your_account("Acme EU", "Acme Shoes"),
            "your WhatsApp Business Account Acme EU"
        );
        assert_eq!(numbers(1), "1 number");
        assert_eq!(numbers(0), "0 numbers");
    }
}
