// A real Better Auth server, as a seed frontend runs it, for the interoperability tests
// (tests/api/better_auth.rs). No database: the memory adapter. It listens on a loopback port,
// signs up one user, and prints one JSON line on stdout:
//
//   {"issuer", "jwks_url", "user_id", "token", "expired_token", "wrong_audience_token",
//    "wrong_issuer_token", "public_key_x"}
//
// `token` is what the frontend hands a backend: GET /api/auth/token with the session cookie,
// from the jwt() plugin (EdDSA, Ed25519, JWKS at /api/auth/jwks). The other tokens are signed
// by the same plugin with the same key through auth.api.signJWT, with one claim wrong each.
// It then serves the JWKS until stdin closes (the test process ends) or it is killed, and
// counts JWKS requests at GET /test/jwks-requests so a test can see how often we fetch it.
//
// Usage: node better-auth-peer.mjs [ES256|RS256|EdDSA]
import http from "node:http";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { jwt } from "better-auth/plugins";
import { toNodeHandler } from "better-auth/node";

const alg = process.argv[2] || "EdDSA";
let jwksRequests = 0;
let handler = null;
const server = http.createServer((req, res) => {
  if (req.url === "/test/jwks-requests") {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ count: jwksRequests }));
    return;
  }
  if (req.url === "/api/auth/jwks") jwksRequests += 1;
  handler(req, res);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const baseURL = `http://127.0.0.1:${server.address().port}`;

const auth = betterAuth({
  baseURL,
  secret: "better-auth-secret-of-the-test-frontend-0123456789",
  database: memoryAdapter({ user: [], session: [], account: [], verification: [], jwks: [] }),
  emailAndPassword: { enabled: true },
  plugins: [jwt({ jwks: { keyPairConfig: { alg } } })],
});
handler = toNodeHandler(auth);

async function call(path, init = {}) {
  const response = await fetch(`${baseURL}${path}`, init);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response;
}

const signUp = await call("/api/auth/sign-up/email", {
  method: "POST",
  headers: { "content-type": "application/json", origin: baseURL },
  body: JSON.stringify({ email: "ann@example.org", password: "correct horse battery staple", name: "Ann" }),
});
const cookie = signUp.headers
  .getSetCookie()
  .map((line) => line.split(";")[0])
  .find((pair) => pair.startsWith("better-auth.session_token="));
const user = (await signUp.json()).user;
const { token } = await (await call("/api/auth/token", { headers: { cookie } })).json();
const jwks = await (await call("/api/auth/jwks")).json();

const now = Math.floor(Date.now() / 1000);
const sign = async (changes) =>
  (await auth.api.signJWT({ body: { payload: { sub: user.id, email: user.email, iat: now, exp: now + 900, iss: baseURL, aud: baseURL, ...changes } } })).token;

console.log(
  JSON.stringify({
    issuer: baseURL,
    jwks_url: `${baseURL}/api/auth/jwks`,
    user_id: user.id,
    token,
    expired_token: await sign({ iat: now - 3600, exp: now - 1800 }),
    wrong_audience_token: await sign({ aud: "https://someone-else.example" }),
    wrong_issuer_token: await sign({ iss: "https://evil.example" }),
    public_key_x: jwks.keys[0].x ?? null,
  }),
);
jwksRequests = 0;

// Ends with the test that started it.
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
process.stdin.on("close", () => process.exit(0));
