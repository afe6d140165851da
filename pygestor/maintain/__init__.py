"""Maintenance of local data: `remove` (plan, then execute), `updates` (read-only), `verify`
(read-only) and `repair` (rebuild the index from a listing plus a rescan). Each takes the index
(`Store`), the manifest and what else it uses, never the facade; nothing prints. Nothing is
imported here."""
