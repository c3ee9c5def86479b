//! The bearer guard: which access tokens open the protected routes, and how refusals look
//! (RFC 6750). The one table of hostile access tokens lives here.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

const INVALID_TOKEN_CHALLENGE: &str = r#"Bearer error="invalid_token""#;

async fn assert_token_accepted(app: &TestApp, token: &str) {
    let response = app
        .authed(Method::GET, "/api/tasks", token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// Sends `authorization` (or no `Authorization` header) to every protected route and asserts
/// each answers 401 with `challenge` and the JSON error `code`.
async fn assert_refused_everywhere(
    app: &TestApp,
    user_id: &str,
    authorization: Option<&str>,
    challenge: &str,
    code: &str,
    what: &str,
) {
    for (method, path) in protected_routes(user_id) {
        let mut request = app
            .request(method.clone(), &path)
            .json(&json!({"title": "x"}));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{what}: {method} {path}"
        );
        assert_eq!(
            response.headers()["www-authenticate"],
            challenge,
            "{what}: {method} {path}"
        );
        assert_error(response, StatusCode::UNAUTHORIZED, code).await;
    }
}

#[actix_web::test]
async fn no_credentials_get_a_bare_bearer_challenge() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    assert_refused_everywhere(&app, &user.id, None, "Bearer", "missing_token", "no header").await;
    assert_refused_everywhere(
        &app,
        &user.id,
        Some("Basic dXNlcjpwYXNz"),
        "Bearer",
        "missing_token",
        "basic credentials",
    )
    .await;
    // "Bearer " with nothing after it presents no token at all.
    assert_refused_everywhere(
        &app,
        &user.id,
        Some("Bearer "),
        "Bearer",
        "missing_token",
        "empty bearer",
    )
    .await;
}

/// Every forged, altered, expired or malformed access token, on every protected route: each is
/// a 401 `invalid_token` with the `invalid_token` challenge.
#[actix_web::test]
async fn hostile_access_tokens_are_refused_on_every_protected_route() {
    use jsonwebtoken::Algorithm::{HS256, HS384, HS512};
    let app = spawn_app().await;
    let user = app.new_user().await;
    let claims = claims_for(&user, 600);
    let attacker_secret = "attacker-secret-attacker-secret-attacker";

    // Sanity: the forging helper makes tokens the server accepts when nothing is wrong.
    let honest = hmac_token(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims,
        TEST_SECRET,
        HS256,
    );
    assert_token_accepted(&app, &honest).await;
    // A `kid` on an otherwise valid token is simply ignored.
    let with_kid = hmac_token(
        &json!({"alg": "HS256", "kid": "whatever"}),
        &claims,
        TEST_SECRET,
        HS256,
    );
    assert_token_accepted(&app, &with_kid).await;

    let mut cases: Vec<(String, String)> = vec![
        (
            "alg none".into(),
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                b64(&claims)
            ),
        ),
        (
            "alg None".into(),
            format!("{}.{}.", b64(&json!({"alg": "None"})), b64(&claims)),
        ),
        (
            "HS384 with the secret".into(),
            hmac_token(&json!({"alg": "HS384"}), &claims, TEST_SECRET, HS384),
        ),
        (
            "HS512 with the secret".into(),
            hmac_token(&json!({"alg": "HS512"}), &claims, TEST_SECRET, HS512),
        ),
        // Algorithm confusion: an RS256/ES256 header over an HMAC made with the shared secret.
        (
            "RS256 header, HMAC signature".into(),
            hmac_token(&json!({"alg": "RS256"}), &claims, TEST_SECRET, HS256),
        ),
        (
            "ES256 header, HMAC signature".into(),
            hmac_token(&json!({"alg": "ES256"}), &claims, TEST_SECRET, HS256),
        ),
        (
            "signature stripped".into(),
            honest.rsplit_once('.').unwrap().0.to_owned() + ".",
        ),
        (
            "no signature segment".into(),
            honest.rsplit_once('.').unwrap().0.to_owned(),
        ),
        (
            "another secret, forged header".into(),
            hmac_token(&json!({"alg": "HS256"}), &claims, attacker_secret, HS256),
        ),
        (
            "another secret, standard header".into(),
            mint_token(&claims, "some-other-secret-some-other-secret-!!"),
        ),
        ("segments not base64url".into(), "e30!.e30!.sig!".into()),
        (
            "segments not JSON".into(),
            format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode("not json"),
                URL_SAFE_NO_PAD.encode("{"),
                "c2ln"
            ),
        ),
        ("three segments, none a JWT".into(), "not.a.jwt".into()),
        ("one segment".into(), "garbage".into()),
        ("a 100 KB token".into(), "a".repeat(100 * 1024)),
    ];
    // Payload edited after signing: on a forged token, and on one the server issued itself.
    let mut edited = claims.clone();
    edited["sub"] = json!("0190f1a2-0000-7000-8000-0000000000aa");
    let parts: Vec<&str> = honest.split('.').collect();
    cases.push((
        "payload edited".into(),
        format!("{}.{}.{}", parts[0], b64(&edited), parts[2]),
    ));
    let mut someone_else = claims_for(&user, 600);
    someone_else["sub"] = json!("0190f1a2-0000-7000-8000-0000000000ff");
    let forged = mint_token(&someone_else, TEST_SECRET);
    let mut issued: Vec<String> = user.access_token.split('.').map(str::to_owned).collect();
    issued[1] = forged.split('.').nth(1).unwrap().to_owned();
    cases.push(("issued token, payload swapped".into(), issued.join(".")));
    // Claims the server must check.
    let now = chrono::Utc::now().timestamp();
    for (what, change) in [
        // Past the 30 s leeway.
        ("exp in the past", json!({"exp": now - 120})),
        ("nbf in the future", json!({"nbf": now + 600})),
        ("wrong iss", json!({"iss": "https://evil.example"})),
        ("another iss", json!({"iss": "someone-else"})),
        ("wrong aud", json!({"aud": "another-service"})),
        ("another aud", json!({"aud": "someone-else"})),
        ("sub not a user id", json!({"sub": "admin"})),
    ] {
        let mut altered = claims.clone();
        for (key, value) in change.as_object().unwrap() {
            altered[key] = value.clone();
        }
        cases.push((what.into(), mint_token(&altered, TEST_SECRET)));
    }
    for missing in ["exp", "iss", "aud", "sub"] {
        let mut altered = claims.clone();
        altered.as_object_mut().unwrap().remove(missing);
        cases.push((
            format!("{missing} missing"),
            mint_token(&altered, TEST_SECRET),
        ));
    }
    // Key-locating headers that point elsewhere, over an attacker's signature: never fetched,
    // never trusted.
    for header in [
        json!({"alg": "HS256", "kid": "../../../../dev/null"}),
        json!({"alg": "HS256", "jku": "http://127.0.0.1:9/jwks.json"}),
        json!({"alg": "HS256", "x5u": "http://127.0.0.1:9/cert.pem"}),
    ] {
        cases.push((
            format!("{header}"),
            hmac_token(&header, &claims, attacker_secret, HS256),
        ));
    }

    for (what, token) in cases {
        assert_refused_everywhere(
            &app,
            &user.id,
            Some(&format!("Bearer {token}")),
            INVALID_TOKEN_CHALLENGE,
            "invalid_token",
            &what,
        )
        .await;
    }
}

#[actix_web::test]
async fn a_token_minted_with_the_shared_secret_is_accepted_without_a_database_lookup() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    // What a Better Auth deployment sharing BETTER_AUTH_SECRET would sign.
    let token = mint_token(&claims_for(&user, 600), TEST_SECRET);
    assert_token_accepted(&app, &token).await;
}

#[actix_web::test]
async fn access_token_lifetime_follows_the_configuration() {
    let app = spawn_app_with(&[("ACCESS_TOKEN_TTL_SECONDS", "60")]).await;
    let user = app.new_user().await;
    let payload = user.access_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        60
    );
    for claim in ["sub", "email", "sid", "jti", "iss", "aud"] {
        assert!(claims[claim].is_string(), "{claim} missing from {claims}");
    }
}

#[actix_web::test]
async fn a_token_whose_user_was_deleted_is_refused_and_writes_nothing() {
    use diesel::prelude::*;

    use crate::helpers::schema::{tasks, users};
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut connection = app.connection();
    diesel::delete(users::table.filter(users::id.eq(&user.id)))
        .execute(&mut connection)
        .unwrap();
    assert_error(
        app.me(&user.access_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    let create = app
        .send(
            &user,
            Method::POST,
            "/api/tasks",
            Some(json!({"title": "orphan"})),
        )
        .await;
    assert_error(create, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let count: i64 = tasks::table.count().get_result(&mut connection).unwrap();
    assert_eq!(count, 0);
}
