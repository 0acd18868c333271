"""Delivery: the digest, the mail that carries it, and the Atom export."""
