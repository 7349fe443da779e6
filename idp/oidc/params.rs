//! Parsing of protocol parameters. RFC 6749 §3.1/§3.2: "Request and response parameters
//! MUST NOT be included more than once", and empty values count as absent.

use std::collections::HashMap;

use crate::error::Error;

/// Protocol parameters, each at most once.
#[derive(Debug, Default, Clone)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` text (a query string or a form body).
    pub fn parse(encoded: &[u8]) -> Result<Params, Error> {
        let mut map = HashMap::new();
        for (name, value) in form_urlencoded::parse(encoded) {
            if value.is_empty() {
                continue;
            }
            if map.insert(name.to_string(), value.into_owned()).is_some() {
                return Err(Error::invalid_request(format!(
                    "parameter {name} is repeated"
                )));
            }
        }
        Ok(Params(map))
    }

    /// Like [`Params::parse`], but goes on past repeated parameters: they are left out of
    /// the result (no value of theirs can be trusted) and their names returned, so that the
    /// caller decides how to report them — `/authorize` must show a page for a repeated
    /// `client_id` or `redirect_uri` but send any other repeat back to the client
    /// (RFC 6749 §4.1.2.1).
    pub fn parse_lenient(encoded: &[u8]) -> (Params, Vec<String>) {
        let mut map = HashMap::new();
        let mut repeated: Vec<String> = Vec::new();
        for (name, value) in form_urlencoded::parse(encoded) {
            if value.is_empty() || repeated.iter().any(|r| *r == name) {
                continue;
            }
            if map.insert(name.to_string(), value.into_owned()).is_some() {
                map.remove(name.as_ref());
                repeated.push(name.into_owned());
            }
        }
        (Params(map), repeated)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }

    /// The value, or `invalid_request` naming the missing parameter.
    pub fn require(&self, name: &str) -> Result<&str, Error> {
        self.get(name)
            .ok_or_else(|| Error::invalid_request(format!("missing parameter {name}")))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    pub fn into_map(self) -> HashMap<String, String> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameter_is_refused() {
        let err = Params::parse(b"a=1&b=2&a=3").unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::InvalidRequest);
    }

    #[test]
    fn lenient_parse_drops_and_names_repeats() {
        let (p, repeated) = Params::parse_lenient(b"a=1&b=2&a=3&c=&c=4&a=5");
        assert_eq!(repeated, vec!["a".to_owned()]);
        assert!(p.get("a").is_none());
        assert_eq!(p.get("b"), Some("2"));
        assert_eq!(p.get("c"), Some("4"));
    }

    #[test]
    fn empty_values_are_absent() {
        let p = Params::parse(b"a=&b=x%20y").unwrap();
        assert!(p.get("a").is_none());
        assert_eq!(p.get("b"), Some("x y"));
    }
}
