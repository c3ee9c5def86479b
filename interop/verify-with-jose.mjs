// An independent verifier of todo-server's access tokens (tests/api/signing_keys.rs): `jose`,
// given only the JWKS URL, checks a token the way another service would, with the algorithm
// pinned to EdDSA, and issuer and audience required. Prints the claims and exits 0, or prints
// jose's error and exits 1.
//
// Usage: node verify-with-jose.mjs <jwks_url> <token> <issuer> <audience>
import { createRemoteJWKSet, jwtVerify } from "jose";

const [jwksUrl, token, issuer, audience] = process.argv.slice(2);
try {
  const jwks = createRemoteJWKSet(new URL(jwksUrl));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    algorithms: ["EdDSA"],
    issuer,
    audience,
    requiredClaims: ["exp", "sub"],
  });
  console.log(JSON.stringify({ header: protectedHeader, claims: payload }));
} catch (error) {
  console.log(JSON.stringify({ error: error.code ?? String(error) }));
  process.exit(1);
}
