"""The data directory's storage seam: one small contract (`base.Storage`), one class per backend.

`LocalStorage` (`local.py`) serves local disks and NFS mounts today; an object-store backend is a
new module implementing the same contract and passing the same conformance suite
(`pygestor.testing.storage_suite`). Nothing is imported here.
"""
