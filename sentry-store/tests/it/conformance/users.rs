//! Behaviours of users, organization members and web sessions.

use sentry_core::UserId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{MetadataStore, NewUser, OrgRole, StoreErrorKind, User, WebSession};

use super::{Stores, project, seconds, unique};

/// A user with a unique, mixed-case email.
async fn new_user(stores: &Stores, name: &str) -> User {
    let metadata = &stores.metadata;
    let user = NewUser {
        email: format!("{}@Example.COM", unique(name)),
        name: name.to_owned(),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned()),
        is_superuser: false,
    };
    metadata.create_user(&user).await.unwrap()
}

const HOUR: i64 = 3_600_000_000;

/// A time some microseconds after (or before) another.
fn shifted(time: Timestamp, micros: i64) -> Timestamp {
    Timestamp::from_unix_micros(time.as_unix_micros() + micros).unwrap()
}

pub async fn emails_are_unique_whatever_their_case(stores: &Stores) {
    let metadata = &stores.metadata;
    let user = new_user(stores, "Jane").await;
    assert!(user.email.ends_with("@Example.COM"), "kept as given");
    assert_eq!(user.last_login, None);
    assert!(!user.is_superuser);
    let lower = user.email.to_lowercase();
    assert_eq!(
        metadata.user_by_email(&lower).await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(
        metadata.user_by_email(&lower.to_uppercase()).await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(metadata.user(user.id).await.unwrap(), Some(user.clone()));
    let again = NewUser {
        email: lower.to_uppercase(),
        name: "Impostor".to_owned(),
        password_hash: None,
        is_superuser: true,
    };
    let conflict = metadata.create_user(&again).await.unwrap_err();
    assert_eq!(conflict.kind(), StoreErrorKind::Conflict);
    assert!(metadata.users().await.unwrap().contains(&user));
    assert_eq!(
        metadata.user_by_email("nobody@example.com").await.unwrap(),
        None
    );
    assert_eq!(metadata.user(UserId(i64::MAX)).await.unwrap(), None);
    let debug = format!("{user:?}");
    assert!(!debug.contains("argon2"), "Debug hides the hash: {debug}");
}

pub async fn passwords_and_logins_are_recorded(stores: &Stores) {
    let metadata = &stores.metadata;
    let user = new_user(stores, "John").await;
    assert!(
        metadata
            .set_user_password(user.id, "$argon2id$new")
            .await
            .unwrap()
    );
    assert!(
        metadata
            .record_user_login(user.id, seconds(1000.5))
            .await
            .unwrap()
    );
    let found = metadata.user(user.id).await.unwrap().unwrap();
    assert_eq!(found.password_hash.as_deref(), Some("$argon2id$new"));
    assert_eq!(found.last_login, Some(seconds(1000.5)));
    let missing = UserId(i64::MAX);
    assert!(!metadata.set_user_password(missing, "x").await.unwrap());
    assert!(
        !metadata
            .record_user_login(missing, seconds(1.0))
            .await
            .unwrap()
    );
}

pub async fn members_have_roles(stores: &Stores) {
    let metadata = &stores.metadata;
    let (org_id, _) = project(stores).await;
    let (other_org_id, _) = project(stores).await;
    let owner = new_user(stores, "owner").await;
    let member = new_user(stores, "member").await;
    let join = async |org_id, user_id, role| {
        let metadata = &stores.metadata;
        metadata
            .add_org_member(org_id, user_id, role)
            .await
            .unwrap();
        metadata.org_member(org_id, user_id).await.unwrap().unwrap()
    };
    join(org_id, owner.id, OrgRole::Owner).await;
    join(other_org_id, member.id, OrgRole::Member).await;
    let before = join(org_id, member.id, OrgRole::Manager).await;
    assert_eq!(before.role, OrgRole::Manager);
    assert_eq!(before.user, member);
    let after = join(org_id, member.id, OrgRole::Member).await;
    assert_eq!(after.role, OrgRole::Member, "adding again changes the role");
    assert_eq!(
        after.date_added, before.date_added,
        "and keeps the join date"
    );

    let members = metadata.org_members(org_id).await.unwrap();
    let roles: Vec<_> = members.iter().map(|m| (m.user.id, m.role)).collect();
    assert_eq!(
        roles,
        [(member.id, OrgRole::Member), (owner.id, OrgRole::Owner)],
        "by email"
    );
    let orgs = metadata.user_orgs(member.id).await.unwrap();
    assert_eq!(orgs.len(), 2);
    assert!(
        orgs.windows(2)
            .all(|pair| pair[0].organization.slug < pair[1].organization.slug)
    );
    assert!(
        orgs.iter()
            .any(|m| m.organization.id == other_org_id && m.role == OrgRole::Member)
    );

    assert!(metadata.remove_org_member(org_id, member.id).await.unwrap());
    assert!(!metadata.remove_org_member(org_id, member.id).await.unwrap());
    assert_eq!(metadata.org_member(org_id, member.id).await.unwrap(), None);
    assert_eq!(metadata.user_orgs(member.id).await.unwrap().len(), 1);

    let nobody = metadata
        .add_org_member(org_id, UserId(i64::MAX), OrgRole::Member)
        .await
        .unwrap_err();
    assert_eq!(
        nobody.kind(),
        StoreErrorKind::Conflict,
        "a member must exist"
    );
}

pub async fn sessions_open_expire_and_close(stores: &Stores) {
    let metadata = &stores.metadata;
    let user = new_user(stores, "session").await;
    // At the stores' precision, microseconds.
    let now = Timestamp::from_unix_micros(Timestamp::now().as_unix_micros()).unwrap();
    let later = shifted(now, HOUR);
    let earlier = shifted(now, -HOUR);
    let open = WebSession {
        token_hash: unique("open"),
        user_id: user.id,
        date_created: now,
        expires: later,
    };
    let expired = WebSession {
        token_hash: unique("expired"),
        user_id: user.id,
        date_created: shifted(earlier, -HOUR),
        expires: earlier,
    };
    metadata.create_session(&open).await.unwrap();
    metadata.create_session(&expired).await.unwrap();
    let taken = metadata.create_session(&open).await.unwrap_err();
    assert_eq!(taken.kind(), StoreErrorKind::Conflict);
    assert_eq!(
        metadata.session(&open.token_hash, now).await.unwrap(),
        Some(open.clone())
    );
    assert_eq!(
        metadata.session(&expired.token_hash, now).await.unwrap(),
        None,
        "an expired session is not found"
    );
    assert_eq!(
        metadata.session(&open.token_hash, later).await.unwrap(),
        None,
        "a session expires at its expiry time"
    );
    assert!(metadata.delete_expired_sessions(now).await.unwrap() >= 1);
    assert!(
        !metadata.delete_session(&expired.token_hash).await.unwrap(),
        "the expired session was deleted"
    );
    assert!(
        metadata
            .session(&open.token_hash, now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(metadata.delete_session(&open.token_hash).await.unwrap());
    assert_eq!(metadata.session(&open.token_hash, now).await.unwrap(), None);

    let orphan = WebSession {
        token_hash: unique("orphan"),
        user_id: UserId(i64::MAX),
        ..open
    };
    let error = metadata.create_session(&orphan).await.unwrap_err();
    assert_eq!(
        error.kind(),
        StoreErrorKind::Conflict,
        "a session needs its user"
    );
}
