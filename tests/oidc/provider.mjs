// The OpenID Connect provider the company sign-in tests run against: panva's oidc-provider,
// a certified OpenID Provider implementation, configured here and nothing more. The test
// (tests/api/oidc.rs) starts one per case with:
//   PORT      where to listen on 127.0.0.1
//   ISSUER    the issuer it names (the tests vary it to check that a wrong one is refused)
//   CLIENTS   JSON array of registered clients
//   SKEW_SECONDS  optional: run this provider's clock off by that much (expired tokens)
// People are signed in by the `login_hint` of the authorization request, as a company SSO
// does for someone already signed in to it, so no login form is filled in: every protocol
// step (authorization, PKCE, code, token, ID token signing, discovery, keys) is the
// provider's own. An email's first part chooses its claims: `staff…` is in the group
// `conflicto-organizers`, `unverified…` has an unverified email.
import Provider from 'oidc-provider';

const { PORT, ISSUER, CLIENTS, SKEW_SECONDS } = process.env;
if (SKEW_SECONDS) {
  const real = Date.now;
  Date.now = () => real() + Number(SKEW_SECONDS) * 1000;
}

const provider = new Provider(ISSUER, {
  clients: JSON.parse(CLIENTS),
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile'],
  claims: { openid: ['sub'], email: ['email', 'email_verified', 'groups'], profile: ['name'] },
  features: { devInteractions: { enabled: false } },
  // The ID token carries the email and groups, as company providers send them.
  conformIdTokenClaims: false,
  cookies: { keys: ['conflicto-test-provider-only'] },
  // ID tokens last 10 minutes; the browser's cookies a day, so that a clock run hours off
  // (SKEW_SECONDS) still lets the browser through and only the tokens come out expired.
  ttl: { IdToken: 600, AccessToken: 600, AuthorizationCode: 60, Grant: 86400, Interaction: 86400, Session: 86400 },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: id,
          email_verified: !id.startsWith('unverified'),
          name: id.split('@')[0],
          groups: id.startsWith('staff') ? ['conflicto-organizers'] : ['everyone'],
        };
      },
    };
  },
  // A first-party client: consent is given with the sign-in.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});

provider.use(async (ctx, next) => {
  const found = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (ctx.method === 'GET' && found) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const accountId = details.params.login_hint || 'staff@corp.example';
    ctx.respond = false;
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId } }, { mergeWithLastSubmission: false });
    return;
  }
  await next();
});

provider.listen(Number(PORT), '127.0.0.1', () => {
  console.log(`listening ${ISSUER}`);
});
