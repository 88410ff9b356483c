"""Keys, signatures and the signed documents of identity (certificates, grants).

Ed25519 through the ``cryptography`` package; nothing here is home-made cryptography. The
layer sits between the domain (standard library only) and the store, server and sync, which
all check signatures with the same code.
"""
