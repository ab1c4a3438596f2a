"""Customer records: the tenant-aware core every vertical builds on."""
