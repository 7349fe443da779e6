//! `idp trust add|list|remove` and `idp trust crl add` (D5): the certificate authorities
//! whose certificates electronic-signature sign-in accepts, and their revocation lists.
//! Files are read and checked (trust_parse) before the database is opened, so a wrong file
//! fails the same way whatever the backend; what passes must also load into the signature
//! core's `esig::TrustAnchors` together with the stored material before it is stored.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Subcommand;

use super::trust_parse::{crl_signed_by, format_time, read_ca_certificate, read_crl, subject_of};
use crate::config::Config;
use crate::store::{thumbprint_prefix, AddCaOutcome, PutCrlOutcome, RemoveCaOutcome, Store};

#[derive(Subcommand)]
pub enum TrustCommand {
    /// Trust a CA certificate (PEM or DER) for electronic signatures; prints its subject and
    /// thumbprint. Only CA certificates (basicConstraints CA=true, keyUsage keyCertSign) are
    /// accepted; adding one again changes nothing.
    Add {
        /// The certificate file.
        file: PathBuf,
    },
    /// List the trusted CAs (thumbprint, valid until, subject) and the stored CRLs.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop trusting a CA; its CRL is removed with it.
    Remove {
        /// The SHA-256 thumbprint from `idp trust list`, or a unique prefix of at least 8
        /// hex digits.
        thumbprint: String,
    },
    /// Revocation lists of the trusted CAs.
    #[command(subcommand)]
    Crl(CrlCommand),
}

#[derive(Subcommand)]
pub enum CrlCommand {
    /// Store a CRL (PEM or DER) signed by a trusted CA, replacing that CA's older CRL. An
    /// older CRL than the stored one is refused.
    Add {
        /// The CRL file.
        file: PathBuf,
    },
}

pub async fn run(config: &Config, command: TrustCommand) -> anyhow::Result<()> {
    match command {
        TrustCommand::Add { file } => add(config, &file).await,
        TrustCommand::List { json } => list(config, json).await,
        TrustCommand::Remove { thumbprint } => remove(config, &thumbprint).await,
        TrustCommand::Crl(CrlCommand::Add { file }) => add_crl(config, &file).await,
    }
}

fn read(file: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("reading {}", file.display()))
}

async fn add(config: &Config, file: &Path) -> anyhow::Result<()> {
    let now = crate::clock::now();
    let ca = read_ca_certificate(&read(file)?, now).with_context(|| file.display().to_string())?;
    let store = crate::app::open_store(config).await?;
    still_loads(store.as_ref(), Some(&ca.der), None).await?;
    match store.add_ca(&ca).await? {
        AddCaOutcome::Added => {
            super::audit(
                store.as_ref(),
                "trust.add",
                Some(ca.thumbprint.clone()),
                serde_json::json!({ "subject": ca.subject, "not_after": ca.not_after }),
            )
            .await;
            println!("trusted CA {}", ca.subject);
        }
        AddCaOutcome::AlreadyTrusted { added_at } => {
            println!(
                "already trusted (since {}): {}",
                format_time(added_at),
                ca.subject
            );
        }
    }
    println!("thumbprint {}", ca.thumbprint);
    println!(
        "valid {} to {}",
        format_time(ca.not_before),
        format_time(ca.not_after)
    );
    if ca.not_after < now {
        eprintln!("warning: this certificate has expired; signatures under it will not verify");
    }
    Ok(())
}

async fn list(config: &Config, json: bool) -> anyhow::Result<()> {
    let store = crate::app::open_store(config).await?;
    let cas = store.list_cas().await?;
    let crls = store.list_crls().await?;
    if json {
        println!("{}", serde_json::json!({ "cas": cas, "crls": crls }));
        return Ok(());
    }
    let now = crate::clock::now();
    if cas.is_empty() {
        println!("no trusted CAs (add one with `idp trust add FILE`)");
    } else {
        println!("trusted CAs ({}):", cas.len());
        for ca in &cas {
            let expired = if ca.not_after < now { " (expired)" } else { "" };
            println!(
                "  {}  valid until {}{expired}  {}",
                ca.thumbprint,
                format_time(ca.not_after),
                ca.subject
            );
        }
    }
    if crls.is_empty() {
        println!("no CRLs");
    } else {
        println!("CRLs ({}):", crls.len());
        for crl in &crls {
            let next = match crl.next_update {
                Some(t) if t < now => format!("{} (overdue)", format_time(t)),
                Some(t) => format_time(t),
                None => "none".into(),
            };
            println!(
                "  {}  this update {}  next update {next}",
                crl.issuer,
                format_time(crl.this_update)
            );
        }
    }
    Ok(())
}

async fn remove(config: &Config, thumbprint: &str) -> anyhow::Result<()> {
    if thumbprint_prefix(thumbprint).is_none() {
        bail!(
            "{thumbprint:?} is not a thumbprint: give the SHA-256 thumbprint from \
             `idp trust list` or at least its first 8 hex digits"
        );
    }
    let store = crate::app::open_store(config).await?;
    match store.remove_ca(thumbprint).await? {
        RemoveCaOutcome::Removed { ca, crls_removed } => {
            super::audit(
                store.as_ref(),
                "trust.remove",
                Some(ca.thumbprint.clone()),
                serde_json::json!({ "subject": ca.subject, "crls_removed": crls_removed }),
            )
            .await;
            println!("no longer trusted: {} ({})", ca.subject, ca.thumbprint);
            if crls_removed > 0 {
                println!("removed its CRL too");
            }
            Ok(())
        }
        RemoveCaOutcome::NotFound => {
            bail!("no trusted CA has the thumbprint {thumbprint} (see `idp trust list`)")
        }
        RemoveCaOutcome::Ambiguous(matches) => bail!(
            "{thumbprint} is the start of {} thumbprints ({}); give more digits",
            matches.len(),
            matches.join(", ")
        ),
    }
}

async fn add_crl(config: &Config, file: &Path) -> anyhow::Result<()> {
    let crl = read_crl(&read(file)?).with_context(|| file.display().to_string())?;
    let store = crate::app::open_store(config).await?;
    let signer = find_signer(store.as_ref(), &crl.issuer, &crl.der).await?;
    still_loads(store.as_ref(), None, Some(&crl.der)).await?;
    let (issuer, this_update, next_update) = (crl.issuer.clone(), crl.this_update, crl.next_update);
    let outcome = store
        .put_crl(&crl.into_new(Some(signer)), crate::clock::now())
        .await?;
    match outcome {
        PutCrlOutcome::Added | PutCrlOutcome::Replaced { .. } => {
            super::audit(
                store.as_ref(),
                "trust.crl_add",
                None,
                serde_json::json!({ "issuer": issuer, "this_update": this_update }),
            )
            .await;
        }
        PutCrlOutcome::Unchanged | PutCrlOutcome::Stale { .. } => {}
    }
    let next = next_update.map_or_else(|| "none".into(), format_time);
    match outcome {
        PutCrlOutcome::Added => println!("added the CRL of {issuer}"),
        PutCrlOutcome::Replaced {
            previous_this_update,
        } => println!(
            "replaced the CRL of {issuer} (the one of {})",
            format_time(previous_this_update)
        ),
        PutCrlOutcome::Unchanged => println!("this CRL of {issuer} is already stored"),
        PutCrlOutcome::Stale { stored_this_update } => bail!(
            "refused: the stored CRL of {issuer} is as new or newer (this update {} ≥ {})",
            format_time(stored_this_update),
            format_time(this_update)
        ),
    }
    println!(
        "this update {}, next update {next}",
        format_time(this_update)
    );
    if next_update.is_some_and(|t| t < crate::clock::now()) {
        eprintln!("warning: this CRL's next update has passed; ask the CA for a newer one");
    }
    Ok(())
}

/// Signature sign-in loads the whole trust material into `esig::TrustAnchors` for every
/// verification and refuses every signature when one item does not load; so nothing goes in
/// that the signature core would not load together with what is already there.
async fn still_loads(
    store: &dyn Store,
    ca: Option<&[u8]>,
    crl: Option<&[u8]>,
) -> anyhow::Result<()> {
    let mut material = store.trust_material().await?;
    material.cas.extend(ca.map(<[u8]>::to_vec));
    material.crls.extend(crl.map(<[u8]>::to_vec));
    match crate::esig::TrustAnchors::new(&material.cas, &material.crls) {
        Ok(_) => Ok(()),
        Err(e) => bail!("refused: signature checks could not use the trust store with it ({e})"),
    }
}

/// The thumbprint of the trusted CA that issued the CRL and whose key verifies its signature.
/// A CA re-keyed under the same name has several certificates, so every one is tried.
async fn find_signer(store: &dyn Store, issuer: &str, crl_der: &[u8]) -> anyhow::Result<String> {
    let mut named = Vec::new();
    for ca in store.list_cas().await? {
        // From the DER rather than the stored text, so CAs added before a change of the
        // name formatting still match.
        if subject_of(&ca.der).is_ok_and(|s| s == issuer) {
            named.push(ca);
        }
    }
    if named.is_empty() {
        bail!(
            "the CRL's issuer {issuer} is not a trusted CA; trust its certificate first \
             (`idp trust add FILE`)"
        );
    }
    for ca in &named {
        if crl_signed_by(crl_der, &ca.der)? {
            return Ok(ca.thumbprint.clone());
        }
    }
    let tried: Vec<&str> = named.iter().map(|ca| ca.thumbprint.as_str()).collect();
    bail!(
        "the CRL's signature does not verify with the key of the trusted CA {issuer} ({}); \
         it was not stored",
        tried.join(", ")
    )
}
