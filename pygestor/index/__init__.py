"""The index of a data directory: its layout (`store`), what is recorded (`records`), which
partitions a call means and their states (`selection`), the listings shown (`views`), and the
hashes that say a file is what was listed (`digest`). Nothing is imported here."""
