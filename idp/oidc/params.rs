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
                return Err(Error::invalid_request(format!("parameter {name} is repeated")));
            }
        }
        Ok(Params(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }

    /// The value, or `invalid_request` naming the missing parameter.
    pub fn require(&self, name: &str) -> Result<&str, Error> {
        self.get(name).ok_or_else(|| Error::invalid_request(format!("missing parameter {name}")))
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
    fn empty_values_are_absent() {
        let p = Params::parse(b"a=&b=x%20y").unwrap();
        assert!(p.get("a").is_none());
        assert_eq!(p.get("b"), Some("x y"));
    }
}
