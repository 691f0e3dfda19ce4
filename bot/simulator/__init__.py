"""The /simulator page: chat as a phone over USSD, WhatsApp and SMS against the provider sandbox."""
