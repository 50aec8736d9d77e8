// A real OpenID CIBA provider (the npm package oidc-provider) for voiceauth's eID tests.
//
// Runs on loopback only. Configuration comes from the environment the test sets:
//   PORT              the port to listen on (the issuer is http://127.0.0.1:PORT)
//   CLIENT_SECRET     the secret of the client_secret_basic clients
//   CLIENT_JWKS       public JWK Set (JSON) of the private_key_jwt client, optional
//   PING_ENDPOINT     https URL of the ping client's notification endpoint, optional
//   ACCOUNTS          JSON {login_hint: sub}: the users the provider knows
//   INTERVAL          the poll interval (s) announced in backchannel responses, default 1
//
// Clients: "voiceauth" (poll, client_secret_basic), "voiceauth-ping" (ping,
// client_secret_basic; when PING_ENDPOINT is set), "voiceauth-jwt" (poll, private_key_jwt;
// when CLIENT_JWKS is set).
//
// The test plays the end user's authentication device through /admin (JSON bodies naming an
// auth_req_id, or a sub whose latest pending request is meant):
//   POST /admin/approve, POST /admin/deny, POST /admin/slow_down (next poll answers slow_down),
//   GET /admin/requests/<auth_req_id> (binding message, login hint, poll times in ms),
//   GET /admin/pending?sub=<sub> (the latest open request of that user).
// The provider itself never answers slow_down for CIBA; this harness does, as providers may
// (CIBA Core 1.0 §11 refers to RFC 8628 §3.5), when asked to or when a client polls sooner
// than the interval it was given.
import crypto from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) {
  console.error('PORT must be set to a free TCP port');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const secret = process.env.CLIENT_SECRET ?? 'voiceauth-test-secret';
const accounts = JSON.parse(process.env.ACCOUNTS ?? '{}');
const interval = Number(process.env.INTERVAL ?? '1');
const SLOW_DOWN_STEP_S = 5; // RFC 8628 §3.5: "increased by 5 seconds"

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'harness-rs256', use: 'sig' };

const clients = [
  {
    client_id: 'voiceauth',
    client_secret: secret,
    grant_types: ['urn:openid:params:grant-type:ciba'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    backchannel_token_delivery_mode: 'poll',
  },
];
if (process.env.PING_ENDPOINT) {
  clients.push({
    ...clients[0],
    client_id: 'voiceauth-ping',
    backchannel_token_delivery_mode: 'ping',
    backchannel_client_notification_endpoint: process.env.PING_ENDPOINT,
  });
}
if (process.env.CLIENT_JWKS) {
  clients.push({
    client_id: 'voiceauth-jwt',
    grant_types: ['urn:openid:params:grant-type:ciba'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: JSON.parse(process.env.CLIENT_JWKS),
    backchannel_token_delivery_mode: 'poll',
  });
}

// auth_req_id -> { sub, loginHint, bindingMessage, polls: [ms], interval, slowDownNext, open }
const requests = new Map();

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey] },
  features: {
    devInteractions: { enabled: false },
    ciba: {
      enabled: true,
      deliveryModes: ['poll', 'ping'],
      processLoginHint: async (_ctx, loginHint) => accounts[loginHint],
      processLoginHintToken: async () => undefined,
      validateRequestContext: async () => {},
      verifyUserCode: async () => {},
      triggerAuthenticationDevice: async (_ctx, request, account) => {
        requests.set(request.jti, {
          sub: account.accountId,
          loginHint: request.params.login_hint,
          bindingMessage: request.params.binding_message ?? null,
          polls: [],
          interval,
          slowDownNext: false,
          open: true,
        });
      },
    },
  },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  ttl: {
    BackchannelAuthenticationRequest: (ctx) =>
      Math.min(600, Number(ctx?.oidc?.params.requested_expiry ?? 120)),
  },
  // The SSRF guard refuses loopback addresses; this harness pings a client on loopback.
  fetch: (url, { dispatcher: _guard, ...options }) => globalThis.fetch(url, options),
});

function resolve(body) {
  if (body.auth_req_id) {
    return requests.has(body.auth_req_id) ? body.auth_req_id : undefined;
  }
  let found;
  for (const [id, entry] of requests) {
    if (entry.open && entry.sub === body.sub) found = id;
  }
  return found;
}

async function readJson(ctx) {
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

async function admin(ctx) {
  const [, , action, id] = ctx.path.split('/');
  if (ctx.method === 'GET' && action === 'requests' && requests.has(id)) {
    ctx.body = requests.get(id);
    return;
  }
  if (ctx.method === 'GET' && action === 'pending') {
    const pending = resolve({ sub: ctx.query.sub });
    ctx.status = pending ? 200 : 404;
    ctx.body = pending ? { auth_req_id: pending } : { error: 'no such pending request' };
    return;
  }
  if (ctx.method !== 'POST') {
    ctx.status = 404;
    return;
  }
  const body = await readJson(ctx);
  const requestId = resolve(body);
  if (!requestId) {
    ctx.status = 404;
    ctx.body = { error: 'no such pending request' };
    return;
  }
  const entry = requests.get(requestId);
  if (action === 'slow_down') {
    entry.slowDownNext = true;
  } else if (action === 'approve') {
    const request = await provider.BackchannelAuthenticationRequest.find(requestId, {
      ignoreExpiration: true,
    });
    const grant = new provider.Grant({ accountId: request.accountId, clientId: request.clientId });
    grant.addOIDCScope(request.scope);
    await grant.save();
    entry.open = false;
    await provider.backchannelResult(request, grant, {
      authTime: Math.floor(Date.now() / 1000),
      acr: 'urn:voiceauth:test:substantial',
      amr: ['pop'],
    });
  } else if (action === 'deny') {
    entry.open = false;
    await provider.backchannelResult(requestId, new errors.AccessDenied('end-user denied'));
  } else {
    ctx.status = 404;
    return;
  }
  ctx.body = { auth_req_id: requestId };
}

provider.use(async (ctx, next) => {
  if (ctx.path.startsWith('/admin/')) {
    await admin(ctx);
    return;
  }
  await next();
  if (ctx.path === '/backchannel' && ctx.status === 200 && ctx.body?.auth_req_id) {
    ctx.body = { ...ctx.body, interval };
  }
  const id = ctx.oidc?.params?.auth_req_id;
  if (ctx.path !== '/token' || !requests.has(id)) return;
  const entry = requests.get(id);
  const now = Date.now();
  const last = entry.polls.at(-1);
  entry.polls.push(now);
  const early = last !== undefined && now - last < entry.interval * 1000 - 250;
  if (ctx.body?.error === 'authorization_pending' && (entry.slowDownNext || early)) {
    entry.slowDownNext = false;
    entry.interval += SLOW_DOWN_STEP_S;
    ctx.body = { error: 'slow_down', error_description: 'poll less often' };
  }
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
