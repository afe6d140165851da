"""The storage conformance suite on S3Storage, against two real S3 servers on loopback:
SeaweedFS (`weed mini`) and moto. Object stores have no links and their folders are key
prefixes, so the suite's common part and `PrefixFolderSuite` apply, nothing is skipped."""

from __future__ import annotations

import pytest

from conftest import s3_prefix
from pygestor.storage.s3 import S3Storage
from pygestor.testing.s3 import MotoS3, SeaweedS3
from pygestor.testing.storage_suite import PrefixFolderSuite, StorageSuite


class TestSeaweedFS(StorageSuite, PrefixFolderSuite):
    @pytest.fixture
    def storage(self, seaweed: SeaweedS3) -> S3Storage:
        return S3Storage(s3_prefix(seaweed), storage_options=seaweed.options())


class TestMoto(StorageSuite, PrefixFolderSuite):
    @pytest.fixture
    def storage(self, moto_s3: MotoS3) -> S3Storage:
        return S3Storage(s3_prefix(moto_s3), storage_options=moto_s3.options())
