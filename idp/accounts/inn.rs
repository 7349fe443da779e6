//! INN (ИНН / ПИН) validation, domain notes §1: 14 digits; for a person (first digit 1 or 2,
//! the sex) digits 2–9 are the birth date DDMMYYYY (a real date, year ≥ 1900, not in the
//! future); for an organization (first digit 0) digits 2–9 are its registration date (a
//! real date). Other first digits (foreigners? rules unknown) are accepted unless `strict`.
//! There is no published checksum, so none is checked.

use time::{Date, Month};

/// Why an INN was refused; each kind has its own message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InnError {
    Empty,
    /// Digits counted after removing spaces and dashes.
    WrongLength(usize),
    NotDigits,
    UnknownLeadingDigit(char),
    ImpossibleDate,
}

impl InnError {
    /// Catalogue key of the message shown to a person.
    pub fn message_key(&self) -> &'static str {
        match self {
            InnError::Empty => "inn.error.empty",
            InnError::WrongLength(_) => "inn.error.length",
            InnError::NotDigits => "inn.error.digits",
            InnError::UnknownLeadingDigit(_) => "inn.error.leading",
            InnError::ImpossibleDate => "inn.error.date",
        }
    }
}

impl std::fmt::Display for InnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InnError::Empty => write!(f, "INN is empty"),
            InnError::WrongLength(n) => write!(f, "INN must have 14 digits, not {n}"),
            InnError::NotDigits => write!(f, "INN must contain only digits"),
            InnError::UnknownLeadingDigit(c) => write!(f, "unknown first digit of INN: {c}"),
            InnError::ImpossibleDate => write!(f, "INN contains an impossible date"),
        }
    }
}

impl std::error::Error for InnError {}

/// Strips spaces and dashes and checks the structure; returns the 14 digits.
pub fn normalize_inn(input: &str, strict: bool) -> Result<String, InnError> {
    let today = time::OffsetDateTime::from_unix_timestamp(crate::clock::now())
        .map(|t| t.date())
        .unwrap_or(Date::MAX);
    normalize_inn_at(input, strict, today)
}

/// [`normalize_inn`] with "today" given (for tests).
pub fn normalize_inn_at(input: &str, strict: bool, today: Date) -> Result<String, InnError> {
    let inn: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '‐' | '–' | '—'))
        .collect();
    if inn.is_empty() {
        return Err(InnError::Empty);
    }
    if !inn.chars().all(|c| c.is_ascii_digit()) {
        return Err(InnError::NotDigits);
    }
    if inn.len() != 14 {
        return Err(InnError::WrongLength(inn.len()));
    }
    let first = inn.as_bytes()[0] as char;
    match first {
        '1' | '2' => match date_in(&inn) {
            Some(d) if d.year() >= 1900 && d <= today => {}
            _ => return Err(InnError::ImpossibleDate),
        },
        // An organization: a real date, not checked against today (registry lag).
        '0' if date_in(&inn).is_none() => return Err(InnError::ImpossibleDate),
        '0' => {}
        other if strict => return Err(InnError::UnknownLeadingDigit(other)),
        _ => {}
    }
    Ok(inn)
}

/// Digits 2–9 as DDMMYYYY, if that is a real date.
fn date_in(inn: &str) -> Option<Date> {
    let day: u8 = inn[1..3].parse().ok()?;
    let month: u8 = inn[3..5].parse().ok()?;
    let year: i32 = inn[5..9].parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::from_calendar_date(2025, Month::June, 1).unwrap()
    }

    fn check(input: &str, strict: bool) -> Result<String, InnError> {
        normalize_inn_at(input, strict, today())
    }

    #[test]
    fn demo_fixtures_are_valid() {
        for inn in [
            "01503201699001",
            "00211201999002",
            "02006201199003",
            "00709202199004",
            "01105201599005",
            "02802202399006",
            "21207198599011",
            "10304199099012",
            "22512197899013",
            "11908199599014",
            "20101197099015",
            "13009198899016",
            "12503199099021",
            "20512198899022",
        ] {
            assert_eq!(check(inn, true).as_deref(), Ok(inn), "{inn}");
        }
    }

    #[test]
    fn spaces_and_dashes_are_stripped() {
        assert_eq!(
            check(" 2120-7198 599011 ", true).as_deref(),
            Ok("21207198599011")
        );
    }

    #[test]
    fn each_kind_of_invalid_inn_has_its_error() {
        assert_eq!(check("", false), Err(InnError::Empty));
        assert_eq!(check("  - ", false), Err(InnError::Empty));
        assert_eq!(
            check("1234567890123", false),
            Err(InnError::WrongLength(13))
        );
        assert_eq!(check("0150320169900A", false), Err(InnError::NotDigits));
        assert_eq!(
            check("23102199099020", false),
            Err(InnError::ImpossibleDate)
        );
        assert_eq!(
            check("00013202399001", false),
            Err(InnError::ImpossibleDate)
        );
        // Born in the future, or before 1900.
        assert_eq!(
            check("20101209999001", false),
            Err(InnError::ImpossibleDate)
        );
        assert_eq!(
            check("20101189999001", false),
            Err(InnError::ImpossibleDate)
        );
    }

    #[test]
    fn unknown_leading_digit_is_tolerated_unless_strict() {
        assert_eq!(
            check("31503201699001", false).as_deref(),
            Ok("31503201699001")
        );
        assert_eq!(
            check("31503201699001", true),
            Err(InnError::UnknownLeadingDigit('3'))
        );
    }

    #[test]
    fn organization_dates_may_be_ahead_of_today() {
        // Registry lag: an organization's date is not checked against today.
        assert!(check("00101209999001", false).is_ok());
    }

    #[test]
    fn message_keys() {
        assert_eq!(InnError::Empty.message_key(), "inn.error.empty");
        assert_eq!(InnError::WrongLength(3).message_key(), "inn.error.length");
        assert_eq!(InnError::NotDigits.message_key(), "inn.error.digits");
        assert_eq!(
            InnError::UnknownLeadingDigit('3').message_key(),
            "inn.error.leading"
        );
        assert_eq!(InnError::ImpossibleDate.message_key(), "inn.error.date");
    }
}
