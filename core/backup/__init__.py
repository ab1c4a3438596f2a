"""Backups and restores of tenants (issue 26): the file format (``format``), writing and restoring
(``service``) and the monthly backup sweep (``schedule``). See docs/backups.md."""
