"""Probabilistic record linkage of persons across feeds with Splink 5."""
