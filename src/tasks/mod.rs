//! Each user's private task list.
//!
//! - [`input`]: what clients send, parsed into valid values.
//! - [`list`]: what a list request asks for, and the cursor's wire format.
//! - [`store`]: the queries, every one filtered by the owner in SQL.
//! - [`view`]: a task as clients see it, and its JSON.
//! - [`routes`]: the handlers of the canonical routes, `/api/tasks…`.
//! - [`seed_dialect`]: `/api/{user_id}/tasks…` in the shapes of the design this service grew
//!   out of, over the same store.

pub mod input;
pub mod list;
pub mod routes;
pub mod seed_dialect;
pub mod store;
pub mod view;

use actix_web::web;

use crate::tokens::bearer_guard;

/// Mounts the task routes inside the `/api` scope: the canonical `/tasks`, and, for clients
/// built on the original design, `/{user_id}/tasks` in that design's dialect. Both sit behind
/// the same guard and call the same store.
pub fn configure(config: &mut web::ServiceConfig) {
    config.service(
        web::scope("/tasks")
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
                web::resource("/{task_id}/complete").route(web::patch().to(routes::toggle_task)),
            ),
    );
    config.configure(seed_dialect::configure);
}
