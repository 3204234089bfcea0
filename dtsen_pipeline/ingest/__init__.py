"""Reading agency deliveries: feed declarations, file readers, raw records and staging."""
