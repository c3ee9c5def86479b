//! Statements Diesel would compile anew on every execution, prepared once per connection.
//!
//! Diesel keeps no `UPDATE` and no raw SQL in its prepared-statement cache: a changeset with
//! optional fields can write a different SQL text each time, and raw SQL may be built at run
//! time, and the cache is meant to stay bounded. So PostgreSQL parsed, analysed and planned
//! every toggle, refresh claim and session touch on every request (for the task insert that
//! was more server time than executing it), and SQLite compiled them again.
//!
//! Wrapped in [`prepared`], a statement is cached under its SQL text: its SQL is still written
//! on each execution (cheap, in this process), but the database compiles it once per
//! connection. Only for statements with a bounded number of SQL texts: fixed columns, or a
//! changeset of a few optional fields (at most one text per combination).
//!
//! Load such a statement (`get_result`, `load`), never `execute` it: `execute` hands Diesel the
//! statement by reference, and a reference answers the cache's question from the statement
//! inside (Diesel's `&T` forwards only `walk_ast`), so it would be compiled every time again.
//! A prepared `UPDATE` therefore says what it changed through `RETURNING`; for one that
//! changes at most one row, [`Prepared::changed_a_row`] answers what `execute(..) == 1` did.
//! `plans::every_hot_statement_is_prepared_once_per_connection` holds every hot statement to
//! this.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::LoadQuery;
use diesel::{OptionalExtension, QueryResult, RunQueryDsl};

/// A statement that Diesel may keep in its statement cache, keyed by its SQL text.
#[derive(Debug)]
pub struct Prepared<Q>(Q);

/// Marks `statement` as one to prepare once per connection (see the module comment).
pub fn prepared<Q>(statement: Q) -> Prepared<Q> {
    Prepared(statement)
}

impl<Q> Prepared<Q> {
    /// Runs an `UPDATE` that can change at most one row (it filters by primary key) and
    /// returns that row's key (`RETURNING key`): whether it changed the row.
    pub fn changed_a_row<'query, Conn>(self, connection: &mut Conn) -> QueryResult<bool>
    where
        Self: LoadQuery<'query, Conn, String>,
    {
        Ok(self.get_result::<String>(connection).optional()?.is_some())
    }
}

impl<Q, DB> QueryFragment<DB> for Prepared<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    /// The statement cache asks this of the statement as a whole; Diesel's own `UPDATE` and
    /// `sql_query` answer no. The cache key is then the SQL text (the type carries no static
    /// query id), so two texts are two entries and a wrong answer cannot mix them up.
    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// So `get_result` and `load` read what a `RETURNING` clause returns.
impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Prepared<Q> {}
