//! Everything a person's browser sees: the sign-in and account-choice pages, logout
//! confirmation, the home page; plus what pages share — the string catalogue (`i18n`),
//! cookies, CSRF tokens, security headers and the HTML error page.

pub mod account;
pub mod branches;
pub mod browser;
pub mod cookies;
pub mod csrf;
pub mod home;
pub mod i18n;
pub mod inspector;
pub mod json;
pub mod login;
pub mod register;
pub mod security_headers;
pub mod signature_api;
pub mod views;
