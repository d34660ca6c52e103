//! Unit tests of `db.rs`, kept apart so the code reads on its own.
use super::*;

fn db_with_user() -> (Db, String) {
    let mut db = Db::new();
    let user = db
        .insert("sys_user", &[("user_name", "pat"), ("name", "Pat")])
        .unwrap();
    (db, user)
}

#[test]
fn insert_fills_defaults_and_system_fields() {
    let (db, user) = db_with_user();
    let row = db.get("sys_user", &user).unwrap();
    assert_eq!(row["active"], "true");
    assert_eq!(row["locked_out"], "false");
    assert_eq!(row["failed_attempts"], "", "empty until a login fails");
    assert_eq!(row["sys_id"].len(), 32);
    assert!(row["sys_id"].chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(row["sys_created_on"].len(), 19);
    assert_eq!(row["identity_type"], "");
}

#[test]
fn unknown_table_is_refused_and_unknown_columns_ignored() {
    let mut db = Db::new();
    assert_eq!(
        db.insert("nope", &[]),
        Err(DbError::InvalidTable("nope".into()))
    );
    let id = db
        .insert("sys_user", &[("user_name", "x"), ("bogus", "1")])
        .unwrap();
    assert!(!db.get("sys_user", &id).unwrap().contains_key("bogus"));
}

#[test]
fn passwords_verify_only_against_their_hash() {
    let hashed = hash_password("s3cret");
    assert!(verify_password(&hashed, "s3cret"));
    assert!(!verify_password(&hashed, "S3cret"));
    assert!(!hashed.contains("s3cret"));
    // A raw value stored as given never works for a login, not even with itself.
    assert!(!verify_password("s3cret", "s3cret"));
}

#[test]
fn client_secrets_are_stored_encrypted_and_decrypt_back() {
    let mut db = Db::new();
    let id = db
        .insert(
            "oauth_entity",
            &[("name", "x"), ("client_secret", "plain-secret")],
        )
        .unwrap();
    let row = db.get("oauth_entity", &id).unwrap().clone();
    assert!(!row["client_secret"].contains("plain-secret"));
    assert_eq!(
        db.decrypt_field(&row, "client_secret").as_deref(),
        Some("plain-secret")
    );
    assert_eq!(row["client_id"].len(), 32);
    assert_eq!(row["type"], "client");
    assert_eq!(row["access_token_lifespan"], "1800");
    // A generated secret is encrypted too.
    let id2 = db.insert("oauth_entity", &[("name", "y")]).unwrap();
    let row2 = db.get("oauth_entity", &id2).unwrap().clone();
    assert!(row2["client_secret"].starts_with("enc1:"));
    assert!(db.decrypt_field(&row2, "client_secret").is_some());
}

#[test]
fn group_roles_are_materialised_whichever_row_comes_first() {
    let (mut db, user) = db_with_user();
    let role_a = db.insert("sys_user_role", &[("name", "a")]).unwrap();
    let role_b = db.insert("sys_user_role", &[("name", "b")]).unwrap();
    let group = db.insert("sys_user_group", &[("name", "g")]).unwrap();
    db.insert(
        "sys_group_has_role",
        &[("group", &group), ("role", &role_a)],
    )
    .unwrap();
    db.insert("sys_user_grmember", &[("user", &user), ("group", &group)])
        .unwrap();
    db.insert(
        "sys_group_has_role",
        &[("group", &group), ("role", &role_b)],
    )
    .unwrap();
    let names: Vec<_> = db.roles_of(&user).into_iter().collect();
    assert_eq!(names, ["a", "b"]);
    let inherited = db.find(
        "sys_user_has_role",
        &format!("user={user}^inherited=true^granted_by={group}"),
    );
    assert_eq!(inherited.len(), 2);
}

#[test]
fn role_grant_with_unknown_role_is_aborted() {
    let (mut db, user) = db_with_user();
    let err = db
        .insert("sys_user_has_role", &[("user", &user), ("role", "nope")])
        .unwrap_err();
    assert!(matches!(err, DbError::BusinessRule { .. }), "{err:?}");
    assert!(db.rows("sys_user_has_role").is_empty());
}

#[test]
fn store_apps_also_appear_in_sys_scope() {
    let mut db = Db::new();
    let id = db
        .insert("sys_store_app", &[("scope", "x_a"), ("name", "A")])
        .unwrap();
    let scope = db.find_one("sys_scope", "scope=x_a").unwrap();
    assert_eq!(scope["sys_id"], id);
    assert_eq!(scope["sys_class_name"], "sys_store_app");
}

#[test]
fn lockout_happens_at_the_threshold() {
    let (mut db, user) = db_with_user();
    db.lockout_threshold = 3;
    db.record_failed_login(&user);
    db.record_failed_login(&user);
    assert_eq!(db.get("sys_user", &user).unwrap()["locked_out"], "false");
    db.record_failed_login(&user);
    let row = db.get("sys_user", &user).unwrap();
    assert_eq!(row["locked_out"], "true");
    assert_eq!(row["failed_attempts"], "3");
}

#[test]
fn dot_walked_values_follow_references() {
    let (mut db, user) = db_with_user();
    let role = db.insert("sys_user_role", &[("name", "itil")]).unwrap();
    db.insert("sys_user_has_role", &[("user", &user), ("role", &role)])
        .unwrap();
    let rows = db.find("sys_user_has_role", "user.user_name=pat^role.name=itil");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        db.value_at("sys_user_has_role", rows[0], "user.name"),
        "Pat"
    );
    assert!(db.resolve_path("sys_user_has_role", "role.nope").is_none());
    assert!(db
        .resolve_path("sys_user_has_role", "inherited.x")
        .is_none());
}

#[test]
fn removed_fields_disappear_from_schema_and_rows() {
    let (mut db, user) = db_with_user();
    db.remove_field("sys_user", "identity_type");
    assert!(db.resolve_path("sys_user", "identity_type").is_none());
    assert!(!db
        .get("sys_user", &user)
        .unwrap()
        .contains_key("identity_type"));
    // A query on the missing column is dropped, so it matches every user.
    assert_eq!(db.find("sys_user", "identity_type=machine").len(), 1);
}

#[test]
fn timestamps_format_as_utc_date_times() {
    assert_eq!(format_timestamp(0), "1970-01-01 00:00:00");
    assert_eq!(format_timestamp(951_782_400), "2000-02-29 00:00:00");
    assert_eq!(format_timestamp(1_700_000_000), "2023-11-14 22:13:20");
}
