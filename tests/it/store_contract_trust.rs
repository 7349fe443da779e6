//! Contract cases for the trust store (`TrustStore`: trusted CAs, one CRL per issuer, the
//! trust material of signature sign-in), run against both backends by the runner of
//! `store_contract`. The store does not parse certificates, so opaque bytes stand in for DER.

use std::sync::Arc;

use salyk_idp::store::*;

use crate::store_contract::{contract_cases, run_postgres, run_sqlite, NOW};

contract_cases!(
    cas_add_is_idempotent_and_list_is_ordered,
    cas_remove_by_thumbprint_or_unique_prefix,
    crls_one_per_issuer_and_only_newer_replaces,
    removing_a_ca_removes_its_crls,
    trust_material_holds_every_der,
);

/// A thumbprint of 64 hex digits starting with `prefix`.
fn thumb(prefix: &str) -> String {
    format!("{prefix:0<64}")
}

fn ca(thumbprint: &str, subject: &str) -> TrustedCa {
    TrustedCa {
        thumbprint: thumbprint.into(),
        subject: subject.into(),
        issuer: "CN=Корневой УЦ,O=ГНС\\, КР,C=KG".into(),
        serial: "1f".into(),
        not_before: NOW - 86_400,
        not_after: NOW + 10 * 365 * 86_400,
        der: format!("der of {subject}").into_bytes(),
        added_at: NOW,
    }
}

fn crl(issuer: &str, thumbprint: Option<&str>, this_update: UnixTime, der: &str) -> NewCrl {
    NewCrl {
        issuer: issuer.into(),
        issuer_thumbprint: thumbprint.map(Into::into),
        this_update,
        next_update: Some(this_update + 7 * 86_400),
        der: der.as_bytes().to_vec(),
    }
}

async fn cas_add_is_idempotent_and_list_is_ordered(store: Arc<dyn Store>) {
    assert!(store.list_cas().await.unwrap().is_empty());
    let root = ca(&thumb("b0"), "CN=Root CA,C=KG");
    let sub = ca(&thumb("a0"), "CN=Issuing CA,C=KG");
    assert_eq!(store.add_ca(&root).await.unwrap(), AddCaOutcome::Added);
    assert_eq!(store.add_ca(&sub).await.unwrap(), AddCaOutcome::Added);
    // The same certificate again, later: reported, and the first time is kept.
    let again = TrustedCa {
        added_at: NOW + 60,
        ..root.clone()
    };
    assert_eq!(
        store.add_ca(&again).await.unwrap(),
        AddCaOutcome::AlreadyTrusted { added_at: NOW }
    );
    // Every column round-trips, bytes and non-ASCII text included; ordered by subject.
    assert_eq!(store.list_cas().await.unwrap(), vec![sub, root]);
}

async fn cas_remove_by_thumbprint_or_unique_prefix(store: Arc<dyn Store>) {
    let one = ca(&thumb("abcdef0111"), "CN=One");
    let two = ca(&thumb("abcdef0122"), "CN=Two");
    let three = ca(&thumb("0123456789"), "CN=Three");
    for c in [&one, &two, &three] {
        store.add_ca(c).await.unwrap();
    }
    // Shorter than 8 digits, not hex, or matching nothing: nothing happens.
    for input in ["abcdef0", "abcdef01zz", "ffffffff", ""] {
        assert_eq!(
            store.remove_ca(input).await.unwrap(),
            RemoveCaOutcome::NotFound,
            "{input:?}"
        );
    }
    assert_eq!(
        store.remove_ca("abcdef01").await.unwrap(),
        RemoveCaOutcome::Ambiguous(vec![one.thumbprint.clone(), two.thumbprint.clone()])
    );
    assert_eq!(store.list_cas().await.unwrap().len(), 3);
    // A longer prefix is unique; case does not matter.
    assert_eq!(
        store.remove_ca("ABCDEF0122").await.unwrap(),
        RemoveCaOutcome::Removed {
            ca: two,
            crls_removed: 0
        }
    );
    assert_eq!(
        store.remove_ca(&three.thumbprint).await.unwrap(),
        RemoveCaOutcome::Removed {
            ca: three.clone(),
            crls_removed: 0
        }
    );
    assert_eq!(
        store.remove_ca(&three.thumbprint).await.unwrap(),
        RemoveCaOutcome::NotFound
    );
    assert_eq!(store.list_cas().await.unwrap(), vec![one]);
}

async fn crls_one_per_issuer_and_only_newer_replaces(store: Arc<dyn Store>) {
    let root = ca(&thumb("c0"), "CN=Root CA,C=KG");
    store.add_ca(&root).await.unwrap();
    let issuer = root.subject.as_str();
    let first = crl(issuer, Some(&root.thumbprint), NOW - 3_600, "crl 1");
    assert_eq!(
        store.put_crl(&first, NOW).await.unwrap(),
        PutCrlOutcome::Added
    );
    assert_eq!(
        store.put_crl(&first, NOW + 1).await.unwrap(),
        PutCrlOutcome::Unchanged
    );
    // Older, or as old but different: the stored one stays.
    let older = crl(issuer, Some(&root.thumbprint), NOW - 7_200, "crl 0");
    let same_time = crl(issuer, Some(&root.thumbprint), NOW - 3_600, "crl 1b");
    for stale in [&older, &same_time] {
        assert_eq!(
            store.put_crl(stale, NOW + 2).await.unwrap(),
            PutCrlOutcome::Stale {
                stored_this_update: NOW - 3_600
            }
        );
    }
    let newer = NewCrl {
        next_update: None,
        ..crl(issuer, Some(&root.thumbprint), NOW, "crl 2")
    };
    assert_eq!(
        store.put_crl(&newer, NOW + 3).await.unwrap(),
        PutCrlOutcome::Replaced {
            previous_this_update: NOW - 3_600
        }
    );
    // An issuer we found no CA for is kept too; a thumbprint of no trusted CA is refused.
    let orphan = crl("CN=Elsewhere", None, NOW, "crl x");
    assert_eq!(
        store.put_crl(&orphan, NOW + 4).await.unwrap(),
        PutCrlOutcome::Added
    );
    let unknown = crl("CN=Unknown", Some(&thumb("dd")), NOW, "crl y");
    assert!(matches!(
        store.put_crl(&unknown, NOW).await,
        Err(StoreError::NotFound(_))
    ));

    let crls = store.list_crls().await.unwrap();
    assert_eq!(crls.len(), 2, "{crls:?}");
    assert_eq!(crls[0].issuer, "CN=Elsewhere");
    assert_eq!(crls[0].issuer_thumbprint, None);
    let stored = &crls[1];
    assert_eq!(stored.issuer, issuer);
    assert_eq!(
        stored.issuer_thumbprint.as_deref(),
        Some(root.thumbprint.as_str())
    );
    assert_eq!(
        (stored.this_update, stored.next_update, stored.added_at),
        (NOW, None, NOW + 3)
    );
    assert_eq!(stored.der, b"crl 2");
}

async fn removing_a_ca_removes_its_crls(store: Arc<dyn Store>) {
    let root = ca(&thumb("e0"), "CN=Root CA");
    store.add_ca(&root).await.unwrap();
    store
        .put_crl(&crl("CN=Root CA", Some(&root.thumbprint), NOW, "r"), NOW)
        .await
        .unwrap();
    store
        .put_crl(&crl("CN=Other", None, NOW, "o"), NOW)
        .await
        .unwrap();
    assert_eq!(
        store.remove_ca(&root.thumbprint[..8]).await.unwrap(),
        RemoveCaOutcome::Removed {
            ca: root,
            crls_removed: 1
        }
    );
    let left: Vec<String> = store
        .list_crls()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.issuer)
        .collect();
    assert_eq!(left, vec!["CN=Other".to_owned()]);
}

async fn trust_material_holds_every_der(store: Arc<dyn Store>) {
    assert_eq!(
        store.trust_material().await.unwrap(),
        TrustMaterial::default()
    );
    let a = ca(&thumb("1a"), "CN=A");
    let b = ca(&thumb("1b"), "CN=B");
    store.add_ca(&a).await.unwrap();
    store.add_ca(&b).await.unwrap();
    store
        .put_crl(&crl("CN=A", Some(&a.thumbprint), NOW, "crl of a"), NOW)
        .await
        .unwrap();
    let material = store.trust_material().await.unwrap();
    assert_eq!(material.cas, vec![a.der, b.der]);
    assert_eq!(material.crls, vec![b"crl of a".to_vec()]);
}
