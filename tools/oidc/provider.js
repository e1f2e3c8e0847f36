// A real OpenID provider on loopback for the OIDC sign-in tests: node provider.js <port> <redirect_uri> <users.json>.
// One confidential client (sanctum / sanctum-test-secret), PKCE required, the development login and consent pages
// (any password). Accounts and their groups are read from users.json at every sign-in, so a test can move a user to
// another group between sign-ins. Prints "PORT <n>" once listening.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const [port, redirectUri, usersFile] = process.argv.slice(2);
const users = () => JSON.parse(readFileSync(usersFile, 'utf8'));

const provider = new Provider(`http://localhost:${port}`, {
  clients: [{
    client_id: 'sanctum',
    client_secret: 'sanctum-test-secret',
    redirect_uris: [redirectUri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username', 'name'], groups: ['groups'] },
  // The claims of the granted scopes in the ID token too, not only at userinfo.
  conformIdTokenClaims: false,
  cookies: { keys: ['sanctum-oidc-test-cookie-key'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const user = users()[id];
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: user.email, email_verified: user.email_verified ?? true, preferred_username: id, name: id, groups: user.groups };
      },
    };
  },
});

const server = provider.listen(Number(port), 'localhost', () => console.log(`PORT ${server.address().port}`));
