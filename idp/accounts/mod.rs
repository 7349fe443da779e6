//! The taxpayer accounts a user can act for (A6, A7): their personal account and every
//! organization or branch they are an unblocked member of, and the `account` claim that
//! describes the chosen one.

pub mod inn;

use serde::{Deserialize, Serialize};

use crate::store::{AccountKind, Membership, Organization, Store, StoreResult, User};

/// One account a user may choose on the selection page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// `{kind}:{inn}`; stable, stored in consents and grants.
    pub key: String,
    pub kind: AccountKind,
    pub inn: String,
    pub name: String,
    pub ugns_code: Option<String>,
    /// `self` for the personal account, else the membership role.
    pub role: String,
    /// For a branch: the head organization's INN.
    pub head_inn: Option<String>,
}

impl Account {
    pub fn key_for(kind: AccountKind, inn: &str) -> String {
        format!("{}:{inn}", kind.as_str())
    }

    /// The `account` claim (O2).
    pub fn claim(&self) -> serde_json::Value {
        let mut claim = serde_json::json!({
            "kind": self.kind.as_str(),
            "inn": self.inn,
            "name": self.name,
            "ugns_code": self.ugns_code,
            "role": self.role,
        });
        if let Some(head) = &self.head_inn {
            claim["head_inn"] = serde_json::Value::String(head.clone());
        }
        claim
    }
}

/// The personal account of a user.
pub fn personal_account(user: &User) -> Account {
    Account {
        key: Account::key_for(AccountKind::Individual, &user.inn),
        kind: AccountKind::Individual,
        inn: user.inn.clone(),
        name: user.full_name(),
        ugns_code: user.ugns_code.clone(),
        role: "self".into(),
        head_inn: None,
    }
}

/// Every account `user` may act for now, personal first: blocked memberships and
/// liquidated organizations are left out (A7, D1). A blocked user has none.
pub async fn accounts_of(store: &dyn Store, user: &User) -> StoreResult<Vec<Account>> {
    if user.blocked {
        return Ok(Vec::new());
    }
    let mut accounts = vec![personal_account(user)];
    let mut memberships = store.memberships_of_user(&user.id).await?;
    memberships.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    accounts.extend(
        memberships
            .into_iter()
            .filter_map(|(membership, org)| organization_account(membership, org)),
    );
    Ok(accounts)
}

/// The account a membership gives, unless it is blocked or the organization liquidated.
fn organization_account(membership: Membership, org: Organization) -> Option<Account> {
    if membership.blocked || org.liquidated {
        return None;
    }
    Some(Account {
        key: Account::key_for(org.kind, &org.inn),
        kind: org.kind,
        inn: org.inn,
        name: org.name,
        ugns_code: Some(org.ugns_code),
        role: membership.role.as_str().into(),
        head_inn: org.parent_inn,
    })
}

/// The user `user_id` and their account `key`, if both may still be used (A7, D1) — what
/// userinfo and refresh need on every call, in one store query.
pub async fn user_and_account(
    store: &dyn Store,
    user_id: &str,
    key: &str,
) -> StoreResult<Option<(User, Account)>> {
    let Some((kind, inn)) = key
        .split_once(':')
        .and_then(|(kind, inn)| Some((AccountKind::parse(kind)?, inn)))
    else {
        return Ok(None);
    };
    if kind == AccountKind::Individual {
        let user = store.user_by_id(user_id).await?.filter(|u| !u.blocked);
        return Ok(user.and_then(|user| {
            let personal = personal_account(&user);
            (personal.key == key).then_some((user, personal))
        }));
    }
    let Some((user, membership)) = store.user_with_membership(user_id, inn).await? else {
        return Ok(None);
    };
    if user.blocked {
        return Ok(None);
    }
    let account = membership
        .and_then(|(membership, org)| organization_account(membership, org))
        .filter(|account| account.key == key);
    Ok(account.map(|account| (user, account)))
}

/// The account `key` of `user`, if they may still act for it.
pub async fn account_of(store: &dyn Store, user: &User, key: &str) -> StoreResult<Option<Account>> {
    // The personal account needs no membership read: userinfo and refresh, the hottest
    // paths, mostly act for it.
    if !user.blocked {
        let personal = personal_account(user);
        if personal.key == key {
            return Ok(Some(personal));
        }
    }
    Ok(accounts_of(store, user)
        .await?
        .into_iter()
        .find(|a| a.key == key))
}
