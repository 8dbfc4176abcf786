// A real OpenID Connect provider (oidc-provider) on loopback for the single sign-on tests.
//
//   node provider.mjs '{"clientId": "...", "clientSecret": "...", "redirectUris": ["..."]}'
//
// Listens on a free port of 127.0.0.1 and prints `listening http://127.0.0.1:<port>` once it
// does. Signing in is not interactive: the login prompt signs in the account chosen by the
// test (PUT /_test/state) and the consent prompt grants what the client asks for. The same
// control endpoint can make the provider misbehave: `tamper` claims are written over those
// of the ID token it issues (re-signed with its own key, so only the claims are wrong), and
// `foreignKey` signs the ID token with a key that is not in its JWKS.

import http from "node:http";
import {
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
} from "jose";
import Provider from "oidc-provider";

const config = JSON.parse(process.argv[2] ?? "{}");

async function rsaKey(kid) {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" };
}

const signingKey = await rsaKey("test-key");
const foreignKey = await rsaKey("test-key"); // the same kid, a different key: a forgery

// what the test sets: the accounts, who signs in next, how the provider misbehaves, and
// redirect URIs besides the client's own
let state = { accounts: {}, login: null, tamper: null, foreignKey: false, redirectUris: [] };

const server = http.createServer();
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: config.clientId,
      client_secret: config.clientSecret,
      redirect_uris: config.redirectUris,
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: ["a test provider's cookie key"] },
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const account = state.accounts[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
});

// redirect URIs the test adds once it knows where the app listens (PUT /_test/state)
const registered = provider.Client.prototype.redirectUriAllowed;
provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(value) {
  return (state.redirectUris ?? []).includes(value) || registered.call(this, value);
};

// after the token endpoint answers: rewrite its ID token when the test asked for a bad one
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== "/token" || !ctx.body?.id_token) return;
  if (!state.tamper && !state.foreignKey) return;
  const claims = { ...decodeJwt(ctx.body.id_token), ...(state.tamper ?? {}) };
  const header = decodeProtectedHeader(ctx.body.id_token);
  const key = state.foreignKey ? foreignKey : signingKey;
  ctx.body.id_token = await new SignJWT(claims)
    .setProtectedHeader(header)
    .sign(await importJWK(key, "RS256"));
});

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session, grantId } = details;
  if (prompt.name === "login") {
    if (!state.login || !state.accounts[state.login]) {
      const result = { error: "access_denied", error_description: "no test account signs in" };
      return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    }
    return provider.interactionFinished(
      req,
      res,
      { login: { accountId: state.login } },
      { mergeWithLastSubmission: false },
    );
  }
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(" "));
  }
  return provider.interactionFinished(
    req,
    res,
    { consent: { grantId: await grant.save() } },
    { mergeWithLastSubmission: true },
  );
}

async function control(req, res) {
  let body = "";
  for await (const chunk of req) body += chunk;
  state = { ...state, ...JSON.parse(body || "{}") };
  res.writeHead(204).end();
}

const callback = provider.callback();
server.on("request", (req, res) => {
  const handle = req.url === "/_test/state" && req.method === "PUT"
    ? control
    : req.url.startsWith("/interaction/")
      ? interaction
      : null;
  if (!handle) return callback(req, res);
  handle(req, res).catch((error) => {
    console.error(error);
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end(String(error));
  });
});

console.log(`listening ${issuer}`);
