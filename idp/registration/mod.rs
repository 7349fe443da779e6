//! Registration by login and password (R1, R2, R5; manual §1.1–§1.3): the form's checks,
//! the registry look-ups behind «Поиск» and «Добавить ИНН» (R4), eligibility, and saving the
//! application an inspector then decides (R3). No HTTP here: `web::register` renders what
//! these functions decide.
//!
//! - [`approval`]: the inspector's side — office isolation, approve, reject (R3, R5, D3);
//! - [`branch`]: branch applications and their confirmation by the head organization's head
//!   (R10, D4);
//! - [`form`]: what was typed and the checks that need no registry;
//! - [`eligibility`]: who may use a password (pure);
//! - [`lookup`]: «Поиск» and «Добавить ИНН»;
//! - [`guard`]: the look-up budgets and the audit events;
//! - [`signature`]: registration by electronic signature, no inspector (R6, R9–R11).
//!
//! The application stores only what the registry says (name, address), never what the
//! browser posted in the read-only fields, and the argon2 hash of the password.

pub mod approval;
pub mod branch;
pub mod eligibility;
pub mod form;
pub mod guard;
pub mod lookup;
pub mod signature;

use form::{FieldErrors, Form, PersonType, ValidForm};
use guard::Requester;
use lookup::{Found, LookupFailure, LookupKind};

use crate::error::Error;
use crate::state::AppState;
use crate::store::{Application, ApplicationKind, NewApplication, Taxpayer};

/// A link the page-level message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertLink {
    None,
    /// To signature registration (R9).
    Signature,
    /// To the status page of application `n`.
    Status(i64),
}

/// A message for the whole form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    pub key: &'static str,
    pub link: AlertLink,
}

/// Why the form comes back: messages next to fields and/or one for the whole form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Feedback {
    pub status: u16,
    pub fields: FieldErrors,
    pub alert: Option<Alert>,
}

impl Feedback {
    fn fields(fields: FieldErrors) -> Feedback {
        Feedback {
            status: 200,
            fields,
            alert: None,
        }
    }

    fn field(field: &'static str, key: &'static str) -> Feedback {
        Feedback::fields(FieldErrors::one(field, key))
    }

    fn alert(status: u16, key: &'static str, link: AlertLink) -> Feedback {
        Feedback {
            status,
            fields: FieldErrors::default(),
            alert: Some(Alert { key, link }),
        }
    }

    fn from_lookup(field: &'static str, failure: LookupFailure) -> Feedback {
        match failure {
            LookupFailure::TooMany | LookupFailure::Unavailable => {
                Feedback::alert(failure.status(), failure.message_key(), AlertLink::None)
            }
            _ => Feedback::field(field, failure.message_key()),
        }
    }
}

/// What a submission ended with.
#[derive(Debug, Clone)]
pub enum Outcome {
    Saved(Box<Application>),
    Retry(Feedback),
}

/// «Поиск» without JavaScript: looks up whichever INN fields are filled and fills the form
/// as the script would. Failures clear what they would have filled.
pub async fn fill(state: &AppState, who: &Requester, form: &mut Form) -> Result<Feedback, Error> {
    let mut feedback = Feedback::fields(FieldErrors::default());
    let note = |feedback: &mut Feedback, field, failure: LookupFailure| {
        let more = Feedback::from_lookup(field, failure);
        feedback.status = feedback.status.max(more.status);
        feedback.alert = feedback.alert.or(more.alert);
        for (f, k) in more.fields.0 {
            feedback.fields.add(f, k);
        }
    };
    let org_wanted = form.is_legal_entity() && !form.org_inn.is_empty();
    if org_wanted {
        match lookup::lookup(state, who, LookupKind::Organization, &form.org_inn, "form").await? {
            Ok(Found {
                name,
                address,
                ugns_code,
            }) => {
                form.org_name = name;
                form.address = address;
                form.ugns_code = ugns_code;
            }
            Err(failure) => {
                form.org_name.clear();
                form.address.clear();
                note(&mut feedback, "org_inn", failure);
            }
        }
    }
    if !form.inn.is_empty() && feedback.alert.is_none() {
        match lookup::lookup(state, who, LookupKind::Person, &form.inn, "form").await? {
            Ok(found) => {
                form.full_name = found.name;
                if !form.is_legal_entity() {
                    form.address = found.address;
                    if form.ugns_code.is_empty() {
                        form.ugns_code = found.ugns_code;
                    }
                }
            }
            Err(failure) => {
                form.full_name.clear();
                if !form.is_legal_entity() {
                    form.address.clear();
                }
                note(&mut feedback, "inn", failure);
            }
        }
    } else if form.inn.is_empty() && !org_wanted {
        feedback.fields.add("inn", "inn.error.empty");
    }
    Ok(feedback)
}

/// The tax registry's record of `inn`, or the feedback for `field`.
async fn registry_record(
    state: &AppState,
    inn: &str,
    field: &'static str,
    not_found: &'static str,
) -> Result<Taxpayer, Feedback> {
    match state.tax_registry.taxpayer(inn).await {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(Feedback::field(field, not_found)),
        Err(e) => {
            lookup::registry_failed(&e);
            Err(Feedback::from_lookup(field, LookupFailure::Unavailable))
        }
    }
}

/// «Зарегистрироваться»: checks the form, the registry, eligibility and duplicates, then
/// saves the application (R1) or the link request (R5).
pub async fn submit(state: &AppState, who: &Requester, form: &Form) -> Result<Outcome, Error> {
    let offices = state.store.ugns_offices().await?;
    let valid = match form::validate(form, &offices) {
        Ok(valid) => valid,
        Err(fields) => return Ok(Outcome::Retry(Feedback::fields(fields))),
    };
    // Past this point the registry is consulted: it costs a look-up.
    if !guard::take_budget(state, who).await? {
        return Ok(retry(Feedback::from_lookup("inn", LookupFailure::TooMany)));
    }
    let applicant =
        match registry_record(state, &valid.inn, "inn", "register.error.not_found").await {
            Ok(t) => t,
            Err(feedback) => return Ok(Outcome::Retry(feedback)),
        };
    let new = match valid.person_type {
        PersonType::Person => person_application(state, &valid, &applicant).await?,
        PersonType::LegalEntity => legal_entity_application(state, who, &valid, &applicant).await?,
    };
    let new = match new {
        Ok(new) => new,
        Err(feedback) => {
            if let Some(alert) = feedback.alert {
                guard::audit(
                    state,
                    "registration.refused",
                    who,
                    Some(valid.inn.clone()),
                    serde_json::json!({
                        "person_inn": valid.inn,
                        "org_inn": valid.org_inn,
                        "reason": alert.key,
                    }),
                )
                .await;
            }
            return Ok(Outcome::Retry(feedback));
        }
    };
    let application = state
        .store
        .create_application(&new, crate::clock::now())
        .await?;
    guard::audit(
        state,
        "registration.submit",
        who,
        Some(format!("application:{}", application.number)),
        serde_json::json!({
            "number": application.number,
            "kind": application.kind.as_str(),
            "person_inn": application.person_inn,
            "org_inn": application.org_inn,
            "ugns_code": application.ugns_code,
        }),
    )
    .await;
    Ok(Outcome::Saved(Box::new(application)))
}

fn retry(feedback: Feedback) -> Outcome {
    Outcome::Retry(feedback)
}

fn refusal(refusal: eligibility::Refusal) -> Feedback {
    let link = if refusal.needs_signature() {
        AlertLink::Signature
    } else {
        AlertLink::None
    };
    Feedback::alert(200, refusal.message_key(), link)
}

fn duplicate(application: &Application) -> Feedback {
    Feedback::alert(
        200,
        "register.error.duplicate",
        AlertLink::Status(application.number),
    )
}

async fn password_hash(state: &AppState, password: &str) -> Result<String, Error> {
    state
        .hasher
        .hash(password.to_owned())
        .await
        .map_err(Error::internal)
}

/// A pending application that would create the user with this INN (a person's or a legal
/// entity's, not a link request or a branch application), if any.
async fn pending_new_user(state: &AppState, inn: &str) -> Result<Option<Application>, Error> {
    let pending = state.store.pending_applications_of(inn).await?;
    Ok(pending.into_iter().find(|a| {
        matches!(
            a.kind,
            ApplicationKind::Person | ApplicationKind::LegalEntity
        )
    }))
}

/// «физическое лицо» (R1, R2).
async fn person_application(
    state: &AppState,
    valid: &ValidForm,
    applicant: &Taxpayer,
) -> Result<Result<NewApplication, Feedback>, Error> {
    if let Err(r) = eligibility::check_person(applicant) {
        return Ok(Err(refusal(r)));
    }
    if state.store.user_by_inn(&valid.inn).await?.is_some() {
        return Ok(Err(Feedback::alert(
            200,
            "register.error.already_registered",
            AlertLink::None,
        )));
    }
    if let Some(pending) = pending_new_user(state, &valid.inn).await? {
        return Ok(Err(duplicate(&pending)));
    }
    Ok(Ok(NewApplication {
        kind: ApplicationKind::Person,
        ugns_code: valid.ugns_code.clone(),
        person_inn: valid.inn.clone(),
        full_name: lookup::person_name(applicant),
        address: applicant.address.clone(),
        org_inn: None,
        org_name: None,
        password_hash: Some(password_hash(state, &valid.password).await?),
        existing_user_id: None,
        head_inn: None,
    }))
}

/// «юридическое лицо» (R1, R2) — or, for an applicant who already has a password account,
/// a link request (R5) whose password must be that account's.
async fn legal_entity_application(
    state: &AppState,
    who: &Requester,
    valid: &ValidForm,
    applicant: &Taxpayer,
) -> Result<Result<NewApplication, Feedback>, Error> {
    let org_inn = valid.org_inn.clone().unwrap_or_default();
    if let Err(r) = eligibility::check_applicant(applicant) {
        return Ok(Err(refusal(r)));
    }
    let org =
        match registry_record(state, &org_inn, "org_inn", "register.error.org_not_found").await {
            Ok(org) => org,
            Err(feedback) => return Ok(Err(feedback)),
        };
    if let Err(r) = eligibility::check_legal_entity(&org, &valid.inn) {
        return Ok(Err(refusal(r)));
    }
    if let Some(pending) = state
        .store
        .pending_application_for(&valid.inn, Some(&org_inn))
        .await?
    {
        return Ok(Err(duplicate(&pending)));
    }
    let mut new = NewApplication {
        kind: ApplicationKind::LegalEntity,
        ugns_code: valid.ugns_code.clone(),
        person_inn: valid.inn.clone(),
        full_name: lookup::person_name(applicant),
        address: org.address.clone(),
        org_inn: Some(org.inn.clone()),
        org_name: Some(org.name.clone()),
        password_hash: None,
        existing_user_id: None,
        head_inn: None,
    };
    let Some(user) = state.store.user_by_inn(&valid.inn).await? else {
        // A new user: but not while another application that creates them waits (the
        // second approval would find the INN taken).
        if let Some(pending) = pending_new_user(state, &valid.inn).await? {
            return Ok(Err(Feedback::alert(
                200,
                "register.error.pending_personal",
                AlertLink::Status(pending.number),
            )));
        }
        new.password_hash = Some(password_hash(state, &valid.password).await?);
        return Ok(Ok(new));
    };
    // R5: a link request for an existing user.
    let memberships = state.store.memberships_of_user(&user.id).await?;
    if memberships.iter().any(|(m, _)| m.org_inn == org.inn) {
        return Ok(Err(Feedback::alert(
            200,
            "register.error.already_linked",
            AlertLink::None,
        )));
    }
    if user.password_hash.is_none() {
        return Ok(Err(Feedback::alert(
            200,
            "register.error.no_password_account",
            AlertLink::Signature,
        )));
    }
    // The password check is a guessing oracle: it shares the sign-in failure budget.
    let fail_key = format!("fail:login:{}", user.login);
    let failures = state
        .sessions
        .get(&fail_key)
        .await?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0);
    if failures >= state.config.login_max_failures_per_login {
        return Ok(Err(Feedback::alert(
            429,
            "register.error.too_many",
            AlertLink::None,
        )));
    }
    let matches = state
        .hasher
        .verify(valid.password.clone(), user.password_hash.clone())
        .await
        .map_err(Error::internal)?;
    if !matches {
        state
            .sessions
            .incr(
                &fail_key,
                std::time::Duration::from_secs(state.config.login_window),
            )
            .await?;
        guard::audit(
            state,
            "registration.link_password_mismatch",
            who,
            Some(user.id.clone()),
            serde_json::json!({ "person_inn": valid.inn, "org_inn": org.inn }),
        )
        .await;
        return Ok(Err(Feedback::field(
            "password",
            "register.error.link_password",
        )));
    }
    new.kind = ApplicationKind::LinkRequest;
    new.existing_user_id = Some(user.id);
    Ok(Ok(new))
}
