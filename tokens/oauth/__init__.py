"""OAuth clients (authorization code + PKCE at /o/), the consent page, people's grants and `kw_oat_` tokens."""
