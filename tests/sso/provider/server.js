// A real OpenID Connect provider for Alliance's single sign-on tests (tests/sso).
//
// One process serves two independent providers, each with its own issuer, signing keys and
// sessions, so the tests can prove that an account is linked only through its own
// organisation's provider:
//
//   node server.js PORT_A PORT_B
//
// serves http://127.0.0.1:PORT_A and http://127.0.0.1:PORT_B. The clients (the same list on
// both providers) come from the OIDC_CLIENTS environment variable, a JSON list of
//   {client_id, client_secret, redirect_prefix, id_token_signed_response_alg?, id_token_ttl?}
// A client may use any redirect URI that starts with its redirect_prefix: the tests do not
// know the organisations' ids (and so the callback paths) when the provider starts.
//
// Sign-in uses the package's built-in development form (devInteractions): whatever login is
// typed there names one of ACCOUNTS below. Consent is taken as given (first-party clients).

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const ACCOUNTS = {
  ada: {
    email: 'ada@x.example',
    email_verified: true,
    preferred_username: 'ada',
    name: 'Ada Lovelace',
  },
  // Has the same address as a local account of another organisation in the tests.
  bob: {
    email: 'bob@y.example',
    email_verified: true,
    preferred_username: 'bob',
    name: 'Bob Other',
  },
  // Her provider does not vouch for her address.
  una: {
    email: 'una@x.example',
    email_verified: false,
    preferred_username: 'una',
    name: 'Una Verified-Not',
  },
  yan: {
    email: 'yan@y.example',
    email_verified: true,
    preferred_username: 'yan',
    name: 'Yan Why',
  },
};

function account(sub) {
  const claims = ACCOUNTS[sub];
  if (!claims) return undefined;
  return {
    accountId: sub,
    async claims() {
      return { sub, ...claims };
    },
  };
}

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };
}

const clients = JSON.parse(process.env.OIDC_CLIENTS || '[]');
const prefixes = new Map(clients.map((client) => [client.client_id, client.redirect_prefix]));
const idTokenTtl = new Map(clients.map((client) => [client.client_id, client.id_token_ttl]));

function provider(port) {
  const issuer = `http://127.0.0.1:${port}`;
  const oidc = new Provider(issuer, {
    clients: clients.map((client) => ({
      client_id: client.client_id,
      client_secret: client.client_secret,
      // Required metadata; which redirect URIs are allowed is decided by redirect_prefix below.
      redirect_uris: ['http://localhost/'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: client.id_token_signed_response_alg || 'RS256',
    })),
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomUUID()] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'HS256'] },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    findAccount: (ctx, sub) => account(sub),
    ttl: {
      IdToken: (ctx, token, client) => idTokenTtl.get(client.clientId) || 3600,
    },
    async loadExistingGrant(ctx) {
      // First-party clients: consent to what was asked, without a consent page.
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
      await grant.save();
      return grant;
    },
  });
  oidc.Client.prototype.redirectUriAllowed = function redirectUriAllowed(uri) {
    const prefix = prefixes.get(this.clientId);
    return Boolean(prefix) && uri.startsWith(prefix);
  };
  createServer(oidc.callback()).listen(port, '127.0.0.1', () => {
    console.log(`oidc-provider ${issuer} ready`);
  });
}

const ports = process.argv.slice(2).map(Number);
if (ports.length === 0 || ports.some((port) => !Number.isInteger(port) || port <= 0)) {
  console.error('usage: node server.js PORT [PORT...]');
  process.exit(2);
}
ports.forEach(provider);
