"""The data directory's storage seam: one small contract (`base.Storage`), one class per backend.

`LocalStorage` (`local.py`) serves local disks and NFS mounts, `S3Storage` (`s3.py`, with
`s3_parts.py`) S3 buckets on AWS or any S3-compatible server; each implements the same contract
and passes the same conformance suite (`pygestor.testing.storage_suite`). Nothing is imported
here.
"""
