"""Login tokens and sessions: a person's email and password buy a JWT access token and a
`kw_rt_` refresh token (web1on1's flow and Qiscus's sessions, built to RFC 6749/6750/9700).

A *session* is one refresh-token family: it starts at login, every refresh rotates it
(new pair, old pair dead), and it ends at logout, revoke, revoke-all, a password change
that asks for it, reuse of a rotated refresh token, or 30 days without a refresh.

- `services`: log in, refresh, log out, revoke, revoke all, end sessions, change the password
- `minting`: pairs minted through django-oauth-toolkit's server, with our own generators
- `signing_keys`: the Ed25519 keys that sign the JWTs (rotated with lead time), and the public JWK set
- (the throttle that guards logins is `accounts.throttle`, shared with every door that takes a secret)
- `sessions`: which sessions are live, and how one reads in a list
- `api` + `api_urls` (/api/v1/auth/…), `views` + `forms` + `urls` (portal pages, JWKS)

A login token authenticates like every AccessToken row, by its digest
(tokens.bearer.authentication): nothing here is on the bearer path.
"""
