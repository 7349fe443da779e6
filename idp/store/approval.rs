//! Approval rules shared by both backends: login generation (the person's INN followed by
//! the smallest three-digit suffix from `001` that no existing login uses) and the check that
//! the organization argument fits the application.

use super::model::{AccountKind, Application, ApplicationKind, MemberRole, Organization};
use super::{StoreError, StoreResult};

/// `LIKE` pattern matching `inn` followed by exactly three characters (`\` escapes).
pub(crate) fn suffix_pattern(inn: &str) -> String {
    let mut pattern = String::with_capacity(inn.len() + 3);
    for c in inn.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push_str("___");
    pattern
}

/// The login for `inn` given the logins already taken that start with it; `None` when all of
/// `001`…`999` are used.
pub(crate) fn next_login(inn: &str, taken: &[String]) -> Option<String> {
    let mut used = [false; 1000];
    for login in taken {
        let Some(suffix) = login.strip_prefix(inn) else {
            continue;
        };
        if suffix.len() == 3 && suffix.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = suffix.parse::<usize>() {
                used[n] = true;
            }
        }
    }
    (1..1000)
        .find(|&n| !used[n])
        .map(|n| format!("{inn}{n:03}"))
}

/// The organization argument must fit the application: required for legal entities, link
/// requests and branches (and the application's organization when it names one), absent for
/// a person; a branch application's is that branch, under the application's head organization.
pub(crate) fn check_organization(
    app: &Application,
    organization: Option<(&Organization, MemberRole)>,
) -> StoreResult<()> {
    let fits = match (app.kind, organization) {
        (ApplicationKind::Person, None) => true,
        (ApplicationKind::Person, Some(_)) | (_, None) => false,
        (ApplicationKind::Branch, Some((org, _))) => {
            app.org_inn.as_deref() == Some(org.inn.as_str())
                && org.kind == AccountKind::Branch
                && org.parent_inn.is_some()
                && org.parent_inn == app.head_inn
        }
        (_, Some((org, _))) => app.org_inn.as_deref().is_none_or(|inn| inn == org.inn),
    };
    if fits {
        Ok(())
    } else {
        Err(StoreError::Internal(format!(
            "organization argument does not fit {} application {}",
            app.kind.as_str(),
            app.number
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn smallest_free_suffix() {
        let inn = "12345678901234";
        assert_eq!(next_login(inn, &[]).unwrap(), "12345678901234001");
        let taken = owned(&[
            "12345678901234001",
            "12345678901234003",
            "12345678901234abc",
        ]);
        assert_eq!(next_login(inn, &taken).unwrap(), "12345678901234002");
        // `000` is never generated, and other prefixes do not count.
        let taken = owned(&["12345678901234000", "99945678901234001"]);
        assert_eq!(next_login(inn, &taken).unwrap(), "12345678901234001");
        let all: Vec<String> = (1..1000).map(|n| format!("{inn}{n:03}")).collect();
        assert_eq!(next_login(inn, &all), None);
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(suffix_pattern("123"), "123___");
        assert_eq!(suffix_pattern("1_%\\"), "1\\_\\%\\\\___");
    }
}
