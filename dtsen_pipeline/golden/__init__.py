"""Golden tables: SQL models in `dbt_like_sql/` and the rules behind them."""
