//! Each user's private task list.
//!
//! - [`input`]: what clients send, parsed into valid values.
//! - [`list`]: what a list request asks for, and the cursor's wire format.
//! - [`store`]: the queries, every one filtered by the owner in SQL.
//! - [`routes`]: the handlers, shared by both route families.

pub mod input;
pub mod list;
pub mod routes;
pub mod store;

use actix_web::web;

use crate::tokens::bearer_guard;

/// Mounts the task routes inside the `/api` scope, twice: `/tasks` and, for clients built on the
/// original design, `/{user_id}/tasks`. Both run the same handlers behind the same guard.
pub fn configure(config: &mut web::ServiceConfig) {
    for prefix in ["/tasks", "/{user_id}/tasks"] {
        config.service(
            web::scope(prefix)
                .wrap(bearer_guard())
                .service(
                    web::resource("")
                        .route(web::get().to(routes::list_tasks))
                        .route(web::post().to(routes::create_task)),
                )
                .service(
                    web::resource("/{task_id}")
                        .route(web::get().to(routes::get_task))
                        .route(web::put().to(routes::replace_task))
                        .route(web::patch().to(routes::patch_task))
                        .route(web::delete().to(routes::delete_task)),
                )
                .service(
                    web::resource("/{task_id}/complete")
                        .route(web::patch().to(routes::toggle_task)),
                ),
        );
    }
}
