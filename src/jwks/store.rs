//! Signing keys in the database: SQL only.

use diesel::prelude::*;

use crate::db::schema::signing_keys;
use crate::db::{AnyConnection, DbResult, StoredTime};
use crate::tokens::SigningKey;

#[derive(Queryable, Selectable)]
#[diesel(table_name = signing_keys)]
struct StoredKey {
    kid: String,
    private_seed: String,
    public_x: String,
    #[diesel(deserialize_as = StoredTime)]
    created_at: chrono::NaiveDateTime,
    #[diesel(deserialize_as = StoredTime)]
    active_from: chrono::NaiveDateTime,
}

/// Every key, oldest first. (The table holds a handful: one per rotation.)
pub fn all(connection: &mut AnyConnection) -> DbResult<Vec<SigningKey>> {
    let keys = signing_keys::table
        .select(StoredKey::as_select())
        .order((signing_keys::active_from.asc(), signing_keys::kid.asc()))
        .load(connection)?;
    Ok(keys
        .into_iter()
        .map(|key| SigningKey {
            kid: key.kid,
            private_seed: key.private_seed,
            public_x: key.public_x,
            created_at: key.created_at,
            active_from: key.active_from,
        })
        .collect())
}

pub fn insert(connection: &mut AnyConnection, key: &SigningKey) -> DbResult<()> {
    diesel::insert_into(signing_keys::table)
        .values((
            signing_keys::kid.eq(&key.kid),
            signing_keys::private_seed.eq(&key.private_seed),
            signing_keys::public_x.eq(&key.public_x),
            signing_keys::created_at.eq(key.created_at),
            signing_keys::active_from.eq(key.active_from),
        ))
        .execute(connection)?;
    Ok(())
}
