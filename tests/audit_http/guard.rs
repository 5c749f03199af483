//! Both handlers behind `Requires::new(["admin"])`, as the demo app mounts them.

use std::sync::Arc;

use actix_web::{test as atest, web, App};
use warden::{
    audit_http::{audit_stream, metrics},
    auth::{AuthMiddleware, Requires, User},
};

use crate::{
    common::{events, MemoryUsers},
    Env,
};

#[actix_web::test]
async fn only_admins_get_the_stream_and_the_metrics() {
    let env = Env::new().await;
    let w = &env.warden;
    let users = Arc::new(MemoryUsers::new());
    users.insert(User::new("alice_id", "alice", "unused").with_permissions(["user"]));
    users.insert(User::new("admin_id", "admin", "unused").with_permissions(["user", "admin"]));
    let app = atest::init_service(
        App::new()
            .app_data(w.data())
            .wrap(AuthMiddleware::new(w, users.clone()))
            .wrap(w.session_middleware())
            .wrap(w.request_context())
            .service(
                web::resource("/audit/stream")
                    .wrap(Requires::new(["admin"]))
                    .route(web::get().to(audit_stream)),
            )
            .service(
                web::resource("/metrics")
                    .wrap(Requires::new(["admin"]))
                    .route(web::get().to(metrics)),
            ),
    )
    .await;
    let tokens = w.runtime().tokens();
    let (alice, _) = tokens
        .issue_api_token("alice_id", "test".into(), None)
        .await
        .unwrap();
    let (admin, _) = tokens
        .issue_api_token("admin_id", "test".into(), None)
        .await
        .unwrap();
    let get = |uri: &'static str, token: Option<String>| {
        let mut req = atest::TestRequest::get()
            .uri(uri)
            .insert_header(("accept", "application/json"));
        if let Some(t) = token {
            req = req.insert_header(("authorization", format!("Bearer {t}")));
        }
        req.to_request()
    };
    for uri in ["/audit/stream", "/metrics"] {
        let anon = atest::call_service(&app, get(uri, None)).await;
        assert_eq!(anon.status(), 401, "{uri}");
        let user = atest::call_service(&app, get(uri, Some(alice.expose_secret().into()))).await;
        assert_eq!(user.status(), 403, "{uri}");
    }
    let denied = events(w, "authz.permission.denied").await;
    assert_eq!(denied.len(), 2);
    assert!(denied
        .iter()
        .all(|e| e.event.user_id.as_deref() == Some("alice_id")));

    let m = atest::call_service(&app, get("/metrics", Some(admin.expose_secret().into()))).await;
    assert_eq!(m.status(), 200);
    let body = String::from_utf8(atest::read_body(m).await.to_vec()).unwrap();
    assert!(body.contains("warden_audit_events_total{name=\"authz.permission.denied\"} 2"));

    let res = atest::call_service(
        &app,
        get("/audit/stream", Some(admin.expose_secret().into())),
    )
    .await;
    let mut s = crate::sse(res, "admin stream");
    w.audit()
        .emit(warden::actors::SecurityEvent::new("auth.login.success").user_id("admin_id"));
    assert_eq!(s.message().await.event.name, "auth.login.success");
}
