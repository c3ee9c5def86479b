//! Against the real thing: tokens minted by the `better-auth` npm package itself (its `jwt()`
//! plugin, memory adapter), with its JWKS served on loopback by `interop/better-auth-peer.mjs`,
//! accepted through `EXTERNAL_JWKS_URL`. The attacks come first: expired, wrong-issuer,
//! wrong-audience, forged and `alg`-switched tokens. Needs `npm ci` in `interop/` (`.ci/run`
//! does it).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// The `EXTERNAL_JWT_SECRET` of the first test: not the Better Auth peer's secret.
const OTHER_FRONTEND_SECRET: &str = "the-secret-of-another-seed-frontend-0123456789";

/// A running Better Auth server and what it printed: its issuer, JWKS URL, user and tokens.
struct BetterAuthPeer {
    process: Child,
    out: Value,
}

impl Drop for BetterAuthPeer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl BetterAuthPeer {
    fn start(algorithm: &str) -> Self {
        let interop = interop_dir();
        let mut process = Command::new("node")
            .arg("better-auth-peer.mjs")
            .arg(algorithm)
            .current_dir(&interop)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node (Node 20+ must be installed)");
        let mut line = String::new();
        BufReader::new(process.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let out = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("the Better Auth peer did not start: {line:?}"));
        Self { process, out }
    }

    fn get(&self, key: &str) -> String {
        self.out[key].as_str().unwrap().to_owned()
    }

    /// The settings of a deployment that trusts this frontend.
    fn settings(&self) -> [(&'static str, String); 3] {
        [
            ("EXTERNAL_JWKS_URL", self.get("jwks_url")),
            ("EXTERNAL_JWT_ISSUER", self.get("issuer")),
            ("EXTERNAL_JWT_AUDIENCE", self.get("issuer")),
        ]
    }

    async fn jwks_requests(&self) -> u64 {
        let count: Value = client()
            .get(format!("{}/test/jwks-requests", self.get("issuer")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        count["count"].as_u64().unwrap()
    }
}

async fn spawn_app_trusting(peer: &BetterAuthPeer) -> TestApp {
    let settings = peer.settings();
    let overrides: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    spawn_app_with(&overrides).await
}

/// A JWT's three segments, the first two decoded.
fn parts(token: &str) -> (Value, Value, String) {
    use base64::Engine as _;
    let decode = |segment: &str| -> Value {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(segment)
                .unwrap(),
        )
        .unwrap()
    };
    let mut segments = token.split('.');
    let header = decode(segments.next().unwrap());
    let claims = decode(segments.next().unwrap());
    (header, claims, segments.next().unwrap().to_owned())
}

async fn status_of(app: &TestApp, path: &str, token: &str) -> StatusCode {
    app.authed(Method::GET, path, token)
        .send()
        .await
        .unwrap()
        .status()
}

#[actix_web::test]
async fn better_auths_jwt_plugin_tokens_open_the_seed_routes_and_forgeries_do_not() {
    use base64::Engine as _;
    use jsonwebtoken::Algorithm::HS256;
    let peer = BetterAuthPeer::start("EdDSA");
    // Both sources at once, so that the HS256 path is live and the alg-switched tokens below
    // are refused by the pinning, not by a missing source.
    let settings = peer.settings();
    let mut overrides: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    overrides.push(("EXTERNAL_JWT_SECRET", OTHER_FRONTEND_SECRET));
    let app = spawn_app_with(&overrides).await;
    let user_id = peer.get("user_id");
    let path = format!("/api/{user_id}/tasks");
    let token = peer.get("token");
    let (header, claims, signature) = parts(&token);
    assert_eq!(header["alg"], "EdDSA", "Better Auth's default");
    assert_eq!(claims["sub"], user_id.as_str());

    let public_key = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(peer.get("public_key_x"))
        .unwrap();
    let public_key_text = String::from_utf8_lossy(&public_key).into_owned();
    let as_hs256 = json!({"alg": "HS256", "kid": header["kid"]});
    let mut other_subject = claims.clone();
    other_subject["sub"] = json!("someone-else");
    let attacks = [
        ("expired", peer.get("expired_token")),
        ("wrong audience", peer.get("wrong_audience_token")),
        ("wrong issuer", peer.get("wrong_issuer_token")),
        (
            "claims changed under the real signature",
            format!("{}.{}.{signature}", b64(&header), b64(&other_subject)),
        ),
        (
            "alg switched to HS256, signature kept",
            format!("{}.{}.{signature}", b64(&as_hs256), b64(&claims)),
        ),
        (
            "HS256 keyed with the public key's bytes",
            hmac_token(&as_hs256, &claims, &public_key_text, HS256),
        ),
        (
            "HS256 keyed with the public key's text",
            hmac_token(&as_hs256, &claims, &peer.get("public_key_x"), HS256),
        ),
        (
            "HS256 with the frontend's BETTER_AUTH_SECRET, which is not configured here",
            hmac_token(
                &json!({"alg": "HS256"}),
                &claims,
                "better-auth-secret-of-the-test-frontend-0123456789",
                HS256,
            ),
        ),
        (
            "alg none",
            format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&claims)),
        ),
    ];
    for (attack, forged) in attacks {
        let response = app
            .authed(Method::GET, &path, &forged)
            .send()
            .await
            .unwrap();
        let body = assert_error(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
        assert_eq!(body["detail"], body["error"]["message"], "{attack}");
    }

    // The control for the HS256 source: the configured secret does open it.
    let shared = hmac_token(
        &json!({"alg": "HS256"}),
        &claims,
        OTHER_FRONTEND_SECRET,
        HS256,
    );
    assert_eq!(status_of(&app, &path, &shared).await, StatusCode::OK);

    // The real token, as a Better Auth frontend hands it to its backend.
    let created = app
        .authed(Method::POST, &path, &token)
        .json(&json!({"title": "from Better Auth", "due_date": "2026-12-24"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["user_id"], user_id.as_str());
    let listed: Value = app
        .authed(Method::GET, &path, &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([created]));
    // Another user's id in the path is refused; a local account is not reachable with it.
    let local = app.new_user().await;
    assert_eq!(
        status_of(&app, &format!("/api/{}/tasks", local.id), &token).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status_of(&app, "/api/auth/me", &token).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        titles(&app.list_tasks(&local, "").await),
        Vec::<String>::new()
    );
}

#[actix_web::test]
async fn es256_and_rs256_jwks_keys_are_accepted_too() {
    for algorithm in ["ES256", "RS256"] {
        let peer = BetterAuthPeer::start(algorithm);
        let app = spawn_app_trusting(&peer).await;
        let token = peer.get("token");
        assert_eq!(parts(&token).0["alg"], algorithm);
        let path = format!("/api/{}/tasks", peer.get("user_id"));
        assert_eq!(
            status_of(&app, &path, &token).await,
            StatusCode::OK,
            "{algorithm}"
        );
        assert_eq!(
            status_of(&app, &path, &peer.get("expired_token")).await,
            StatusCode::UNAUTHORIZED,
            "{algorithm}"
        );
    }
}

/// Unknown `kid`s refetch the JWKS at most once a minute, and a JWKS that cannot be reached
/// never makes our own tokens fail (nor the external keys already cached).
#[actix_web::test]
async fn unknown_kids_refetch_at_most_once_a_minute_and_an_outage_spares_our_own_tokens() {
    let peer = BetterAuthPeer::start("EdDSA");
    let app = spawn_app_trusting(&peer).await;
    assert_eq!(peer.jwks_requests().await, 1, "fetched once at start-up");
    let local = app.new_user().await;
    let token = peer.get("token");
    let path = format!("/api/{}/tasks", peer.get("user_id"));
    assert_eq!(status_of(&app, &path, &token).await, StatusCode::OK);

    let (header, claims, signature) = parts(&token);
    for i in 0..20 {
        let mut unknown = header.clone();
        unknown["kid"] = json!(format!("made-up-{i}"));
        let forged = format!("{}.{}.{signature}", b64(&unknown), b64(&claims));
        assert_eq!(
            status_of(&app, &path, &forged).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        peer.jwks_requests().await,
        1,
        "no refetch within a minute of the last fetch"
    );

    // The frontend goes away.
    drop(peer);
    assert_eq!(
        status_of(&app, "/api/tasks", &local.access_token).await,
        StatusCode::OK
    );
    assert_eq!(app.me(&local.access_token).await.status(), StatusCode::OK);
    assert_eq!(
        status_of(&app, &path, &token).await,
        StatusCode::OK,
        "cached key"
    );

    // A frontend that is down from the start: the server starts and serves its own users.
    let orphan = spawn_app_with(&[("EXTERNAL_JWKS_URL", "http://127.0.0.1:9/api/auth/jwks")]).await;
    let user = orphan.new_user().await;
    assert_eq!(
        status_of(&orphan, "/api/tasks", &user.access_token).await,
        StatusCode::OK
    );
    assert_eq!(
        status_of(&orphan, &path, &token).await,
        StatusCode::UNAUTHORIZED
    );
}
