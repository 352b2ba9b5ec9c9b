"""How a program presents an API key: Basic key id + secret, or a JWT signed with the secret."""

import base64

import jwt


def basic(key_id, secret):
    return {
        "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{key_id}:{secret}".encode()).decode()
    }


def signed(key, secret, alg="HS256", kid=None, **claims):
    token = jwt.encode(
        {"scope": "app", **claims}, secret, algorithm=alg, headers={"kid": kid or key.key_id}
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
