"""Keys and tokens from PyJWT, an implementation independent of Amanah's.

  jose.py keys DIR          writes rsa-1.pem, rsa-2.pem, ec256.pem, ec384.pem,
                            ed25519.pem (private, PKCS#8) and jwks-1.json,
                            jwks-2.json (public; 2 adds rsa-2 and drops rsa-1)
  jose.py mint < specs.json  one token per spec, one per line
     spec: {"alg", "key": path | null, "hmac": secret | null, "kid", "claims", "headers"}
     alg "none" is built by hand (PyJWT refuses to sign it); "confused" signs
     HS256 with the bytes of a public key PEM, the classic algorithm confusion.
"""
import base64
import hashlib
import hmac
import json
import sys

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def write_keys(out):
    keys = {
        "rsa-1": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "rsa-2": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec256": ec.generate_private_key(ec.SECP256R1()),
        "ec384": ec.generate_private_key(ec.SECP384R1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
    }
    jwks = {}
    for kid, key in keys.items():
        with open(f"{out}/{kid}.pem", "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        with open(f"{out}/{kid}.pub.pem", "wb") as f:
            f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
        algo = RSAAlgorithm if kid.startswith("rsa") else ECAlgorithm if kid.startswith("ec") else OKPAlgorithm
        jwk = json.loads(algo.to_jwk(key.public_key()))
        jwk["kid"] = kid
        jwk["use"] = "sig"
        jwks[kid] = jwk
    for name, kids in (("jwks-1", ["rsa-1", "ec256", "ec384", "ed25519"]),
                       ("jwks-2", ["rsa-2", "ec256", "ec384", "ed25519"])):
        with open(f"{out}/{name}.json", "w") as f:
            json.dump({"keys": [jwks[k] for k in kids]}, f)


def mint(spec):
    alg, claims = spec["alg"], spec["claims"]
    headers = dict(spec.get("headers") or {})
    if spec.get("kid"):
        headers["kid"] = spec["kid"]
    if alg == "none":
        head = b64(json.dumps({"alg": "none", "typ": "JWT", **headers}).encode())
        return f"{head}.{b64(json.dumps(claims).encode())}."
    if alg == "confused":
        public_pem = open(spec["key"], "rb").read()
        head = b64(json.dumps({"alg": "HS256", "typ": "JWT", **headers}).encode())
        body = b64(json.dumps(claims).encode())
        sig = hmac.new(public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{b64(sig)}"
    key = spec["hmac"] if spec.get("hmac") else open(spec["key"], "rb").read()
    return jwt.encode(claims, key, algorithm=alg, headers=headers or None)


if __name__ == "__main__":
    if sys.argv[1] == "keys":
        write_keys(sys.argv[2])
    else:
        for spec in json.load(sys.stdin):
            print(mint(spec))
