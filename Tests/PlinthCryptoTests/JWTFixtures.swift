// Test-only RSA and EC public keys with tokens signed by their private keys (discarded).
// Regenerate with this Python 3 script (package `cryptography`), printing this file:
//
// import json, base64
// from cryptography.hazmat.primitives.asymmetric import rsa, ec, padding
// from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
// from cryptography.hazmat.primitives import hashes, serialization
//
// def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
// def enc(o): return b64(json.dumps(o, separators=(",", ":")).encode())
// def pub(k): return k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
//
// rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
// rsa_other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
// rsa_short = rsa.generate_private_key(public_exponent=65537, key_size=1024)
// ec_key = ec.generate_private_key(ec.SECP256R1())
// ec_p384 = ec.generate_private_key(ec.SECP384R1())
// claims = {"iss": "https://idp.example", "sub": "alice", "aud": ["plinth", "other"], "iat": 1700000000, "nbf": 1700000000, "exp": 4102444800}
//
// def rs(header, claims, key):
//     si = (enc(header) + "." + enc(claims)).encode()
//     return si.decode() + "." + b64(key.sign(si, padding.PKCS1v15(), hashes.SHA256()))
//
// def es(header, claims, key, raw=True):
//     si = (enc(header) + "." + enc(claims)).encode()
//     der = key.sign(si, ec.ECDSA(hashes.SHA256()))
//     if not raw: return si.decode() + "." + b64(der)
//     r, s = decode_dss_signature(der)
//     return si.decode() + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
//
// out = {
//  "rsaPublicKeyPEM": pub(rsa_key),
//  "rsaOtherPublicKeyPEM": pub(rsa_other),
//  "rsa1024PublicKeyPEM": pub(rsa_short),
//  "ecPublicKeyPEM": pub(ec_key),
//  "ecP384PublicKeyPEM": pub(ec_p384),
//  "rs256Token": rs({"alg": "RS256", "typ": "JWT", "kid": "rsa1"}, claims, rsa_key),
//  "rs256TokenNoKid": rs({"alg": "RS256", "typ": "JWT"}, claims, rsa_key),
//  "es256Token": es({"alg": "ES256", "typ": "JWT", "kid": "ec1"}, dict(claims, aud="plinth"), ec_key),
//  "es256TokenDERSignature": es({"alg": "ES256", "typ": "JWT", "kid": "ec1"}, dict(claims, aud="plinth"), ec_key, raw=False),
//  "rs256TokenSignedByOtherKey": rs({"alg": "RS256", "typ": "JWT", "kid": "rsa1"}, claims, rsa_other),
// }
// print("// Generated offline by the Python script in the comment above; values are test-only keys.")
// print("enum JWTFixtures {")
// for k, v in out.items():
//     print(f'    static let {k} = """\n{v.rstrip()}\n"""')
// print("}")

// Generated offline by the Python script in the comment above; values are test-only keys.
enum JWTFixtures {
    static let rsaPublicKeyPEM = """
        -----BEGIN PUBLIC KEY-----
        MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAknpi/XwzjbZzwVGv8dIk
        1DkmONQnckCZFX+rW2p9YoidkKh2FGJ7r3oCXKGneXE+zBW4euzw5FC3qSl+TwPE
        PIz6WwwUeZpGLSIYm8jebqqo0AXOVb+96IyNyim/ek5OWCI7z5L0bEUyVRWogkmb
        cZgRFApMmG/asnageIv/uDa+sL+4iQYtFr2n1Wj6mYT9201fCus+C1Gdm20nvDwo
        V2dwiZ95RNmAUUw6hD0XxnfvlkYlkqFrALvu3PymqXko9TiLHrJoNhPKEU+ERWsA
        pYt+zkctBOU4rXzEXwHEE77vuGbECmFvMXdCLwZWP/xaC+dr0b0nnyhuhguK0wno
        vQIDAQAB
        -----END PUBLIC KEY-----
        """
    static let rsaOtherPublicKeyPEM = """
        -----BEGIN PUBLIC KEY-----
        MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAx0cb9erM3cWsK+t5KsW0
        ouWXsRcfYnYUJi3nlM7Bv4qmxo0O3FFoIsW5u9KbaX84BlToqLsI3un7lvRp6xsX
        6Tmd3ca+sfAoOpK3AFQmpUmhLy8HMEgxi/qWG5qIROfQSwLedD1ZTTFG3nNa3A0B
        SeIlyqWnxrl8MCTygZtnuS/rUK12tsrx9kx6kU8W46mUirGFKewCVrbl8zWEVKeD
        hXp3u9hIdtsl7F1k96MrJ+ezoyOtjl+JZgbXMxxrI3Rt/EjyRTTi4XxCoafT5PIx
        PPJVx9S4Kp2yduqL3mnaWC5ohhqaYec9zKvOHi/iRjPFFTP1QRFgEwfOxX00VcHl
        JwIDAQAB
        -----END PUBLIC KEY-----
        """
    static let rsa1024PublicKeyPEM = """
        -----BEGIN PUBLIC KEY-----
        MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCEPUJZmSzFMHs4zpZd8Kn8PWm
        Kx9pvToMHWfgliJKRWUZyzGputfP99vtAX8Uhqrrj/iaufEjiA19Dhpqgh1uaEUE
        7YfAxwT3oZ3CkBpqFAr5sxXBeAQ561hJRmTer1HI82J/YXHtOv5JmQZ5NTUxkmkB
        T8n3fD4PggrgKvRRtQIDAQAB
        -----END PUBLIC KEY-----
        """
    static let ecPublicKeyPEM = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE5NxYpzhlsbAED6aEPySHV0He3syy
        cuIf8rxycHWs4Mzr9l5VdC267eOS31U+9jJtOMmmLrBgpqIVMbputUAmJg==
        -----END PUBLIC KEY-----
        """
    static let ecP384PublicKeyPEM = """
        -----BEGIN PUBLIC KEY-----
        MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE2/AiEwN+p2V6at9snCACySys0rxuTyE2
        akaXfnb3UGyNhqbDWOuNqlzZ7eboCuOMIFeH1N2j0+qvSVRD3TkY0Z7wSmNiElXm
        ibshF7/zncrWuyfHUb/+CuAeKOx4UonK
        -----END PUBLIC KEY-----
        """
    static let rs256Token = """
        eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYTEifQ.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIiwic3ViIjoiYWxpY2UiLCJhdWQiOlsicGxpbnRoIiwib3RoZXIiXSwiaWF0IjoxNzAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0NDgwMH0.MvQrt3XgJ973By02IQ-U9aIwcZv5kUPR1acWCMXUIwfjQNz9grjwkbj1Pi1GDUPTK_ETk_cqe8gEDsZmJT6PAsNOAJ9GF9sSCao156VsUoADAo5lfLkIAo7eG82sMxo4ROl6pQvRveNmkh2xySIxvTrh37HF8E_kGJ7LXBFuQnLouohLyS_1YXy5R1M92_dl3vlB4gZslyzsZ7XuZwdr-ki_TO9pI7YWYGHUk9KXmSyjfcBOBNZ6Ymdrs6JCVFIblfsRwuu_xLTO3blLCKeZeKjP2xrKG0bPBUYUDx07tO3Ah_mlk4b9Z9ykIlBu1X6OeQCB6cKazyEQys0XtJs86g
        """
    static let rs256TokenNoKid = """
        eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIiwic3ViIjoiYWxpY2UiLCJhdWQiOlsicGxpbnRoIiwib3RoZXIiXSwiaWF0IjoxNzAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0NDgwMH0.NmGdI2tmwIIuJuMEHKZccCQQB9YWRCB_HDsyHD9NMS0chaVr2LZ9lyINSKX90lhMGPeuF10tcYkCiLBDsVzSOAoPaxoToG92-pkaWVh9E30Jvz5I2UNhXucqOhmcnYuzwAQWr6FfYDWOyA64ioxkU2yyYbTNMlYtUkBNvxkY8UusHfCyZSg9oTekLPdMyrg5FsQF8JtwbnKbnHZ1LqqaPt7bWAZ4eyeQnpqi2Qm1-S56ZSD99s7wVNQe_AA5NSQMKtHK8_EItEam6Z9bAkzIwt3ex9uQFq2aKHdbbfCXwqYZ00BwCFPqArKb2_BBcKYyNMHH7DL4GRH9O0vWQaWHXA
        """
    static let es256Token = """
        eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIiwic3ViIjoiYWxpY2UiLCJhdWQiOiJwbGludGgiLCJpYXQiOjE3MDAwMDAwMDAsIm5iZiI6MTcwMDAwMDAwMCwiZXhwIjo0MTAyNDQ0ODAwfQ.qEJ_SuQ760OqkHdfCUV3VQVXiW0RKZz9z0nb7YQJQlcsJowD7WHZtyrlU2GaJZjtHBTQA2x9KwxuGS5ud7eUxQ
        """
    static let es256TokenDERSignature = """
        eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIiwic3ViIjoiYWxpY2UiLCJhdWQiOiJwbGludGgiLCJpYXQiOjE3MDAwMDAwMDAsIm5iZiI6MTcwMDAwMDAwMCwiZXhwIjo0MTAyNDQ0ODAwfQ.MEUCIQCHOWtPB9Ed68fhqmMyzTqT9HITz-EyQdP8sL6JXoUUswIgNwn_YrqJBIJ6JW2o8iwj2ypOqqqHMEAfAtg8wvMTxZo
        """
    static let rs256TokenSignedByOtherKey = """
        eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYTEifQ.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIiwic3ViIjoiYWxpY2UiLCJhdWQiOlsicGxpbnRoIiwib3RoZXIiXSwiaWF0IjoxNzAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0NDgwMH0.WjtM4vzftNv6kN3yqWXSZX_K5dlxg7ujMJSOSQ_bGRwKIg2tTf3PsKcSxqCdpQNQGgOLjMUyys8ufr7I3SLN5P0TsdCoUy5Z8TB7GtU2ET0UjZt8F6SDQeX8a_JBBCwOGCV8doz5ProPvkD3nRxnhzuOuzSjj8wCLeg0E6F6MH9DLqAfgYXpPJNMo-hUDemLxoNvCoA7wqSUFsMNJFNKXpVuT2auASSm2HocFtN4OD7eZP3o0N46BPHlxtfUK807bxLXpVGkMO4Uc98RK7mSUKZF4ZwYZw8S16a_TqDWap69uSnMpycTtG5jLqP4JeKY6hCAbS9ovIxdvjI0jN9kpw
        """
}
