"""The province step: people linked across the regencies of one deployment (movers)."""
