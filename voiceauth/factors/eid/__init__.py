"""Strong eID in a call: OpenID Connect CIBA (e.g. MitID through a broker) and BankID RP API v6.

`ciba` and `bankid` speak to the providers; `idtoken` verifies CIBA ID tokens; `outcome` is
the shared result vocabulary.
"""
