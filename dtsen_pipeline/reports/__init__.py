"""What the kabupaten receives each run: worklists for the tiered verification and a summary report."""
