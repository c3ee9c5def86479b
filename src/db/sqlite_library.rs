//! Process-wide settings of the bundled SQLite library, applied once before the first
//! connection opens. Both come from profiles of the task list under load:
//!
//! - Every list request re-parsed its SQL. The bundled SQLite is built with `STAT4`, and once
//!   `PRAGMA optimize` has gathered samples, a statement whose parameter is compared with an
//!   indexed column (`user_id = ?`) is recompiled whenever that parameter changes, in case the
//!   value calls for another plan. Our statements have one good plan whatever the values, so
//!   each connection turns on the query planner stability guarantee (QPSG): one plan per
//!   statement, prepared once and kept in Diesel's statement cache.
//! - SQLite's default "serialized" mode locks a mutex around every call on a connection, and
//!   its memory statistics lock a global mutex around every allocation, which two worker
//!   threads contended for. Connections here are never shared between threads at once (the
//!   pool hands each to one thread; readers are thread-local), so the "multi-thread" mode is
//!   safe, and nothing reads the memory statistics.

use std::ffi::{c_char, c_int};
use std::sync::Once;

use libsqlite3_sys as ffi;

/// Configures the library; later calls do nothing. Must run before any SQLite connection is
/// opened in this process (`ConnectionManager::connect` calls it first thing).
pub fn configure() {
    static CONFIGURED: Once = Once::new();
    CONFIGURED.call_once(|| {
        // SAFETY: `sqlite3_config` is only allowed before the library initialises, which is
        // the first connection; a call too late returns SQLITE_MISUSE and changes nothing.
        // Registering an auto-extension is safe at any time; it runs for each new connection.
        let (threading, memory_statistics, per_connection) = unsafe {
            (
                ffi::sqlite3_config(ffi::SQLITE_CONFIG_MULTITHREAD),
                ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int),
                ffi::sqlite3_auto_extension(Some(on_open)),
            )
        };
        for (what, code) in [
            ("multi-thread mode", threading),
            ("memory statistics off", memory_statistics),
            ("per-connection settings", per_connection),
        ] {
            if code != ffi::SQLITE_OK {
                tracing::warn!(code, "SQLite library setting not applied: {what}");
            }
        }
    });
}

/// Runs inside `sqlite3_open_v2` for every new connection.
unsafe extern "C" fn on_open(
    db: *mut ffi::sqlite3,
    _error_message: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: `db` is the connection being opened, valid for this call; the option takes an
    // int and a nullable pointer for the previous value.
    unsafe {
        ffi::sqlite3_db_config(
            db,
            ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as c_int,
            std::ptr::null_mut::<c_int>(),
        )
    }
}
